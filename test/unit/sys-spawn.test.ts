// lib/sys/spawn.ts: programs run through posix_spawn on a pool thread (native/spawn.c), with a
// stdin pipe we write, stdout and stderr pipes we read, and the exit status; real processes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MNT_DETACH, umount2 } from '../../src/lib/sys/mount';
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

test('runProgram in a network namespace: made and bound at a file, joined later; the daemon\'s own is untouched', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-spawn-'));
  const ns = path.join(dir, 'ns');
  fs.writeFileSync(ns, '');
  const ours = fs.readlinkSync('/proc/self/ns/net');
  try {
    const made = await runProgram('ip', ['-batch', '-'], 'link set dev lo up\n', { path: ns, create: true });
    assert.equal(made.code, 0, made.stderr);
    assert.notEqual(`net:[${fs.statSync(ns).ino}]`, ours, 'a namespace of its own is bound at the file');
    const inside = await runProgram('sh', ['-c', 'readlink /proc/self/ns/net; ip -o link'], undefined, { path: ns });
    assert.equal(inside.stdout.split('\n')[0], `net:[${fs.statSync(ns).ino}]`);
    assert.match(inside.stdout, /^\d+: lo: <LOOPBACK,UP,LOWER_UP>/m, 'the first batch ran inside it');
    assert.doesNotMatch(inside.stdout, /^\d+: (?!lo:)/m, 'no other device: not the host\'s');
    // The pool threads that spawned stay in the daemon's namespace.
    for (let i = 0; i < 8; i++) assert.equal((await runProgram('readlink', ['/proc/self/ns/net'])).stdout.trim(), ours);
    await assert.rejects(runProgram('true', [], undefined, { path: path.join(dir, 'missing') }), /ENOENT/);
    const spawnSync = loadNative().spawnDetached as (...a: unknown[]) => number[];
    assert.throws(() => spawnSync('/bin/true', ['true'], [], '/', [], ns), TypeError, 'the JS thread never changes namespace');
  } finally {
    try { umount2(ns, MNT_DETACH); } catch { /* not bound */ }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
