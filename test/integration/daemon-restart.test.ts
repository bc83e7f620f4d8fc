// kill -9 of berthd: the stores stay consistent and the next start repairs what was half done.
// Also: daemon.json runtimes and per-container --runtime, and two daemons side by side.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  fs.writeFileSync(path.join(d.root, 'daemon.json'), JSON.stringify({
    'cgroup-parent': `/berth-test-${path.basename(d.root)}`,
    runtimes: { 'runc-alt': { path: 'runc' } },
    'log-opts': { 'max-size': '10m' },
  }));
  await d.stopDaemon();
  await d.start();
  await d.ensureBusybox();
});
after(async () => { await d.stop(); });

test('containers survive kill -9 of the daemon; exits while it was down are recorded', async () => {
  const keep = (await d.docker(['run', '-d', '--name', 'r-keep', 'busybox', 'sh', '-c', 'while true; do echo x; sleep 0.2; done'])).stdout.trim();
  await d.docker(['run', '-d', '--name', 'r-exit', 'busybox', 'sh', '-c', 'sleep 1; exit 5']);
  const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'r-keep'])).stdout.trim();
  await d.kill9();
  await new Promise((r) => setTimeout(r, 1500));
  await d.start();
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}} {{.State.Pid}}', keep])).stdout.trim(), `true ${pid}`);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'r-exit'])).stdout.trim(), 'exited 5');
  assert.equal((await d.docker(['stop', '-t', '1', 'r-keep'])).code, 0);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'r-keep'])).stdout.trim(), 'false');
  await d.docker(['rm', 'r-keep', 'r-exit']);
});

test('half-made leftovers are removed at start', async () => {
  const fakeId = 'f'.repeat(64);
  fs.mkdirSync(path.join(d.dataRoot, 'containers', fakeId), { recursive: true });
  fs.writeFileSync(path.join(d.dataRoot, 'containers', fakeId, '.config.v2.json.123.tmp'), '{');
  fs.mkdirSync(path.join(d.dataRoot, 'content', 'ingest', 'partial-download'), { recursive: true });
  await d.kill9();
  await d.start();
  assert.equal(fs.existsSync(path.join(d.dataRoot, 'containers', fakeId)), false);
  assert.equal(fs.existsSync(path.join(d.dataRoot, 'content', 'ingest', 'partial-download')), false);
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', 'ok'])).stdout, 'ok\n');
});

test('runtimes from daemon.json and --runtime per container; log-opts as defaults', async () => {
  const info = JSON.parse((await d.docker(['info', '--format', '{{json .Runtimes}}'])).stdout);
  assert.ok(info['runc-alt']);
  const r = await d.docker(['run', '--name', 'r-alt', '--runtime', 'runc-alt', 'busybox', 'echo', 'alt']);
  assert.equal(r.stdout, 'alt\n');
  const ins = JSON.parse((await d.docker(['inspect', 'r-alt'])).stdout)[0];
  assert.equal(ins.HostConfig.Runtime, 'runc-alt');
  assert.equal(ins.HostConfig.LogConfig.Config['max-size'], '10m');
  await d.docker(['rm', 'r-alt']);
  const bad = await d.docker(['run', '--rm', '--runtime', 'nope', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /unknown or invalid runtime name: nope/);
});

test('two daemons side by side, each with its own containers', async () => {
  const other = await startDaemon();
  try {
    await other.ensureBusybox();
    const a = (await d.docker(['run', '-d', 'busybox', 'sleep', '30'])).stdout.trim();
    const b = (await other.docker(['run', '-d', 'busybox', 'sleep', '30'])).stdout.trim();
    assert.equal((await d.docker(['ps', '-q', '--no-trunc'])).stdout.trim(), a);
    assert.equal((await other.docker(['ps', '-q', '--no-trunc'])).stdout.trim(), b);
    await d.docker(['rm', '-f', a]);
  } finally {
    await other.stop();
  }
});
