// WWW-Authenticate parsing, X-Registry-Auth decoding, the insecure-registry rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicCredentials, decodeRegistryAuth, parseChallenges } from '../../src/distribution/auth';
import { hostOnly, InsecureRegistries } from '../../src/distribution/transport';

describe('distribution auth and transport rules', () => {
  it('parses bearer and basic challenges', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
    assert.deepEqual(parseChallenges(['Basic realm="basic-realm"']), [{ scheme: 'basic', params: { realm: 'basic-realm' } }]);
    assert.deepEqual(parseChallenges('Bearer realm="a\\"b", error="invalid_token", Basic realm=x'), [
      { scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } }, { scheme: 'basic', params: { realm: 'x' } },
    ]);
    assert.deepEqual(parseChallenges(undefined), []);
  });

  it('decodes X-Registry-Auth (base64url, {} is anonymous) and auth strings', () => {
    assert.equal(decodeRegistryAuth('e30='), undefined);
    assert.equal(decodeRegistryAuth(''), undefined);
    const a = decodeRegistryAuth('eyJ1c2VybmFtZSI6InRydXNlciIsInBhc3N3b3JkIjoic2VjcmV0cHciLCJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAuMC4xOjUwNTAifQ==');
    assert.deepEqual(a, { username: 'truser', password: 'secretpw', serveraddress: '127.0.0.1:5050' });
    assert.deepEqual(basicCredentials({ auth: Buffer.from('u:p:q').toString('base64') }), { username: 'u', password: 'p:q' });
    assert.equal(decodeRegistryAuth('not base64 json'), undefined);
  });

  it('treats loopback, listed hosts and listed CIDRs as insecure, nothing else', async () => {
    const ir = new InsecureRegistries(['myreg.example:5000', '10.1.0.0/16', 'http://other.example']);
    assert.equal(await ir.isInsecure('127.0.0.1:5000'), true);
    assert.equal(await ir.isInsecure('localhost:5000'), true);
    assert.equal(await ir.isInsecure('[::1]:5000'), true);
    assert.equal(await ir.isInsecure('myreg.example:5000'), true);
    assert.equal(await ir.isInsecure('other.example'), true);
    assert.equal(await ir.isInsecure('10.1.200.3:443'), true);
    assert.equal(await ir.isInsecure('10.2.0.1'), false);
    assert.equal(await ir.isInsecure('registry-1.docker.io'), false);
    assert.deepEqual(ir.cidrs, ['127.0.0.0/8', '::1/128', '10.1.0.0/16']);
    assert.equal(hostOnly('[::1]:5000'), '::1');
    assert.equal(hostOnly('h:1'), 'h');
  });
});
