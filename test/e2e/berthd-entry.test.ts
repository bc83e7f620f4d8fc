// bin/berthd's ways in and its start: the bundle (dist/daemon/berthd.js through launch.js and
// its code cache) is built, current and what bin/berthd runs; dist/ as tsc built it
// (BERTHD_BUNDLE=0) re-adopts the same containers; and during a start /_ping answers at once
// while every other request waits for the engine, so none sees a container half re-adopted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, useDaemon, type TestDaemon } from '../helpers/daemon';
import { BUNDLE, cachePath } from '../../src/daemon/launch';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const cmdline = () => fs.readFileSync(`/proc/${d.proc!.pid}/cmdline`, 'utf8').split('\0');
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
};

test('the daemon bundle is built and not older than dist/ (else bin/berthd would not use it)', () => {
  assert.ok(fs.existsSync(BUNDLE), `${BUNDLE} is missing: npm run build (or npm run build:daemon after tsc)`);
  assert.ok(fs.statSync(BUNDLE).mtimeMs >= fs.statSync(path.join(REPO, 'dist', 'src', 'daemon', 'main.js')).mtimeMs - 1000, 'the bundle is older than dist/: npm run build:daemon');
});

test('bin/berthd runs the bundle, BERTHD_BUNDLE=0 runs dist/: both re-adopt the same running container', async () => {
  const id = (await d.dockerOk(['run', '-d', '--name', 'entry-a', 'busybox', 'sleep', '600'])).trim();
  try {
    assert.ok(cmdline().some((a) => a.endsWith(path.join('dist', 'src', 'daemon', 'launch.js'))), cmdline().join(' '));
    await d.restart({ BERTHD_BUNDLE: '0' });
    assert.ok(cmdline().some((a) => a.endsWith(path.join('dist', 'src', 'daemon', 'main.js'))), cmdline().join(' '));
    assert.equal((await d.dockerOk(['ps', '-q', '--no-trunc', '--filter', 'name=entry-a'])).trim(), id);
    assert.equal(await d.dockerOk(['exec', 'entry-a', 'echo', 'dist']), 'dist\n');
    await d.restart();
    assert.ok(cmdline().some((a) => a.endsWith('launch.js')));
    assert.equal((await d.dockerOk(['ps', '-q', '--no-trunc', '--filter', 'name=entry-a'])).trim(), id);
    assert.equal(await d.dockerOk(['exec', 'entry-a', 'echo', 'bundle']), 'bundle\n');
  } finally {
    await d.docker(['rm', '-f', 'entry-a']);
  }
});

test('a start through the bundle writes the code cache once the engine is ready', async () => {
  // bin/berthd starts node with --max-semi-space-size=2: the cache is named for those flags
  const file = cachePath(fs.statSync(BUNDLE), ['--max-semi-space-size=2']);
  fs.rmSync(file, { force: true });
  await d.restart();
  await until(`${file} is written after the start`, () => fs.existsSync(file));
  assert.ok(fs.statSync(file).size > 100_000, 'it holds the compiled start, not only the top level');
  // and a start that finds it works as one without
  await d.restart();
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.equal((await d.request('GET', '/v1.44/containers/json')).status, 200);
});

test('during a start: /_ping answers at once; other requests wait for the engine and see every container re-adopted', async () => {
  const ids = (await Promise.all(['entry-p1', 'entry-p2'].map((n) => d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '600'])))).map((s) => s.trim());
  try {
    await d.kill9();
    // berthd stops between re-adopting the running tasks and reconciling their attachments
    process.env.BERTH_PAUSE_AT = 'container.restore.after-match:4000';
    const started = d.start().finally(() => { delete process.env.BERTH_PAUSE_AT; });
    await until('berthd reaches its pause point', () => d.stderr.includes('pause point container.restore.after-match'));
    const done: string[] = [];
    const list = d.request('GET', '/v1.44/containers/json').then((r) => { done.push('list'); return r; });
    const missing = d.request('GET', '/v1.44/nosuch').then((r) => { done.push('404'); return r; });
    const ping = await d.request('HEAD', '/_ping');
    done.push('ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.headers['api-version'], '1.44');
    assert.ok(!d.stderr.includes('daemon has completed initialization'), 'the ping came while the engine was still opening');
    const [l, m] = await Promise.all([list, missing]);
    assert.deepEqual(done.slice(0, 1), ['ping'], 'the requests sent before the ping waited for the engine');
    assert.equal(l.status, 200);
    const running = l.json<{ Id: string; State: string }[]>().filter((c) => ids.includes(c.Id));
    assert.deepEqual(running.map((c) => c.State), ['running', 'running']);
    assert.equal(m.status, 404);
    assert.deepEqual(m.json(), { message: 'page not found' });
    await started;
    assert.equal(await d.dockerOk(['exec', 'entry-p1', 'echo', 'adopted']), 'adopted\n');
  } finally {
    delete process.env.BERTH_PAUSE_AT;
    await d.docker(['rm', '-f', 'entry-p1', 'entry-p2']);
  }
});
