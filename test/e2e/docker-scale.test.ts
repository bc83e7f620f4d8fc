// Many containers at once, for correctness only (how long it takes is bench/scale.ts's): 100
// `docker run -d` from 10 parallel clients all start, with distinct names and addresses, and
// 100 parallel `rm -f` leave nothing behind; with 1,000 container records, look-ups by name,
// ID and ID prefix, list filters and prune stay right.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { networkLeaks, useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

/** Runs `fn` over `items` with `clients` workers at once, as that many parallel clients would. */
async function inParallel<T, R>(items: T[], clients: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('100 docker run -d from 10 parallel clients all start, with distinct names and addresses; 100 parallel rm -f leave nothing', { timeout: 600_000 }, async () => {
  const runs = await inParallel(range(100), 10, (i) => d.docker(['run', '-d', '--label', 'scale=run', '--name', `par${i}`, 'busybox', 'sleep', '600'], { timeout: 300_000 }));
  const failed = runs.filter((r) => r.code !== 0).map((r) => r.stderr.trim());
  assert.deepEqual(failed, [], 'every run started');
  const ids = runs.map((r) => r.stdout.trim());
  assert.equal(new Set(ids).size, 100);
  const listed = (await d.dockerOk(['ps', '-q', '--no-trunc', '--filter', 'label=scale=run'])).trim().split('\n');
  assert.deepEqual(listed.sort(), [...ids].sort(), 'all 100 are running');
  const addresses = (await d.dockerOk(['inspect', '-f', '{{.Name}} {{.NetworkSettings.IPAddress}}', ...ids])).trim().split('\n');
  assert.equal(new Set(addresses.map((l) => l.split(' ')[1])).size, 100, 'one address each');
  assert.equal(new Set(addresses.map((l) => l.split(' ')[0])).size, 100, 'one name each');
  // stats of all running (one stream each, by short ID): a row for each of the 100, each with
  // its one process and a memory limit read from its cgroup
  const stats = (await d.dockerOk(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}'], { timeout: 120_000 })).trim().split('\n');
  const rows = stats.filter((l) => /^par\d+ /.test(l));
  assert.equal(rows.length, 100, stats.join('\n'));
  for (const r of rows) assert.match(r, /^par\d+ 1 \S+ \/ \S+$/);

  const removed = await inParallel(ids, 10, (id) => d.docker(['rm', '-f', id], { timeout: 300_000 }));
  assert.deepEqual(removed.filter((r) => r.code !== 0).map((r) => r.stderr.trim()), [], 'every rm -f succeeded');
  assert.equal((await d.dockerOk(['ps', '-aq', '--filter', 'label=scale=run'])).trim(), '');
  assert.deepEqual(await networkLeaks(d.root), [], 'no veth, namespace or port rule left');
});

test('1,000 container records: look-ups by name, ID and ID prefix, list filters and prune stay right', { timeout: 900_000 }, async () => {
  const ids = await inParallel(range(1000), 16, async (i) => {
    const r = await d.request('POST', `/v1.44/containers/create?name=rec${i}`, {
      Image: 'busybox', Cmd: ['true'], Labels: { batch: String(i % 10) }, HostConfig: { NetworkMode: 'none' },
    });
    assert.equal(r.status, 201, r.body.toString());
    return r.json<{ Id: string }>().Id;
  });
  const list = async (q: string) => (await d.request('GET', `/v1.44/containers/json?all=1${q}`)).json<{ Id: string; Names: string[] }[]>();
  assert.equal((await list('')).length, 1000);
  const batch3 = await list(`&filters=${encodeURIComponent(JSON.stringify({ label: ['batch=3'] }))}`);
  assert.equal(batch3.length, 100);
  assert.ok(batch3.every((c) => Number(c.Names[0].slice(4)) % 10 === 3));
  // Docker's name filter is a match anywhere in the name: rec99 and rec990..rec999
  const named = await list(`&filters=${encodeURIComponent(JSON.stringify({ name: ['rec99'] }))}`);
  assert.deepEqual(named.map((c) => c.Names[0]).sort(), ['/rec99', ...range(10).map((i) => `/rec99${i}`)].sort());
  const byId = await list(`&filters=${encodeURIComponent(JSON.stringify({ id: [ids[500].slice(0, 16)] }))}`);
  assert.deepEqual(byId.map((c) => c.Id), [ids[500]]);

  for (const i of [0, 499, 999]) {
    for (const ref of [`rec${i}`, `/rec${i}`, ids[i], ids[i].slice(0, 12)]) {
      const r = await d.request('GET', `/v1.44/containers/${encodeURIComponent(ref)}/json`);
      assert.equal(r.status, 200, ref);
      assert.equal(r.json().Id, ids[i], ref);
    }
  }
  // one hex digit is the prefix of many of the 1,000 IDs
  const ambiguous = await d.request('GET', `/v1.44/containers/${ids[0][0]}/json`);
  assert.equal(ambiguous.status, 400);
  assert.match(ambiguous.json().message, /multiple containers found with provided prefix/);
  assert.equal((await d.request('GET', '/v1.44/containers/rec1000/json')).status, 404);

  const pruned = (await d.request('POST', '/v1.44/containers/prune')).json<{ ContainersDeleted: string[] }>();
  assert.equal(pruned.ContainersDeleted.length, 1000);
  assert.equal((await list('')).length, 0);
});
