// TCP is served only with mutual TLS: the docker CLI with a client certificate gets in, a
// client without one does not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BERTH, TestDaemon, cleanupRoot, runCmd } from '../helpers/daemon';

let d: TestDaemon;
let certs: string;
let port: number;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A port free right now (the kernel's pick), not a fixed one: test files and other runs share the host. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(p));
    }).on('error', reject);
  });
}

before(async () => {
  port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  certs = path.join(root, 'certs');
  fs.mkdirSync(certs);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth-test-ca'], certs);
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']]) {
    fs.writeFileSync(path.join(certs, `${name}.ext`), ext + '\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], certs);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`], certs);
  }
  // The docker CLI reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH.
  fs.copyFileSync(path.join(certs, 'client.pem'), path.join(certs, 'cert.pem'));
  fs.copyFileSync(path.join(certs, 'client-key.pem'), path.join(certs, 'key.pem'));
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({ 'cgroup-parent': `/berth-test-${path.basename(root)}` }));
  d = new TestDaemon(root, ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', path.join(certs, 'ca.pem'),
    '--tlscert', path.join(certs, 'server.pem'), '--tlskey', path.join(certs, 'server-key.pem')]);
  await d.start();
});
after(async () => {
  await d.stopDaemon();
  await cleanupRoot(d.root);
});

test('the docker CLI with a client certificate talks to berthd over TCP', async () => {
  const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs, DOCKER_CONFIG: path.join(d.root, 'dockercfg') };
  const r = await runCmd('docker', ['version', '--format', '{{.Server.APIVersion}}'], env);
  assert.equal(r.stdout.trim(), '1.44', r.stderr);
});

test('the berth CLI talks to berthd over TLS: its own HTTP over tls.connect, verified against ca.pem', async () => {
  const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs, DOCKER_CONFIG: path.join(d.root, 'dockercfg') };
  const r = await runCmd(BERTH, ['version', '--format', '{{.Server.Version}} {{.Server.Os}}'], env);
  assert.equal(r.stdout.trim(), '0.1.0 linux', r.stderr);
  const ps = await runCmd(BERTH, ['ps', '-a', '--format', '{{.ID}}'], env);
  assert.equal(ps.code, 0, ps.stderr);
  // verified: against another CA the handshake fails, and the CLI says why
  const other = path.join(certs, 'other');
  fs.mkdirSync(other, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=other-ca'], other);
  for (const f of ['cert.pem', 'key.pem']) fs.copyFileSync(path.join(certs, f), path.join(other, f));
  const bad = await runCmd(BERTH, ['version', '--format', '{{.Server.Version}}'], { ...env, DOCKER_CERT_PATH: other });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /certificate/i);
});

test('a client without a certificate is refused', async () => {
  const err = await new Promise<Error | undefined>((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/_ping', ca: fs.readFileSync(path.join(certs, 'ca.pem')) }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('error', resolve);
    req.end();
  });
  assert.ok(err, 'the TLS handshake should fail without a client certificate');
});
