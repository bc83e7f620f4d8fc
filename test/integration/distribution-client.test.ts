// The registry client against a real docker-registry: plain HTTP on loopback, basic auth and
// the bearer token flow (anonymous and with credentials), login checks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '../../src/distribution/auth';
import { RegistryClient, registryErrorText } from '../../src/distribution/client';
import { makeImage, makeLayer, MT, startRegistry, tarOf, type TestRegistry } from '../helpers/registry';

describe('registry client', () => {
  let plain: TestRegistry;
  let basic: TestRegistry;
  let token: TestRegistry;
  const im = makeImage({ layers: [makeLayer(tarOf({ 'a.txt': 'a\n' }))] });
  before(async () => {
    [plain, basic, token] = await Promise.all([
      startRegistry(), startRegistry({ auth: 'htpasswd', users: { alice: 'pw1' } }),
      startRegistry({ auth: 'token', users: { bob: 'pw2' }, anonymousPull: ['pub/img'] }),
    ]);
    await plain.seedImage('x/img', 'v1', im);
    await basic.seedImage('x/img', 'v1', im);
    await token.seedImage('pub/img', 'v1', im);
    await token.seedImage('priv/img', 'v1', im);
  });
  after(async () => { await Promise.all([plain, basic, token].map((r) => r?.stop())); });

  const getManifest = (c: RegistryClient, r: TestRegistry, repo: string, creds?: { username: string; password: string }) =>
    c.request(r.host, 'GET', `/v2/${repo}/manifests/v1`, { scopes: [`repository:${repo}:pull`], creds, headers: { Accept: MT.dockerManifest } });

  it('plain HTTP on loopback with no configuration (HTTPS tried first)', async () => {
    const c = new RegistryClient();
    const r = await getManifest(c, plain, 'x/img');
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-content-digest'], im.digest);
    const miss = await c.request(plain.host, 'GET', '/v2/x/nope/manifests/v1', { headers: { Accept: MT.dockerManifest } });
    assert.equal(miss.status, 404);
    assert.equal(registryErrorText(await miss.text()), 'manifest unknown: manifest unknown');
    c.close();
  });

  it('basic auth: refused without credentials, accepted with them; login checks them', async () => {
    const c = new RegistryClient();
    assert.equal((await getManifest(c, basic, 'x/img')).status, 401);
    assert.equal((await getManifest(c, basic, 'x/img', { username: 'alice', password: 'pw1' })).status, 200);
    await c.login(basic.host, { username: 'alice', password: 'pw1' });
    await assert.rejects(c.login(basic.host, { username: 'alice', password: 'bad' }), UnauthorizedError);
    c.close();
  });

  it('token flow: anonymous where allowed, credentials elsewhere, tokens cached per scope', async () => {
    const c = new RegistryClient();
    assert.equal((await getManifest(c, token, 'pub/img')).status, 200);
    assert.equal((await getManifest(c, token, 'priv/img')).status, 401);
    const creds = { username: 'bob', password: 'pw2' };
    assert.equal((await getManifest(c, token, 'priv/img', creds)).status, 200);
    const before = token.token!.requests.length;
    assert.equal((await getManifest(c, token, 'priv/img', creds)).status, 200);
    assert.equal(token.token!.requests.length, before, 'the cached token is reused');
    await c.login(token.host, creds);
    await assert.rejects(c.login(token.host, { username: 'bob', password: 'bad' }), (e: Error) => e instanceof UnauthorizedError && /incorrect username or password/.test(e.message));
    c.close();
  });
});
