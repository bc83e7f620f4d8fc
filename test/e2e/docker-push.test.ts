// docker push and berth push to Debian's docker-registry on loopback (through a counting proxy):
// HEAD first, uploads (monolithic and chunked), cross-repository mount, the registry's digest
// printed and recorded as a RepoDigest, nothing uploaded by a second push; with htpasswd and
// token auth from the Docker config file. The registry's manifest is checked by HTTP: its
// config is the image's, each layer blob's bytes match their digest.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';
import { httpRequest, startProxy, startRegistry, type RegistryProxy, type TestRegistry } from '../helpers/registry';
import { packTar, saveArchive, sha } from '../helpers/archive';

// Blobs above 8 MB are uploaded in chunks: busybox goes whole, the 20 MB layer below in PATCHes.
process.env.BERTH_PUSH_CHUNK_SIZE = String(8 << 20);
let d: TestDaemon;
useDaemon((x) => { d = x; });
let reg: TestRegistry;
let proxy: RegistryProxy;
before(async () => {
  reg = await startRegistry();
  proxy = await startProxy(reg.url);
});
after(async () => {
  await proxy?.stop();
  await reg?.stop();
});
const docker = (...args: string[]) => d.docker(args, { timeout: 120_000 });

/** The registry's manifest of repo:tag, fetched directly (not through the proxy). */
async function manifestOf(r: TestRegistry, repo: string, tag: string, auth: Record<string, string> = {}) {
  const res = await httpRequest('GET', `${r.url}/v2/${repo}/manifests/${tag}`, undefined, {
    Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json', ...auth,
  });
  assert.equal(res.status, 200, res.body.toString());
  return { digest: String(res.headers['docker-content-digest']), body: res.body, json: JSON.parse(res.body.toString()) };
}

async function checkBlobs(r: TestRegistry, repo: string, m: { json: { config: { digest: string }; layers: Array<{ digest: string; size: number }> } }, auth: Record<string, string> = {}) {
  for (const l of [m.json.config, ...m.json.layers]) {
    const b = await httpRequest('GET', `${r.url}/v2/${repo}/blobs/${l.digest}`, undefined, auth);
    assert.equal(b.status, 200);
    assert.equal(sha(b.body), l.digest, 'the registry holds the bytes the manifest names');
  }
}

const uploads = (since: number) => proxy.requests.slice(since).filter((r) => (r.method === 'POST' || r.method === 'PATCH' || r.method === 'PUT') && r.path.includes('/blobs/uploads/'));

test('docker push: progress as Docker, the registry\'s digest, RepoDigest recorded; the second push uploads nothing', async () => {
  const name = `${proxy.host}/pu-busybox`;
  assert.equal((await docker('tag', 'busybox', `${name}:1`)).code, 0);
  const n0 = proxy.requests.length;
  const p = await docker('push', `${name}:1`);
  assert.equal(p.code, 0, p.stderr);
  const img = JSON.parse((await docker('image', 'inspect', 'busybox')).stdout)[0];
  const layer = img.RootFS.Layers[0].slice(7, 19);
  const m = await manifestOf(reg, 'pu-busybox', '1');
  assert.equal(m.json.config.digest, img.Id, 'the manifest names the image\'s config');
  assert.equal(m.json.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(p.stdout, [
    `The push refers to repository [${name}]`,
    `${layer}: Preparing`,
    `${layer}: Pushed`,
    `1: digest: ${m.digest} size: ${m.body.length}`, '',
  ].join('\n'));
  assert.ok(proxy.requests.slice(n0).some((r) => r.method === 'HEAD' && r.path.includes('/blobs/')), 'HEAD before upload');
  assert.ok(uploads(n0).length >= 4, 'layer and config uploaded');
  await checkBlobs(reg, 'pu-busybox', m);
  const dg = await docker('images', '--digests', '--format', '{{.Repository}} {{.Digest}}', name);
  assert.equal(dg.stdout.trim(), `${name} ${m.digest}`);

  const n1 = proxy.requests.length;
  const again = await docker('push', `${name}:1`);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`^${layer}: Layer already exists$`, 'm'));
  assert.match(again.stdout, new RegExp(`^1: digest: ${m.digest} size: ${m.body.length}$`, 'm'));
  assert.deepEqual(uploads(n1), [], 'nothing uploaded the second time');
  const puts = proxy.requests.slice(n1).filter((r) => r.method !== 'HEAD' && !r.path.endsWith('/manifests/1'));
  assert.deepEqual(puts.map((r) => `${r.method} ${r.path}`), [], 'only HEADs and the manifest PUT');
});

test('cross-repository mount: a second repository of the registry gets the layer mounted, not uploaded', async () => {
  const name = `${proxy.host}/pu-other/bb`;
  await docker('tag', 'busybox', `${name}:2`);
  const n0 = proxy.requests.length;
  const p = await docker('push', `${name}:2`);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^\w{12}: Mounted from pu-busybox$/m);
  const mounts = proxy.requests.slice(n0).filter((r) => r.method === 'POST' && r.path.includes('mount=') && r.path.includes('from=pu-busybox'));
  assert.equal(mounts.length, 2, 'the layer and the config');
  assert.deepEqual(mounts.map((r) => r.status), [201, 201]);
  assert.equal(proxy.requests.slice(n0).filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/'))).length, 0, 'no blob bytes sent');
  const m = await manifestOf(reg, 'pu-other/bb', '2');
  assert.match(p.stdout, new RegExp(`2: digest: ${m.digest}`));
  await checkBlobs(reg, 'pu-other/bb', m);
});

test('a layer above the chunk size goes in PATCH chunks; push -a pushes every tag; berth push renders the same', async () => {
  const big = await packTar([{ name: 'big.bin', data: randomBytes(20 << 20) }]);
  const base = fs.readFileSync(path.join(d.root, 'busybox.tar'));
  const a = await saveArchive([
    { tag: `${proxy.host}/pu-big:1`, layers: [base, big], created: '2026-01-01T00:00:00Z', history: [{ created_by: 'base' }, { created_by: 'big' }] },
  ]);
  const f = path.join(d.root, 'big.tar');
  fs.writeFileSync(f, a.tar);
  assert.equal((await docker('load', '-i', f)).code, 0);
  fs.rmSync(f);
  await docker('tag', `${proxy.host}/pu-big:1`, `${proxy.host}/pu-big:2`);
  const n0 = proxy.requests.length;
  const p = await d.berth(['push', '--all-tags', `${proxy.host}/pu-big`], { timeout: 120_000 });
  assert.equal(p.code, 0, p.stderr);
  const patches = proxy.requests.slice(n0).filter((r) => r.method === 'PATCH');
  assert.ok(patches.length >= 2, `chunked: ${patches.length} PATCHes`);
  const bigId = sha(big).slice(7, 19);
  assert.match(p.stdout, new RegExp(`^${bigId}: Pushed$`, 'm'));
  assert.match(p.stdout, /^\w{12}: Mounted from pu-(busybox|other\/bb)$/m, 'the base is mounted');
  const m1 = await manifestOf(reg, 'pu-big', '1');
  const m2 = await manifestOf(reg, 'pu-big', '2');
  assert.equal(m1.digest, m2.digest);
  assert.match(p.stdout, new RegExp(`^1: digest: ${m1.digest} size: \\d+$`, 'm'));
  assert.match(p.stdout, new RegExp(`^2: digest: ${m2.digest} size: \\d+$`, 'm'));
  assert.equal(m1.json.config.digest, a.ids[`${proxy.host}/pu-big:1`]);
  await checkBlobs(reg, 'pu-big', m1);
  const q = await d.berth(['push', '-q', `${proxy.host}/pu-big:1`]);
  assert.equal(q.stdout, `${proxy.host}/pu-big:1\n`);
});

test('the gzip blob a push makes for a loaded layer counts in system df and goes with its image (prune)', async () => {
  const top = await packTar([{ name: 'gc.bin', data: randomBytes(1 << 20) }]);
  const base = fs.readFileSync(path.join(d.root, 'busybox.tar'));
  const name = `${proxy.host}/pu-gc:1`;
  const a = await saveArchive([
    { tag: name, layers: [base, top], labels: { 'pu-gc': '1' }, created: '2026-01-01T00:00:00Z', history: [{ created_by: 'base' }, { created_by: 'top' }] },
  ]);
  const f = path.join(d.root, 'gc.tar');
  fs.writeFileSync(f, a.tar);
  assert.equal((await docker('load', '-i', f)).code, 0);
  fs.rmSync(f);
  const blobs = path.join(d.dataRoot, 'content', 'blobs', 'sha256');
  const layersSize = async () => (await d.request('GET', '/v1.44/system/df')).json().LayersSize as number;
  const had = new Set(fs.readdirSync(blobs));
  const before = await layersSize();
  const p = await docker('push', name);
  assert.equal(p.code, 0, p.stderr);
  const m = await manifestOf(reg, 'pu-gc', '1');
  const made = m.json.layers.filter((l: { digest: string }) => !had.has(l.digest.slice(7)));
  const gz = m.json.layers[1] as { digest: string; size: number };
  assert.ok(made.some((l: { digest: string }) => l.digest === gz.digest), 'the top layer was gzipped for the push');
  assert.ok(fs.existsSync(path.join(blobs, gz.digest.slice(7))));
  // the layer's diff, its blob (the loaded tar) and now its gzip blob
  assert.equal(await layersSize() - before, made.reduce((n: number, l: { size: number }) => n + l.size, 0), 'system df counts the gzip blobs');

  const pr = await docker('image', 'prune', '-a', '-f', '--filter', 'label=pu-gc=1');
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, new RegExp(`deleted: ${a.ids[name]}`));
  assert.ok(!fs.existsSync(path.join(blobs, gz.digest.slice(7))), 'the gzip blob went with its layer');
  const meta = JSON.parse(fs.readFileSync(path.join(d.dataRoot, 'distribution', 'meta.json'), 'utf8'));
  assert.ok(!Object.values(meta.compressed).some((c) => (c as { digest: string }).digest === gz.digest), 'and its record');
  // busybox keeps its layer, and that layer's gzip blob (pushed above) stays
  const baseGz = m.json.layers[0].digest.slice(7);
  assert.ok(fs.existsSync(path.join(blobs, baseGz)), 'the shared base keeps its gzip blob');
});

test('push errors: a tag that is not here (404 before streaming), an unreachable registry (in-stream)', async () => {
  const r = await docker('push', `${proxy.host}/pu-nothing:1`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`An image does not exist locally with the tag: ${proxy.host}/pu-nothing`));
  // the tag in the path (SDKs do this) is the tag pushed; a digest reference is refused
  const inPath = await d.request('POST', `/v1.44/images/${proxy.host}/pu-busybox:1/push`, undefined, { 'X-Registry-Auth': 'e30=' });
  assert.equal(inPath.status, 200);
  assert.match(inPath.body.toString(), /"status":"1: digest: sha256:[a-f0-9]{64} size: \d+"/);
  assert.match(inPath.body.toString(), /"Layer already exists"/);
  const byDigest = await d.request('POST', `/v1.44/images/${proxy.host}/pu-busybox@sha256:${'a'.repeat(64)}/push`, undefined, { 'X-Registry-Auth': 'e30=' });
  assert.equal(byDigest.status, 400);
  await docker('tag', 'busybox', '127.0.0.1:1/pu-down:1');
  const down = await docker('push', '127.0.0.1:1/pu-down:1');
  assert.equal(down.code, 1);
  assert.match(down.stdout, /The push refers to repository \[127\.0\.0\.1:1\/pu-down\]/);
  assert.match(down.stderr, /127\.0\.0\.1:1.*(ECONNREFUSED|connect)/);
  await docker('rmi', '127.0.0.1:1/pu-down:1');
});

for (const mode of ['htpasswd', 'token'] as const) {
  test(`push with ${mode} auth: refused without credentials, done with those in the Docker config file`, async () => {
    const r = await startRegistry({ auth: mode, users: { pusher: 'push-pw' } });
    try {
      const name = `${r.host}/pu-auth`;
      await docker('tag', 'busybox', `${name}:1`);
      const denied = await docker('push', `${name}:1`);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /unauthorized|denied|authentication required/i);
      // what `docker login` writes (the login itself is POST /auth, tested with pull)
      const cfgDir = d.env.DOCKER_CONFIG!;
      fs.mkdirSync(cfgDir, { recursive: true });
      fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ auths: { [r.host]: { auth: Buffer.from('pusher:push-pw').toString('base64') } } }));
      try {
        const ok = await docker('push', `${name}:1`);
        assert.equal(ok.code, 0, ok.stderr);
        const auth = await r.authorization('pu-auth');
        const m = await manifestOf(r, 'pu-auth', '1', auth);
        assert.match(ok.stdout, new RegExp(`1: digest: ${m.digest}`));
        await checkBlobs(r, 'pu-auth', m, auth);
        const b = await d.berth(['push', `${name}:1`]);
        assert.equal(b.code, 0, b.stderr);
        assert.match(b.stdout, /Layer already exists/);
        if (mode === 'token') assert.ok(r.token!.requests.some((t) => t.account === 'pusher' && t.scope.some((s) => s.includes('push'))), 'a push token for the user');
      } finally {
        fs.rmSync(path.join(cfgDir, 'config.json'), { force: true });
        await docker('rmi', `${name}:1`);
      }
    } finally {
      await r.stop();
    }
  });
}
