// The test registry fixture itself: each auth mode answers as distribution does, and seeded
// images (including the schema1 one) read back by plain HTTP.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { busyboxTar, httpRequest, makeImage, makeLayer, MT, startRegistry, tarOf, type TestRegistry } from '../helpers/registry';

describe('registry fixture', () => {
  const regs: TestRegistry[] = [];
  after(async () => { await Promise.all(regs.map((r) => r.stop())); });

  it('plain: seeds an image and serves its manifest and blobs', async () => {
    const r = await startRegistry();
    regs.push(r);
    const im = makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), makeLayer(tarOf({ 'hello.txt': 'hi\n' }), 'zstd')] });
    const digest = await r.seedImage('busybox', 'latest', im);
    const m = await httpRequest('GET', `${r.url}/v2/busybox/manifests/latest`, undefined, { Accept: MT.dockerManifest });
    assert.equal(m.status, 200);
    assert.equal(m.headers['docker-content-digest'], digest);
    const b = await httpRequest('GET', `${r.url}/v2/busybox/blobs/${im.layers[1].digest}`);
    assert.equal(b.status, 200);
    assert.deepEqual(b.body, im.layers[1].data);
  });

  it('htpasswd: anonymous gets 401 Basic, the user gets in', async () => {
    const r = await startRegistry({ auth: 'htpasswd', users: { alice: 'pw1' } });
    regs.push(r);
    const anon = await httpRequest('GET', `${r.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(String(anon.headers['www-authenticate']), /^Basic realm="basic-realm"/);
    const ok = await httpRequest('GET', `${r.url}/v2/`, undefined, { Authorization: 'Basic ' + Buffer.from('alice:pw1').toString('base64') });
    assert.equal(ok.status, 200);
  });

  it('token: the bearer challenge, a token from the server, anonymous pull only where allowed', async () => {
    const r = await startRegistry({ auth: 'token', users: { bob: 'pw2' }, anonymousPull: ['public/img'] });
    regs.push(r);
    const im = makeImage({ layers: [makeLayer(tarOf({ 'a.txt': 'a\n' }), 'gzip')] });
    await r.seedImage('public/img', 'v1', im);
    await r.seedImage('private/img', 'v1', im);
    const ch = await httpRequest('GET', `${r.url}/v2/public/img/manifests/v1`, undefined, { Accept: MT.dockerManifest });
    assert.equal(ch.status, 401);
    assert.match(String(ch.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="berth-test-registry",scope="repository:public\/img:pull"/);
    const tokenFor = async (repo: string, cred?: string) => {
      const t = await httpRequest('GET', `${r.token!.realm}?service=berth-test-registry&scope=repository:${repo}:pull`, undefined,
        cred ? { Authorization: 'Basic ' + Buffer.from(cred).toString('base64') } : {});
      return { status: t.status, token: t.status === 200 ? JSON.parse(t.body.toString()).token as string : '' };
    };
    const get = async (repo: string, token: string) => (await httpRequest('GET', `${r.url}/v2/${repo}/manifests/v1`, undefined, { Accept: MT.dockerManifest, Authorization: `Bearer ${token}` })).status;
    assert.equal(await get('public/img', (await tokenFor('public/img')).token), 200);
    assert.equal(await get('private/img', (await tokenFor('private/img')).token), 401);
    assert.equal(await get('private/img', (await tokenFor('private/img', 'bob:pw2')).token), 200);
    assert.equal((await tokenFor('private/img', 'bob:wrong')).status, 401);
  });

  it('schema1: a signed schema1 manifest is accepted and served', async () => {
    const r = await startRegistry({ schema1: true });
    regs.push(r);
    await r.seedSchema1('old', 'v1', makeLayer(tarOf({ 'x': 'x' }), 'gzip'));
    const m = await httpRequest('GET', `${r.url}/v2/old/manifests/v1`, undefined, { Accept: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    assert.equal(m.status, 200, m.body.toString());
    assert.equal(JSON.parse(m.body.toString()).schemaVersion, 1);
  });
});
