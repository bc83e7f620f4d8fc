import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { encodeFrame, FrameDecoder, JsonLineDecoder, jsonLines, pipeOutput } from '../../src/client/stream';

test('decoder handles frames split at every byte', () => {
  const bytes = Buffer.concat([encodeFrame(2, 'done\n'), encodeFrame(1, 'hello\nworld\n'), encodeFrame(1, '')]);
  for (let size = 1; size <= bytes.length; size++) {
    const dec = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < bytes.length; i += size) frames.push(...dec.push(bytes.subarray(i, i + size)));
    assert.equal(frames.length, 3, `chunk size ${size}`);
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[2, 'done\n'], [1, 'hello\nworld\n'], [1, '']]);
    assert.equal(dec.pending, 0);
  }
});

test('captured frame bytes', () => {
  const dec = new FrameDecoder();
  const f = dec.push(Buffer.from([1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]));
  assert.equal(f.length, 1);
  assert.equal(f[0].stream, 1);
  assert.equal(f[0].payload.toString(), 'hi\n');
});

function sink(): { w: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
  return { w, text: () => Buffer.concat(chunks).toString() };
}

test('pipeOutput demultiplexes to stdout/stderr', async () => {
  const src = new PassThrough();
  const out = sink(), err = sink();
  const p = pipeOutput(src, out.w, err.w, false);
  const all = Buffer.concat([encodeFrame(1, 'line 1\n'), encodeFrame(2, 'err 1\n'), encodeFrame(1, 'line 2\n')]);
  src.write(all.subarray(0, 5));
  src.write(all.subarray(5, 17));
  src.end(all.subarray(17));
  await p;
  assert.equal(out.text(), 'line 1\nline 2\n');
  assert.equal(err.text(), 'err 1\n');
});

test('pipeOutput copies raw TTY streams', async () => {
  const src = new PassThrough();
  const out = sink(), err = sink();
  const p = pipeOutput(src, out.w, err.w, true);
  src.end(Buffer.from('\x01\x00raw\r\n'));
  await p;
  assert.equal(out.text(), '\x01\x00raw\r\n');
  assert.equal(err.text(), '');
});

test('JSON lines with \\n and \\r\\n, split anywhere', async () => {
  const text = '{"status":"a"}\r\n{"stream":"Loaded image: x\\n"}\r\n{"a":1}\n';
  const dec = new JsonLineDecoder();
  const got: unknown[] = [];
  for (const ch of text) got.push(...dec.push(ch));
  got.push(...dec.end());
  assert.deepEqual(got, [{ status: 'a' }, { stream: 'Loaded image: x\n' }, { a: 1 }]);
  const src = new PassThrough();
  src.write('{"x":1}\r');
  src.end('\n{"y":2}');
  const vals = [];
  for await (const v of jsonLines(src)) vals.push(v);
  assert.deepEqual(vals, [{ x: 1 }, { y: 2 }]);
});
