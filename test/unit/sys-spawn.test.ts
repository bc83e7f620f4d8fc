// lib/sys/spawn.ts: programs run through posix_spawn on a pool thread (native/spawn.c), with a
// stdin pipe we write, stdout and stderr pipes we read, and the exit status; real processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNative } from '../../src/lib/sys/native';
import { runProgram } from '../../src/lib/sys/spawn';

test('runProgram: input on stdin, both outputs, the exit status; found on PATH', async () => {
  const r = await runProgram('sh', ['-c', 'tr a-z A-Z; echo oops >&2; exit 3'], 'hello\n');
  assert.deepEqual(r, { code: 3, stdout: 'HELLO\n', stderr: 'oops\n' });
  const big = 'x'.repeat(1 << 20);
  const w = await runProgram('wc', ['-c'], big);
  assert.equal(w.stdout.trim(), String(big.length), 'a megabyte of input arrives whole');
});

test('runProgram: without input stdin is /dev/null; a signal is 128+signo; a missing program is ENOENT', async () => {
  assert.deepEqual(await runProgram('cat', []), { code: 0, stdout: '', stderr: '' });
  assert.equal((await runProgram('sh', ['-c', 'kill -TERM $$'])).code, 128 + 15);
  await assert.rejects(runProgram('no-such-program-berth', []), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  await assert.rejects(runProgram('/no/such/file', []), /ENOENT/);
});

test('spawnDetachedAsync: bad arguments are a TypeError at the call, as spawnDetached', () => {
  const n = loadNative();
  assert.throws(() => n.spawnDetachedAsync('/bin/true', ['true', 'a\0b'], [], '/', []), TypeError);
  assert.throws(() => n.spawnDetached('/bin/true', ['true'], [], '/', new Array(17).fill(-1)), TypeError);
});
