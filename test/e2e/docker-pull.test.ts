// docker pull / docker run of images in a real registry (Debian's docker-registry on loopback):
// tags, digests, manifest lists and OCI indexes with platform selection, gzip/zstd/plain layers,
// schema1 refused, a corrupted blob, /distribution/{name}/json, docker info's registry config.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { busyboxTar, makeImage, makeLayer, startRegistry, tarOf, type BuiltImage, type TestRegistry } from '../helpers/registry';

describe('docker pull from a registry', () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let s1: TestRegistry;
  let bb: BuiltImage;
  before(async () => {
    [d, reg, s1] = await Promise.all([startDaemon(), startRegistry(), startRegistry({ schema1: true })]);
    const base = makeLayer(busyboxTar(), 'gzip');
    bb = makeImage({ layers: [base, makeLayer(tarOf({ 'etc/motd': 'pulled from a registry\n' }), 'gzip')], cmd: ['cat', '/etc/motd'] });
    await reg.seedImage('busybox', 'latest', bb);
  });

  const layerDirs = () => fs.readdirSync(path.join(d.dataRoot, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  const blobFile = (digest: string) => path.join(d.dataRoot, 'content/blobs/sha256', digest.slice(7));
  const pullApi = async (fromImage: string, tag: string, extra: Record<string, string> = {}) => {
    const r = await d.request('POST', `/v1.44/images/create?${new URLSearchParams({ fromImage, tag, ...extra })}`, undefined, { 'X-Registry-Auth': 'e30=' });
    const text = r.body.toString();
    return { status: r.status, text, msgs: r.status === 200 ? text.split('\r\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>) : [] };
  };
  after(async () => { await Promise.all([d?.stop(), reg?.stop(), s1?.stop()]); });

  it('docker run of a registry image pulls it first ("Unable to find image")', async () => {
    const r = await d.docker(['run', '--rm', `${reg.host}/busybox`], { timeout: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Unable to find image '${reg.host}/busybox:latest' locally`));
    assert.match(r.stderr, /latest: Pulling from busybox/);
    assert.match(r.stderr, /Pull complete/);
    assert.match(r.stderr, new RegExp(`Digest: ${bb.digest}`));
    assert.match(r.stderr, new RegExp(`Status: Downloaded newer image for ${reg.host}/busybox:latest`));
    assert.equal(r.stdout, 'pulled from a registry\n');
    const insp = await d.docker(['image', 'inspect', '-f', '{{.Id}} {{json .RepoDigests}} {{json .RepoTags}}', `${reg.host}/busybox`]);
    assert.equal(insp.stdout.trim(), `${bb.configDigest} ["${reg.host}/busybox@${bb.digest}"] ["${reg.host}/busybox:latest"]`);
  });

  it('a second pull is up to date and fetches no layer', async () => {
    const r = await d.docker(['pull', `${reg.host}/busybox`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Status: Image is up to date for ${reg.host}/busybox:latest`));
    assert.doesNotMatch(r.stdout, /Pull complete/);
  });

  it('streams Docker\'s progress messages, in order per layer', async () => {
    const layer = makeLayer(Buffer.concat([tarOf({ 'big.bin': Buffer.alloc(3 << 20, 7) })]), 'gzip');
    const im = makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), layer] });
    await reg.seedImage('progress', 'v1', im);
    const r = await pullApi(`${reg.host}/progress`, 'v1');
    assert.equal(r.status, 200);
    assert.deepEqual(r.msgs[0], { status: 'Pulling from progress', id: 'v1' });
    const id = layer.digest.slice(7, 19);
    const mine = r.msgs.filter((m) => m.id === id).map((m) => m.status);
    const order = ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete'];
    assert.deepEqual([...new Set(mine)], order, JSON.stringify(mine));
    const dl = r.msgs.find((m) => m.id === id && m.status === 'Downloading')!;
    assert.equal(dl.progressDetail.total, layer.size);
    assert.equal(typeof dl.progress, 'string');
    // the busybox layer came with the first image
    assert.deepEqual(r.msgs.find((m) => m.id === im.layers[0].digest.slice(7, 19)), { status: 'Already exists', progressDetail: {}, id: im.layers[0].digest.slice(7, 19) });
    assert.deepEqual(r.msgs.at(-2), { status: `Digest: ${im.digest}` });
    assert.deepEqual(r.msgs.at(-1), { status: `Status: Downloaded newer image for ${reg.host}/progress:v1` });
  });

  it('pulls by digest and by tag@digest; a wrong digest is refused', async () => {
    const im = makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), makeLayer(tarOf({ 'd.txt': 'by digest\n' }))], cmd: ['cat', '/d.txt'] });
    await reg.seedImage('bydigest', 'v1', im);
    const r = await d.docker(['pull', `${reg.host}/bydigest@${im.digest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/bydigest@${im.digest}`));
    const run = await d.docker(['run', '--rm', `${reg.host}/bydigest@${im.digest}`]);
    assert.equal(run.stdout, 'by digest\n', run.stderr);
    const ls = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `${reg.host}/bydigest`]);
    assert.equal(ls.stdout.trim(), `${reg.host}/bydigest:<none>`);
    // tag@digest: the digest is what is fetched (and verified)
    const td = await d.docker(['pull', `${reg.host}/bydigest:v1@${im.digest}`]);
    assert.equal(td.code, 0, td.stderr);
    const other = 'sha256:' + '0'.repeat(64);
    const bad = await d.docker(['pull', `${reg.host}/bydigest@${other}`]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, new RegExp(`manifest for ${reg.host}/bydigest@${other} not found: manifest unknown`));
    const all = await d.docker(['pull', '--all-tags', `${reg.host}/bydigest`]);
    assert.notEqual(all.code, 0);
    assert.match(all.stderr, /berth does not support pulling all tags of a repository \(docker pull --all-tags\) yet/);
  });

  it('a manifest list: linux/amd64 by default, --platform picks another entry', async () => {
    const amd = makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), makeLayer(tarOf({ 'arch': 'amd64\n' }))], cmd: ['cat', '/arch'] });
    const arm = makeImage({ layers: [makeLayer(tarOf({ 'arch': 'arm64\n' }))], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const list = await reg.seedIndex('multi', 'v1', [arm, amd], 'docker');
    const r = await d.docker(['run', '--rm', `${reg.host}/multi:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'amd64\n');
    const insp = await d.docker(['image', 'inspect', '-f', '{{.Id}} {{.Architecture}} {{json .RepoDigests}}', `${reg.host}/multi:v1`]);
    // the list's digest is the one recorded (as Docker)
    assert.equal(insp.stdout.trim(), `${amd.configDigest} amd64 ["${reg.host}/multi@${list.digest}"]`);
    const p = await d.docker(['pull', '--platform', 'linux/arm64', `${reg.host}/multi:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const a2 = await d.docker(['image', 'inspect', '-f', '{{.Id}} {{.Architecture}} {{.Variant}}', `${reg.host}/multi:v1`]);
    assert.equal(a2.stdout.trim(), `${arm.configDigest} arm64 v8`);
    const none = await d.docker(['pull', '--platform', 'linux/s390x', `${reg.host}/multi:v1`]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  it('an OCI index of OCI manifests with zstd and uncompressed layers', async () => {
    const im = makeImage({
      format: 'oci', cmd: ['sh', '-c', 'cat /z.txt /u.txt'],
      layers: [makeLayer(busyboxTar(), 'zstd'), makeLayer(tarOf({ 'z.txt': 'zstd layer\n' }), 'zstd'), makeLayer(tarOf({ 'u.txt': 'plain layer\n' }), 'none')],
    });
    const other = makeImage({ format: 'oci', layers: [makeLayer(tarOf({ 'x': 'x' }))], platform: { os: 'linux', architecture: 'arm64' } });
    await reg.seedIndex('ocizstd', 'v1', [other, im], 'oci');
    const r = await d.docker(['run', '--rm', `${reg.host}/ocizstd:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'zstd layer\nplain layer\n');
    // the blobs are kept as the registry served them (push sends them back byte for byte)
    // (the busybox layer was already there from the gzip image: same diff ID, not fetched)
    for (const l of im.layers.slice(1)) assert.ok(fs.existsSync(blobFile(l.digest)), l.digest);
  });

  it('schema1 is refused with Docker\'s message', async () => {
    await s1.seedSchema1('old', 'v1', makeLayer(tarOf({ 'x': 'x' })));
    const r = await d.docker(['pull', `${s1.host}/old:v1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed/);
    assert.match(r.stderr, new RegExp(`${s1.host}/old:v1`));
  });

  it('a corrupted blob fails naming the layer and leaves nothing behind', async () => {
    const bad = makeLayer(tarOf({ 'c.txt': 'c'.repeat(100_000) }), 'gzip');
    const im = makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), bad] });
    await reg.seedImage('corrupt', 'v1', im);
    const file = reg.blobPath(bad.digest);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const before = layerDirs().length;
    const r = await d.docker(['pull', `${reg.host}/corrupt:v1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, new RegExp(`filesystem layer verification failed for digest ${bad.digest}`));
    const ls = await d.docker(['images', '-q', `${reg.host}/corrupt`]);
    assert.equal(ls.stdout.trim(), '');
    assert.equal(fs.existsSync(blobFile(bad.digest)), false);
    assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'content/ingest')), []);
    assert.equal(layerDirs().length, before);
    // the first-pull error of a missing tag, before any progress: a plain 404
    const miss = await pullApi(`${reg.host}/corrupt`, 'nope');
    assert.equal(miss.status, 404);
    assert.equal(JSON.parse(miss.text).message, `manifest for ${reg.host}/corrupt:nope not found: manifest unknown: manifest unknown`);
    const run = await d.docker(['run', '--rm', `${reg.host}/corrupt:nope`]);
    assert.equal(run.code, 125);
    assert.match(run.stderr, new RegExp(`Unable to find image '${reg.host}/corrupt:nope' locally\\n.*manifest for ${reg.host}/corrupt:nope not found: manifest unknown: manifest unknown`));
  });

  it('two images sharing a base layer store it once', async () => {
    const base = makeLayer(tarOf({ 'shared.txt': 'shared base\n' }));
    const a = makeImage({ layers: [base, makeLayer(tarOf({ 'a': 'a' }))] });
    const b = makeImage({ layers: [base, makeLayer(tarOf({ 'b': 'b' }))] });
    await reg.seedImage('share-a', 'v1', a);
    await reg.seedImage('share-b', 'v1', b);
    const before = layerDirs().length;
    assert.equal((await d.docker(['pull', `${reg.host}/share-a:v1`])).code, 0);
    const pb = await d.docker(['pull', `${reg.host}/share-b:v1`]);
    assert.equal(pb.code, 0, pb.stderr);
    assert.match(pb.stdout, new RegExp(`${base.digest.slice(7, 19)}: Already exists`));
    assert.equal(layerDirs().length, before + 3);
  });

  it('GET /distribution/{name}/json: the descriptor and platforms', async () => {
    const list = await d.request('GET', `/v1.44/distribution/${reg.host}/multi:v1/json`, undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(list.status, 200, list.body.toString());
    const lj = list.json();
    assert.equal(lj.Descriptor.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.match(lj.Descriptor.digest, /^sha256:/);
    assert.deepEqual(lj.Platforms.map((p: { architecture: string }) => p.architecture), ['arm64', 'amd64']);
    const one = (await d.request('GET', `/v1.44/distribution/${reg.host}/busybox/json`)).json();
    assert.deepEqual(one, { Descriptor: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: bb.digest, size: bb.manifest.length }, Platforms: [{ architecture: 'amd64', os: 'linux' }] });
    const miss = await d.request('GET', `/v1.44/distribution/${reg.host}/nope/json`);
    assert.equal(miss.status, 404);
  });
});
