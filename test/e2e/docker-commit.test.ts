// docker commit and docker diff through the real docker CLI: a container's changes as A/C/D, and
// its writable layer as a new image with --change, -m, -a, --pause and a history entry.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);

test('diff lists added, changed and deleted paths; nothing for a fresh container', async () => {
  await docker('create', '--name', 'e2e-diff-fresh', 'busybox', 'true');
  const fresh = await docker('diff', 'e2e-diff-fresh');
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(fresh.stdout, '');
  await docker('rm', 'e2e-diff-fresh');

  const run = await docker('run', '--name', 'e2e-diff', 'busybox', 'sh', '-c',
    'mkdir -p /tmp/newdir && echo x > /tmp/newdir/f && echo y >> /etc/passwd && rm /bin/vi && rm -rf /home');
  assert.equal(run.code, 0, run.stderr);
  const diff = await docker('diff', 'e2e-diff');
  assert.equal(diff.code, 0, diff.stderr);
  const lines = diff.stdout.trim().split('\n');
  for (const want of ['A /tmp/newdir', 'A /tmp/newdir/f', 'C /tmp', 'C /etc', 'C /etc/passwd', 'D /bin/vi', 'C /bin', 'D /home']) {
    assert.ok(lines.includes(want), `${want} in\n${diff.stdout}`);
  }
  assert.ok(!lines.some((l) => /\/etc\/(hosts|hostname|resolv\.conf)$/.test(l)), diff.stdout);
  assert.deepEqual([...lines].sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1)), lines);

  const api = await d.request('GET', '/containers/e2e-diff/changes');
  assert.equal(api.status, 200);
  assert.ok(api.json().some((c: { Path: string; Kind: number }) => c.Path === '/bin/vi' && c.Kind === 2));
  assert.equal((await d.request('GET', '/containers/nope-nope/changes')).status, 404);
  await docker('rm', 'e2e-diff');
});

test('commit makes an image with the changes, config changes, message, author and history', async () => {
  const run = await docker('run', '--name', 'e2e-commit', '-e', 'FROMRUN=1', 'busybox', 'sh', '-c', 'echo committed > /data.txt && rm /bin/vi');
  assert.equal(run.code, 0, run.stderr);
  const c = await docker('commit', '-m', 'a message', '-a', 'Ann Author <ann@example.com>',
    '-c', 'ENV GREETING=hi', '-c', 'CMD ["cat", "/data.txt"]', '-c', 'WORKDIR /srv', 'e2e-commit', 'e2e-committed:1');
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout.trim(), /^sha256:[a-f0-9]{64}$/);

  const out = await docker('run', '--rm', 'e2e-committed:1');
  assert.equal(out.stdout, 'committed\n');
  const vi = await docker('run', '--rm', 'e2e-committed:1', 'sh', '-c', 'test -e /bin/vi && echo there || echo gone; pwd; echo $GREETING $FROMRUN');
  assert.equal(vi.stdout, 'gone\n/srv\nhi 1\n');

  const ins = JSON.parse((await docker('image', 'inspect', 'e2e-committed:1')).stdout)[0];
  const base = JSON.parse((await docker('image', 'inspect', 'busybox')).stdout)[0];
  assert.equal(ins.Comment, 'a message');
  assert.equal(ins.Author, 'Ann Author <ann@example.com>');
  assert.equal(ins.RootFS.Layers.length, base.RootFS.Layers.length + 1);
  assert.deepEqual(ins.RootFS.Layers.slice(0, -1), base.RootFS.Layers);
  assert.deepEqual(ins.Config.Cmd, ['cat', '/data.txt']);

  const hist = await docker('history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'e2e-committed:1');
  assert.equal(hist.stdout.split('\n')[0], 'sh -c echo committed > /data.txt && rm /bin/vi|a message');
  await docker('rm', 'e2e-commit');
  await docker('rmi', 'e2e-committed:1');
});

test('commit of a running container pauses it by default and leaves it running; --pause=false too', async () => {
  await docker('run', '-d', '--name', 'e2e-commit-run', 'busybox', 'sh', '-c', 'echo live > /live.txt; sleep 300');
  for (const flags of [[], ['--pause=false']]) {
    const c = await docker('commit', ...flags, 'e2e-commit-run', 'e2e-committed-run:1');
    assert.equal(c.code, 0, c.stderr);
    const st = JSON.parse((await docker('inspect', 'e2e-commit-run')).stdout)[0].State;
    assert.equal(st.Status, 'running');
    assert.equal(st.Paused, false);
    assert.equal((await docker('run', '--rm', 'e2e-committed-run:1', 'cat', '/live.txt')).stdout, 'live\n');
  }
  await docker('rm', '-f', 'e2e-commit-run');
  await docker('rmi', 'e2e-committed-run:1');
});

test('commit refuses a bad change and a missing container', async () => {
  await docker('create', '--name', 'e2e-commit-bad', 'busybox', 'true');
  const bad = await docker('commit', '-c', 'RUN echo no', 'e2e-commit-bad', 'e2e-bad:1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /run is not a valid change command/);
  const missing = await docker('commit', 'no-such-ctr-e2e', 'e2e-bad:1');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such container: no-such-ctr-e2e/);
  await docker('rm', 'e2e-commit-bad');
});

test('commit of a container whose image was force-removed keeps the layers below', async () => {
  await d.importBusyboxVariant('e2e-commit-gone:1', (root) => fs.writeFileSync(path.join(root, 'base.txt'), 'base\n'));
  await docker('run', '--name', 'e2e-commit-orphan', 'e2e-commit-gone:1', 'sh', '-c', 'echo kept > /kept.txt');
  const rmi = await docker('rmi', '-f', 'e2e-commit-gone:1');
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.notEqual((await docker('image', 'inspect', 'e2e-commit-gone:1')).code, 0);
  const c = await docker('commit', 'e2e-commit-orphan', 'e2e-commit-orphaned:1');
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await docker('run', '--rm', 'e2e-commit-orphaned:1', 'cat', '/base.txt', '/kept.txt')).stdout, 'base\nkept\n');
  await docker('rm', 'e2e-commit-orphan');
  await docker('rmi', 'e2e-commit-orphaned:1');
});
