// docker pull / docker run of images in a real registry (Debian's docker-registry on loopback):
// tags, digests, manifest lists and OCI indexes with platform selection, gzip/zstd/plain layers,
// schema1 refused, a corrupted blob, /distribution/{name}/json, docker info's registry config.
import assert from 'node:assert/strict';
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
});
