// Registries that are not on loopback: HTTPS with a verified certificate only, unless
// insecure-registries names them (by CIDR here): then unverified TLS, or plain HTTP.
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { makeImage, makeLayer, startRegistry, tarOf, type BuiltImage, type TestRegistry } from '../helpers/registry';

// one of this machine's own non-loopback addresses: reachable from here only, and not insecure by default
const address = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('pull over TLS and insecure registries', { skip: address ? false : 'no non-loopback IPv4 address' }, () => {
  let strict: TestDaemon;
  let lax: TestDaemon;
  let tls: TestRegistry;
  let plain: TestRegistry;
  let im: BuiltImage;
  before(async () => {
    [tls, plain] = await Promise.all([startRegistry({ tls: true, address }), startRegistry({ address })]);
    [strict, lax] = await Promise.all([startDaemon(), startDaemon(['--insecure-registry', `${address}/32`])]);
    im = makeImage({ layers: [makeLayer(tarOf({ 'tls.txt': 'tls\n' }))] });
    await tls.seedImage('img', 'v1', im);
    await plain.seedImage('img', 'v1', im);
  });
  after(async () => { await Promise.all([strict?.stop(), lax?.stop(), tls?.stop(), plain?.stop()]); });

  it('a self-signed registry that is not insecure is refused (certificate not verified)', async () => {
    const r = await strict.docker(['pull', `${tls.host}/img:v1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Get "https://${tls.host}/v2/img/manifests/v1": .*certificate`));
    const p = await strict.docker(['pull', `${plain.host}/img:v1`]);
    assert.notEqual(p.code, 0, 'no plain HTTP for a secure registry');
    assert.match(p.stderr, new RegExp(`https://${plain.host}/`));
  });

  it('an insecure registry by CIDR: unverified TLS, or plain HTTP when HTTPS does not answer', async () => {
    const r = await lax.docker(['pull', `${tls.host}/img:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Status: Downloaded newer image/);
    const p = await lax.docker(['pull', `${plain.host}/img:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const info = await lax.docker(['info', '--format', '{{json .RegistryConfig.InsecureRegistryCIDRs}}']);
    assert.deepEqual(JSON.parse(info.stdout), ['127.0.0.0/8', '::1/128', `${address}/32`]);
  });
});
