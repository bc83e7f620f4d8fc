// Platform selection from manifest lists, mirror parsing and endpoint order, the pull
// reference from fromImage + tag, daemon options for registries, docker info's RegistryConfig.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { registryConfigView } from '../../src/api/views/system';
import { parseDaemonOptions } from '../../src/daemon/options';
import { selectPlatform, type Descriptor } from '../../src/distribution/manifests';
import { parseMirror, Resolver } from '../../src/distribution/resolver';
import { pullReference } from '../../src/engine/images/pull';
import { normalizedString, parseNormalizedNamed } from '../../src/lib/reference';

const d = (n: number, platform: Descriptor['platform']): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Descriptor['digest'], size: 1, platform,
});

describe('distribution: manifests, resolver, options', () => {
  it('selects linux/amd64 by default and honours variants', () => {
    const idx = { schemaVersion: 2 as const, manifests: [
      d(1, { os: 'linux', architecture: 'arm', variant: 'v6' }), d(2, { os: 'linux', architecture: 'arm', variant: 'v7' }),
      d(3, { os: 'linux', architecture: 'arm64', variant: 'v8' }), d(4, { os: 'windows', architecture: 'amd64' }),
      d(5, { os: 'linux', architecture: 'amd64' }), d(6, { os: 'unknown', architecture: 'unknown' }),
    ] };
    assert.equal(selectPlatform(idx, { os: 'linux' })?.digest, idx.manifests[4].digest);
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm64' })?.digest, idx.manifests[2].digest);
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, idx.manifests[2].digest);
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm' })?.digest, idx.manifests[1].digest);
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, idx.manifests[0].digest);
    assert.equal(selectPlatform(idx, { os: 'windows', architecture: 'amd64' })?.digest, idx.manifests[3].digest);
    assert.equal(selectPlatform(idx, { os: 'linux', architecture: 's390x' }), undefined);
  });

  it('mirrors come first for Docker Hub names only', () => {
    const r = new Resolver(['https://mirror.example', 'http://127.0.0.1:5001/']);
    assert.deepEqual(r.endpoints(parseNormalizedNamed('busybox')).map((e) => [e.host, e.mirror, e.scheme]), [
      ['mirror.example', true, 'https'], ['127.0.0.1:5001', true, 'http'], ['registry-1.docker.io', false, undefined],
    ]);
    assert.deepEqual(r.endpoints(parseNormalizedNamed('quay.io/a/b')).map((e) => e.host), ['quay.io']);
    assert.throws(() => parseMirror('mirror.example'), /invalid mirror/);
    assert.throws(() => parseMirror('ftp://m'), /unsupported scheme/);
    assert.throws(() => parseMirror('https://m/path'), /path/);
  });

  it('reads fromImage + tag as the API sends them', () => {
    assert.equal(normalizedString(pullReference('busybox', 'latest')), 'docker.io/library/busybox:latest');
    assert.equal(normalizedString(pullReference('127.0.0.1:5000/a/b', 'v1')), '127.0.0.1:5000/a/b:v1');
    const dg = 'sha256:' + 'a'.repeat(64);
    assert.equal(normalizedString(pullReference('127.0.0.1:5000/a', dg)), `127.0.0.1:5000/a@${dg}`);
    assert.equal(normalizedString(pullReference('x:1.0')), 'docker.io/library/x:1.0');
    assert.throws(() => pullReference('x', 'bad tag'), /invalid/);
    assert.throws(() => pullReference('x', 'sha256:abc'), /invalid/);
  });

  it('daemon options: registry-mirrors and insecure-registries from flags or daemon.json, not both', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bopt-'));
    try {
      const cfg = path.join(dir, 'daemon.json');
      fs.writeFileSync(cfg, JSON.stringify({ 'registry-mirrors': ['https://m.example'], 'insecure-registries': ['10.0.0.0/8'], 'max-concurrent-downloads': 5 }));
      const o = parseDaemonOptions(['--config-file', cfg]);
      assert.deepEqual(o.registryMirrors, ['https://m.example']);
      assert.deepEqual(o.insecureRegistries, ['10.0.0.0/8']);
      assert.equal(o.maxConcurrentDownloads, 5);
      assert.throws(() => parseDaemonOptions(['--config-file', cfg, '--registry-mirror', 'https://x']), /registry-mirrors/);
      fs.writeFileSync(cfg, '{}');
      const f = parseDaemonOptions(['--config-file', cfg, '--insecure-registry', 'a:5000', '--insecure-registry', 'b']);
      assert.deepEqual(f.insecureRegistries, ['a:5000', 'b']);
      assert.deepEqual(f.registryMirrors, []);
      fs.writeFileSync(cfg, JSON.stringify({ 'max-concurrent-downloads': 0 }));
      assert.throws(() => parseDaemonOptions(['--config-file', cfg]), /max-concurrent-downloads/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docker info RegistryConfig', () => {
    assert.deepEqual(registryConfigView({}), {
      AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } }, Mirrors: [],
    });
  });
});
