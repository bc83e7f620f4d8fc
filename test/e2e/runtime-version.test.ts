// The runc fast paths (start through the exec fifo, delete of a stopped container by removing
// runc's state dir) follow runc 1.1's internals: a runtime that says another version gets the
// plain `runc start` / `runc delete`. Two wrappers of the real runc, registered in daemon.json,
// log every subcommand they are given; one reports runc 1.2.0 for --version, one passes it on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { parseRuncVersion } from '../../src/runtime/runc';
import { fastPathsEnabled } from '../../src/runtime/fastpaths';
import { startWrappedDaemon, type WrappedDaemon } from '../helpers/runtimeWrappers';

// scripts/test.js runs this file a second time with BERTH_RUNTIME_FAST_PATHS=0: then even runc 1.1
// gets the CLI; the version is still asked once (the seccomp hand-over reads it too)
const fastPathsOff = !fastPathsEnabled();
const RUNC = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
let w: WrappedDaemon;

before(async () => { w = await startWrappedDaemon('runc', RUNC, 'runc version 1.2.0\nspec: 1.2.0'); });
after(async () => { await w?.d.stop(); });

test('runc --version parsing', () => {
  assert.deepEqual(parseRuncVersion('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n'), [1, 1, 5]);
  assert.deepEqual(parseRuncVersion('runc version 1.2.0-rc.1\n'), [1, 2, 0]);
  assert.equal(parseRuncVersion('crun version 1.8.1\ncommit: abc\n'), undefined);
  assert.equal(parseRuncVersion(''), undefined);
});

test('a runc that reports 1.2.0 gets the plain runc start and runc delete', async () => {
  const id = await w.lifecycle('runc-next');
  const log = w.calls('next');
  // once per daemon: the version is probed for the binary, not per container or per start
  assert.equal(log.match(/^--version$/gm)?.length, 1, log);
  assert.match(log, new RegExp(` create .*${id}$`, 'm'));
  assert.equal(log.match(new RegExp(` start ${id}$`, 'gm'))?.length, 2, log);
  assert.match(log, new RegExp(` delete (--force )?${id}$`, 'm'));
});

test(`the same wrapper passing on runc 1.1's --version gets ${fastPathsOff ? 'the plain start (fast paths off)' : 'the fast start (the version decides)'}`, async () => {
  const id = await w.lifecycle('runc-same');
  const log = w.calls('same');
  assert.match(log, new RegExp(` create .*${id}$`, 'm'));
  if (fastPathsOff) {
    assert.equal(log.match(new RegExp(` start ${id}$`, 'gm'))?.length, 2, log);
  } else {
    assert.equal(log.match(/^--version$/gm)?.length, 1, log);
    assert.doesNotMatch(log, new RegExp(` start ${id}$`, 'm'));
  }
});
