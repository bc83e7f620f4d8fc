// Pulls from registries that need credentials: htpasswd basic auth and a bearer token server
// (anonymous pulls where allowed), through docker login (POST /auth) and X-Registry-Auth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { makeImage, makeLayer, startRegistry, tarOf, type BuiltImage, type TestRegistry } from '../helpers/registry';

describe('docker pull with registry auth', () => {
  let d: TestDaemon;
  let basic: TestRegistry;
  let token: TestRegistry;
  let im: BuiltImage;
  before(async () => {
    [d, basic, token] = await Promise.all([
      startDaemon(), startRegistry({ auth: 'htpasswd', users: { alice: 'pw-alice' } }),
      startRegistry({ auth: 'token', users: { bob: 'pw-bob' }, anonymousPull: ['pub/img'] }),
    ]);
    im = makeImage({ layers: [makeLayer(tarOf({ 'secret.txt': 'authorised\n' }))] });
    await basic.seedImage('priv/img', 'v1', im);
    await token.seedImage('pub/img', 'v1', im);
    await token.seedImage('priv/img', 'v1', im);
  });
  after(async () => { await Promise.all([d?.stop(), basic?.stop(), token?.stop()]); });

  const login = (host: string, user: string, pw: string) => d.docker(['login', '-u', user, '--password-stdin', host], { input: pw + '\n' });

  it('basic auth: refused anonymously, docker login checks the password, then the pull works', async () => {
    const anon = await d.docker(['pull', `${basic.host}/priv/img:v1`]);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /pull access denied for .*priv\/img|unauthorized/);
    const bad = await login(basic.host, 'alice', 'wrong');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, new RegExp(`login attempt to http://${basic.host}/v2/ failed with status: 401 Unauthorized`));
    const ok = await login(basic.host, 'alice', 'pw-alice');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    const p = await d.docker(['pull', `${basic.host}/priv/img:v1`]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Status: Downloaded newer image/);
  });

  it('token server: anonymous pull where the repository allows it, credentials elsewhere', async () => {
    const pub = await d.docker(['pull', `${token.host}/pub/img:v1`]);
    assert.equal(pub.code, 0, pub.stderr);
    await d.docker(['rmi', `${token.host}/pub/img:v1`]);
    const anon = await d.docker(['pull', `${token.host}/priv/img:v1`]);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, new RegExp(`pull access denied for ${token.host}/priv/img, repository does not exist or may require 'docker login'`));
    const bad = await login(token.host, 'bob', 'wrong');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unauthorized: incorrect username or password/);
    const ok = await login(token.host, 'bob', 'pw-bob');
    assert.equal(ok.code, 0, ok.stderr);
    const p = await d.docker(['pull', `${token.host}/priv/img:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const asBob = token.token!.requests.filter((r) => r.user === 'bob' && r.scope.includes('repository:priv/img:pull'));
    assert.ok(asBob.length >= 1, JSON.stringify(token.token!.requests));
  });

  it('X-Registry-Auth on POST /images/create carries the credentials (base64url JSON)', async () => {
    await d.docker(['rmi', `${token.host}/priv/img:v1`]);
    const q = new URLSearchParams({ fromImage: `${token.host}/priv/img`, tag: 'v1' });
    const none = await d.request('POST', `/v1.44/images/create?${q}`, undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(none.status, 404);
    const hdr = Buffer.from(JSON.stringify({ username: 'bob', password: 'pw-bob', serveraddress: token.host })).toString('base64url');
    const r = await d.request('POST', `/v1.44/images/create?${q}`, undefined, { 'X-Registry-Auth': hdr });
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /Status: Downloaded newer image/);
    const wrong = Buffer.from(JSON.stringify({ username: 'bob', password: 'nope' })).toString('base64url');
    const w = await d.request('POST', `/v1.44/images/create?${q}`, undefined, { 'X-Registry-Auth': wrong });
    assert.equal(w.status, 401, w.body.toString());
  });

  it('POST /auth: 200 with Docker\'s body, 401 with its message', async () => {
    const ok = await d.request('POST', '/v1.44/auth', { username: 'alice', password: 'pw-alice', serveraddress: basic.host });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { IdentityToken: '', Status: 'Login Succeeded' });
    const bad = await d.request('POST', '/v1.44/auth', { username: 'alice', password: 'x', serveraddress: `http://${basic.host}/` });
    assert.equal(bad.status, 401);
    assert.equal(bad.json().message, `login attempt to http://${basic.host}/v2/ failed with status: 401 Unauthorized`);
  });
});
