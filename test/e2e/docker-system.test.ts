// The docker CLI against berthd's system-wide endpoints: `docker system df` with real sizes,
// and swarm, node, service, secret, config and plugin commands answered as Docker answers
// on a node that is not in a swarm and has no plugins.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

test('docker system df and df -v: image, shared and container sizes', async () => {
  // A second image over the same layer: each shares all of its layer with the other.
  const tar = path.join(d.root, 'busybox.tar');
  const q = new URLSearchParams({ fromSrc: '-', repo: 'df-twin', tag: '1', changes: 'ENV TWIN=1' });
  const imp = await d.request('POST', `/v1.44/images/create?${q}`, fs.readFileSync(tar), { 'Content-Type': 'application/x-tar' });
  assert.equal(imp.status, 200, imp.body.toString());
  const run = await d.docker(['run', '--name', 'df-writer', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1024', 'count=300']);
  assert.equal(run.code, 0, run.stderr);
  try {
    const du = (await d.request('GET', '/v1.44/system/df')).json();
    const layers = (await d.request('GET', '/v1.44/images/busybox/json')).json().Size as number;
    assert.ok(layers > 1_000_000, `busybox is about 2 MB: ${layers}`);
    // On disk a layer is its diff and its blob (an import keeps the tar as it came).
    const onDisk = layers + fs.statSync(tar).size;
    assert.equal(du.LayersSize, onDisk, 'the shared layer is counted once, diff and blob');
    const byTag = (t: string) => du.Images.find((i: { RepoTags: string[] }) => i.RepoTags.includes(t));
    for (const t of ['busybox:latest', 'df-twin:1']) {
      assert.equal(byTag(t).Size, onDisk);
      assert.equal(byTag(t).SharedSize, onDisk, `${t} shares its one layer`);
    }
    assert.equal(byTag('busybox:latest').Containers, 1);
    assert.equal(byTag('df-twin:1').Containers, 0);
    const c = du.Containers.find((x: { Names: string[] }) => x.Names[0] === '/df-writer');
    assert.equal(c.SizeRw, 300 * 1024, 'the file the container wrote');
    assert.equal(c.SizeRootFs, 300 * 1024 + layers);
    assert.deepEqual(du.Volumes, []);
    assert.deepEqual(du.BuildCache, []);
    const only = (await d.request('GET', '/v1.44/system/df?type=container')).json();
    assert.deepEqual(Object.keys(only), ['Containers']);
    assert.equal((await d.request('GET', '/v1.44/system/df?type=bogus')).status, 400);

    const df = await d.docker(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^Images\s+2\s+1\s+4\.1\d+MB\s+/m);
    assert.match(df.stdout, /^Containers\s+1\s+0\s+307\.2kB\s+307\.2kB \(100%\)/m);
    assert.match(df.stdout, /^Local Volumes\s+0\s+0\s+0B\s+0B/m);
    const v = await d.docker(['system', 'df', '-v']);
    assert.equal(v.code, 0, v.stderr);
    // REPOSITORY TAG ID CREATED SIZE SHARED SIZE UNIQUE SIZE CONTAINERS
    assert.match(v.stdout, /^df-twin\s+1\s+\w{12}\s+.+?\s+4\.1\d*MB\s+4\.1\d*MB\s+0B\s+0$/m);
    assert.match(v.stdout, /^busybox\s+latest\s+\w{12}\s+.+?\s+4\.1\d*MB\s+4\.1\d*MB\s+0B\s+1$/m);
    assert.match(v.stdout, /^\w{12}\s+busybox\s+"dd if=\/dev\/zero of=…"\s+0\s+307kB\s+.*df-writer$/m);
    // berth system df renders the same reply as the docker CLI
    await d.assertSameRendering(['system', 'df', '-v']);
    await d.assertSameRendering(['system', 'df']);
  } finally {
    await d.docker(['rm', '-f', 'df-writer']);
    await d.docker(['rmi', 'df-twin:1']);
  }
});

test('swarm, node, service, task, secret and config commands: not a swarm manager', async () => {
  for (const args of [['node', 'ls'], ['service', 'ls'], ['secret', 'ls'], ['config', 'ls'], ['swarm', 'unlock-key'],
    ['node', 'inspect', 'self'], ['service', 'ps', 'web'], ['secret', 'rm', 's1']]) {
    const r = await d.docker(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.trim().endsWith(`Error response from daemon: ${NOT_A_MANAGER}`), `${args.join(' ')}: ${r.stderr}`);
  }
  const leave = await d.docker(['swarm', 'leave']);
  assert.equal(leave.code, 1);
  assert.equal(leave.stderr.trim(), 'Error response from daemon: This node is not part of a swarm');
  const init = await d.docker(['swarm', 'init']);
  assert.equal(init.code, 1);
  assert.match(init.stderr, /berth does not support swarm mode/);
  const api = await d.request('GET', '/v1.44/swarm');
  assert.equal(api.status, 503);
  assert.deepEqual(api.json(), { message: NOT_A_MANAGER });
  for (const p of ['/v1.44/services', '/v1.44/tasks', '/v1.44/nodes', '/v1.44/secrets', '/v1.44/configs']) {
    assert.equal((await d.request('GET', p)).status, 503, p);
  }
});

test('plugins: none installed, none found', async () => {
  const ls = await d.docker(['plugin', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^ID\s+NAME\s+DESCRIPTION\s+ENABLED\n$/);
  assert.deepEqual((await d.request('GET', '/v1.44/plugins')).json(), []);
  const ins = await d.docker(['plugin', 'inspect', 'vieux/sshfs']);
  assert.equal(ins.code, 1);
  assert.match(ins.stderr, /plugin "vieux\/sshfs" not found/);
  const rm = await d.request('DELETE', '/v1.44/plugins/vieux/sshfs:latest');
  assert.equal(rm.status, 404);
  assert.deepEqual(rm.json(), { message: 'plugin "vieux/sshfs:latest" not found' });
});
