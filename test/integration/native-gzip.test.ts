// native/gzip.c: what it writes is one gzip stream of the input (zlib and gzip(1) read it),
// with the sha256 and size it reports; stretches deflate cannot shrink are stored, so random
// bytes cost at most a little over their size, while compressible stretches are deflated.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import * as zlib from 'node:zlib';
import { gzipFd } from '../../src/lib/sys/gzip';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bgz-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function gzipOf(data: Buffer, level = 1): Promise<{ out: Buffer; digest: string; size: number; inBytes: number }> {
  const src = path.join(dir, 'in');
  const dst = path.join(dir, 'out.gz');
  fs.writeFileSync(src, data);
  fs.rmSync(dst, { force: true });
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(dst, 'wx');
  try {
    const r = await gzipFd(s, d, level);
    return { out: fs.readFileSync(dst), ...r };
  } finally {
    fs.closeSync(s);
    fs.closeSync(d);
  }
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('mixed random and compressible stretches: one valid gzip stream, reported digest and size', async () => {
  const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(5 << 20, 7), randomBytes(20 << 20), Buffer.from('x'.repeat(300_000)), randomBytes(12345)]);
  const r = await gzipOf(data);
  assert.equal(r.inBytes, data.length);
  assert.equal(r.size, r.out.length);
  assert.equal(r.digest, sha(r.out));
  assert.ok(zlib.gunzipSync(r.out).equals(data), 'zlib reads back the input');
  const viaTool = execFileSync('gzip', ['-dc', path.join(dir, 'out.gz')], { maxBuffer: 64 << 20 });
  assert.ok(viaTool.equals(data), 'gzip(1) reads back the input');
  assert.ok(r.size < data.length - (4 << 20), `the zeros were deflated: ${r.size} of ${data.length}`);
  assert.ok(r.size < data.length * 1.001 + 65536, 'the random bytes cost little more than their size');
});

test('all random: at most a little over the input; level 0 and empty input work too', async () => {
  const data = randomBytes(8 << 20);
  const r = await gzipOf(data, 6);
  assert.ok(zlib.gunzipSync(r.out).equals(data));
  assert.ok(r.size <= data.length * 1.001 + 1024, `${r.size} for ${data.length}`);
  const stored = await gzipOf(Buffer.alloc(100_000, 1), 0);
  assert.ok(zlib.gunzipSync(stored.out).equals(Buffer.alloc(100_000, 1)));
  const empty = await gzipOf(Buffer.alloc(0));
  assert.equal(zlib.gunzipSync(empty.out).length, 0);
  assert.equal(empty.digest, sha(empty.out));
});
