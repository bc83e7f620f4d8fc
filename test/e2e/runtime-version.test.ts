// The runc fast paths (start through the exec fifo, delete of a stopped container by removing
// runc's state dir) follow runc 1.1's internals: a runtime that says another version gets the
// plain `runc start` / `runc delete`. Two wrappers of the real runc, registered in daemon.json,
// log every subcommand they are given; one reports runc 1.2.0 for --version, one passes it on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseRuncVersion } from '../../src/runtime/runc';
import { fastPathsEnabled } from '../../src/runtime/fastpaths';
import { TestDaemon } from '../helpers/daemon';

// scripts/test.js runs this file a second time with BERTH_RUNTIME_FAST_PATHS=0: then even runc 1.1
// gets the CLI, and no version is probed
const fastPathsOff = !fastPathsEnabled();
const RUNC = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
let d: TestDaemon;

/** A wrapper named `runc` (so only its version tells it apart) that logs its argv to `<dir>/calls`. */
function wrapper(dir: string, version?: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'runc');
  const fake = version ? `if [ "$1" = --version ]; then echo "runc version ${version}"; echo "spec: 1.2.0"; exit 0; fi\n` : '';
  fs.writeFileSync(bin, `#!/bin/sh\necho "$*" >> ${path.join(dir, 'calls')}\n${fake}exec ${RUNC} "$@"\n`, { mode: 0o755 });
  return bin;
}

const calls = (name: string) => fs.readFileSync(path.join(d.root, name, 'calls'), 'utf8');

before(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  d = new TestDaemon(root);
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({
    'cgroup-parent': `/berth-test-${path.basename(root)}`,
    runtimes: { 'runc-next': { path: wrapper(path.join(root, 'next'), '1.2.0') }, 'runc-same': { path: wrapper(path.join(root, 'same')) } },
  }));
  await d.start();
  await d.ensureBusybox();
});
after(async () => { await d?.stop(); });

/** run -d, exec, stop, start, kill, rm: every step that starts or deletes a task. */
async function lifecycle(runtime: string): Promise<string> {
  const docker = async (...args: string[]) => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const id = await docker('run', '-d', '--runtime', runtime, 'busybox', 'sleep', '1000');
  assert.equal(await docker('exec', id, 'echo', 'hi'), 'hi');
  await docker('stop', '-t', '0', id);
  await docker('start', id);
  assert.equal(await docker('inspect', '-f', '{{.State.Running}} {{.HostConfig.Runtime}}', id), `true ${runtime}`);
  await docker('kill', id);
  await docker('wait', id);
  await docker('rm', id);
  return id;
}

test('runc --version parsing', () => {
  assert.deepEqual(parseRuncVersion('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n'), [1, 1, 5]);
  assert.deepEqual(parseRuncVersion('runc version 1.2.0-rc.1\n'), [1, 2, 0]);
  assert.equal(parseRuncVersion('crun version 1.8.1\ncommit: abc\n'), undefined);
  assert.equal(parseRuncVersion(''), undefined);
});

test('a runc that reports 1.2.0 gets the plain runc start and runc delete', async () => {
  const id = await lifecycle('runc-next');
  const log = calls('next');
  // once per daemon: the version is probed for the binary, not per container or per start
  assert.equal(log.match(/^--version$/gm)?.length, fastPathsOff ? undefined : 1, log);
  assert.match(log, new RegExp(` create .*${id}$`, 'm'));
  assert.equal(log.match(new RegExp(` start ${id}$`, 'gm'))?.length, 2, log);
  assert.match(log, new RegExp(` delete (--force )?${id}$`, 'm'));
});

test(`the same wrapper passing on runc 1.1's --version gets ${fastPathsOff ? 'the plain start (fast paths off)' : 'the fast start (the version decides)'}`, async () => {
  const id = await lifecycle('runc-same');
  const log = calls('same');
  assert.match(log, new RegExp(` create .*${id}$`, 'm'));
  if (fastPathsOff) {
    assert.equal(log.match(new RegExp(` start ${id}$`, 'gm'))?.length, 2, log);
  } else {
    assert.equal(log.match(/^--version$/gm)?.length, 1, log);
    assert.doesNotMatch(log, new RegExp(` start ${id}$`, 'm'));
  }
});
