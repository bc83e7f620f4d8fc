// registry-mirrors and insecure-registries: Docker Hub names go to the mirrors first (a mirror
// that is down or lacks the image is skipped), and docker info shows the configuration.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { freePort, makeImage, makeLayer, startProxy, startRegistry, tarOf, type BuiltImage, type RegistryProxy, type TestRegistry } from '../helpers/registry';

describe('registry mirrors', () => {
  let d: TestDaemon;
  let empty: TestRegistry;
  let full: TestRegistry;
  let emptyProxy: RegistryProxy;
  let im: BuiltImage;
  let downPort: number;
  before(async () => {
    [empty, full, downPort] = await Promise.all([startRegistry(), startRegistry(), freePort()]);
    emptyProxy = await startProxy(empty.url);
    im = makeImage({ layers: [makeLayer(tarOf({ 'from-mirror.txt': 'mirror\n' }))] });
    await full.seedImage('library/mirrored', 'latest', im);
    d = await startDaemon([
      '--registry-mirror', `http://127.0.0.1:${downPort}`, '--registry-mirror', emptyProxy.url, '--registry-mirror', full.url,
      '--insecure-registry', '10.9.0.0/16', '--insecure-registry', 'myreg.example:5000',
    ]);
  });
  after(async () => { await Promise.all([d?.stop(), empty?.stop(), full?.stop(), emptyProxy?.stop()]); });

  it('a Docker Hub name is pulled from the first mirror that has it', async () => {
    const r = await d.docker(['pull', 'mirrored']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Status: Downloaded newer image for mirrored:latest/);
    assert.match(r.stdout, /Pulling from library\/mirrored/);
    // the mirror without it was asked first
    assert.ok(emptyProxy.requests.some((q) => q.path === '/v2/library/mirrored/manifests/latest' && q.status === 404), JSON.stringify(emptyProxy.requests));
    const insp = await d.docker(['image', 'inspect', '-f', '{{json .RepoTags}} {{json .RepoDigests}}', 'mirrored']);
    assert.equal(insp.stdout.trim(), `["mirrored:latest"] ["mirrored@${im.digest}"]`);
  });

  it('a name that is not Docker Hub\'s never goes to a mirror', async () => {
    const before = emptyProxy.requests.length;
    const r = await d.docker(['pull', `${empty.host}/library/mirrored`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /manifest unknown/);
    assert.equal(emptyProxy.requests.length, before);
  });

  it('docker info shows the mirrors and insecure registries', async () => {
    const r = await d.docker(['info', '--format', '{{json .RegistryConfig}}']);
    assert.equal(r.code, 0, r.stderr);
    const rc = JSON.parse(r.stdout);
    const mirrors = [`http://127.0.0.1:${downPort}/`, `${emptyProxy.url}/`, `${full.url}/`];
    assert.deepEqual(rc.Mirrors, mirrors);
    assert.deepEqual(rc.InsecureRegistryCIDRs, ['127.0.0.0/8', '::1/128', '10.9.0.0/16']);
    assert.deepEqual(rc.IndexConfigs['docker.io'], { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true });
    assert.deepEqual(rc.IndexConfigs['myreg.example:5000'], { Name: 'myreg.example:5000', Mirrors: [], Secure: false, Official: false });
    const text = await d.docker(['info']);
    assert.match(text.stdout, /Insecure Registries:\n\s+myreg.example:5000\n\s+(::1\/128|127\.0\.0\.0\/8)/);
    assert.match(text.stdout, /Registry Mirrors:\n\s+http:\/\/127\.0\.0\.1:\d+\//);
  });
});
