// crun as berth's default runtime, runc beside it. crun 1.8's fast paths (start through the
// exec fifo, delete of a stopped container, kill of a live init: src/runtime/crun.ts) replace
// `crun start`, `crun delete` and `crun kill`; a crun that says another version gets the CLI.
// Two wrappers of the real crun, named crun and registered in daemon.json, log every
// subcommand they are given; one reports crun 1.9.0 for --version, one passes it on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseCrunVersion } from '../../src/runtime/crun';
import { fastPathsEnabled } from '../../src/runtime/fastpaths';
import { expectedDefaultRuntime } from '../helpers/daemon';
import { startWrappedDaemon, type WrappedDaemon } from '../helpers/runtimeWrappers';

const CRUN = execFileSync('sh', ['-c', 'command -v crun || true'], { encoding: 'utf8' }).trim();
// scripts/test.js runs this file a second time with the fast paths off: then every step is the CLI's
const fastPathsOff = !fastPathsEnabled();
let w: WrappedDaemon;

before(async () => { if (CRUN) w = await startWrappedDaemon('crun', CRUN, 'crun version 1.9.0'); });
after(async () => { await w?.d.stop(); });
const docker = (...args: string[]) => w.docker(...args);

/** The cgroup directories of a container in every hierarchy of this host. */
function cgroupDirsOf(id: string): string[] {
  const parent = `berth-test-${path.basename(w.d.root)}`;
  return fs.readdirSync('/sys/fs/cgroup').flatMap((h) => [path.join('/sys/fs/cgroup', h, parent, id), path.join('/sys/fs/cgroup', parent, id)]).filter((p) => fs.existsSync(p));
}

/** The wrapped runtime's lifecycle; nothing is left of the task after. */
async function lifecycle(runtime: string): Promise<string> {
  const id = await w.lifecycle(runtime, (running) => assert.ok(cgroupDirsOf(running).length > 0, 'the running container has cgroups'));
  assert.deepEqual(cgroupDirsOf(id), []);
  assert.equal(fs.existsSync(path.join(w.d.execRoot, 'runc', id)), false, 'the runtime state dir is gone');
  return id;
}

test('crun --version parsing', () => {
  assert.deepEqual(parseCrunVersion('crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\n'), [1, 8, 1]);
  assert.deepEqual(parseCrunVersion('crun version 1.9\n'), [1, 9, 0]);
  assert.equal(parseCrunVersion('runc version 1.1.5\n'), undefined);
});

test('info lists runc and crun; the default is crun where it can run; --runtime picks per container; an unknown one is refused', { skip: !CRUN && 'crun is not installed' }, async () => {
  const info = JSON.parse(await docker('info', '--format', '{{json .}}'));
  assert.equal(info.DefaultRuntime, expectedDefaultRuntime());
  assert.ok(info.Runtimes.runc?.path && info.Runtimes.crun?.path, JSON.stringify(info.Runtimes));
  for (const rt of ['runc', 'crun']) {
    const id = await docker('create', '--runtime', rt, 'busybox', 'true');
    assert.equal(await docker('inspect', '-f', '{{.HostConfig.Runtime}}', id), rt);
    const out = await w.d.docker(['start', '-a', id]);
    assert.equal(out.code, 0, out.stderr);
    await docker('rm', id);
  }
  const plain = await docker('create', 'busybox', 'true');
  assert.equal(await docker('inspect', '-f', '{{.HostConfig.Runtime}}', plain), info.DefaultRuntime);
  await docker('rm', plain);
  const bad = await w.d.docker(['run', '--rm', '--runtime', 'nope', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /Error response from daemon: unknown or invalid runtime name: nope/);
});

test('under runc and crun alike: a missing command is 127, a directory 126, with Docker\'s words', { skip: !CRUN && 'crun is not installed' }, async () => {
  for (const rt of ['runc', 'crun']) {
    const missing = await w.d.docker(['run', '--rm', '--runtime', rt, 'busybox', 'nonexistentcmd']);
    assert.equal(missing.code, 127, `${rt}: ${missing.stderr}`);
    assert.match(missing.stderr, /exec: "nonexistentcmd": executable file not found in \$PATH/);
    const dir = await w.d.docker(['run', '--rm', '--runtime', rt, 'busybox', '/etc']);
    assert.equal(dir.code, 126, `${rt}: ${dir.stderr}`);
    assert.match(dir.stderr, /exec: "\/etc": permission denied/);
  }
});

test('a crun that reports 1.9.0 gets crun start, kill and delete', { skip: !CRUN && 'crun is not installed' }, async () => {
  const id = await lifecycle('crun-next');
  const log = w.calls('next');
  // once per binary, fast paths or not: the seccomp hand-over asks it too
  assert.equal(log.match(/^--version$/gm)?.length, 1, log);
  assert.match(log, new RegExp(` create .*${id}$`, 'm'));
  assert.equal(log.match(new RegExp(` start ${id}$`, 'gm'))?.length, 2, log);
  assert.match(log, new RegExp(` kill ${id} \\d+$`, 'm'));
  assert.match(log, new RegExp(` delete (--force )?${id}$`, 'm'));
});

test(`crun 1.8 ${fastPathsOff ? 'with the fast paths off gets the CLI' : 'is started, signalled and deleted in-process'}`, { skip: !CRUN && 'crun is not installed' }, async () => {
  const id = await lifecycle('crun-same');
  const log = w.calls('same');
  assert.match(log, new RegExp(` create .*${id}$`, 'm'));
  if (fastPathsOff) {
    assert.equal(log.match(new RegExp(` start ${id}$`, 'gm'))?.length, 2, log);
    assert.match(log, new RegExp(` delete (--force )?${id}$`, 'm'));
  } else {
    assert.equal(log.match(/^--version$/gm)?.length, 1, log);
    assert.doesNotMatch(log, new RegExp(` (start|kill|delete)( --force)? ${id}`, 'm'));
  }
});
