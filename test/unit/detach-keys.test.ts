// Detach keys: Docker's key syntax and the scanner that watches a TTY's stdin for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DetachKeyScanner, attachDetachKeys, execDetachKeys, parseDetachKeys } from '../../src/engine/containers/detachKeys';

test('key syntax: Docker\'s ctrl names, single characters, DEL, comma separated', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 1, 26, 27, 28, 29, 30, 31]);
  assert.deepEqual([...parseDetachKeys('a,b,ctrl-x,x,DEL')], [0x61, 0x62, 0x18, 0x78, 127]);
  for (const bad of ['ctrl-P', 'ctrl-', 'ab', 'ctrl-1', 'a,,b', 'shift-a', '']) assert.throws(() => parseDetachKeys(bad), /^Error: Unknown character: '/, bad);
  assert.deepEqual([...attachDetachKeys('')], [0x10, 0x11], 'empty: the default');
  assert.deepEqual([...attachDetachKeys(null)], [0x10, 0x11]);
  assert.throws(() => attachDetachKeys('ctrl-P'), /^InvalidParameterError: Invalid detach keys \(ctrl-P\) provided$/);
  assert.throws(() => execDetachKeys('nope'), /^InvalidParameterError: Invalid escape keys \(nope\) provided$/);
});

function feed(keys: string, chunks: string[]): { forwarded: string; detachedAt: number } {
  const s = new DetachKeyScanner(Buffer.from(keys, 'latin1'));
  let forwarded = '';
  let detachedAt = -1;
  chunks.forEach((c, i) => {
    const r = s.push(Buffer.from(c, 'latin1'));
    forwarded += r.forward.toString('latin1');
    if (r.detach && detachedAt < 0) detachedAt = i;
  });
  return { forwarded, detachedAt };
}

test('scanner: the sequence detaches wherever it falls, and is never forwarded', () => {
  assert.deepEqual(feed('\x10\x11', ['ls\r', '\x10', '\x11']), { forwarded: 'ls\r', detachedAt: 2 });
  assert.deepEqual(feed('\x10\x11', ['ab\x10\x11cd']), { forwarded: 'ab', detachedAt: 0 });
  assert.deepEqual(feed('\x10\x11', ['a\x10', '\x11', 'after']), { forwarded: 'a', detachedAt: 1 });
  // a repeated first key: the first is forwarded, the second starts the sequence
  assert.deepEqual(feed('\x10\x11', ['\x10\x10\x11']), { forwarded: '\x10', detachedAt: 0 });
  // a broken prefix is forwarded as typed, in order
  assert.deepEqual(feed('\x10\x11', ['\x10', 'x', 'y']), { forwarded: '\x10xy', detachedAt: -1 });
  assert.deepEqual(feed('abc', ['ab', 'ab', 'c']), { forwarded: 'ab', detachedAt: 2 });
  assert.deepEqual(feed('x', ['12x3']), { forwarded: '12', detachedAt: 0 });
});

test('scanner: held bytes come out at the end of stdin', () => {
  const s = new DetachKeyScanner(Buffer.from([0x10, 0x11]));
  assert.equal(s.push(Buffer.from('a\x10')).forward.toString(), 'a');
  assert.deepEqual([...s.flush()], [0x10]);
});
