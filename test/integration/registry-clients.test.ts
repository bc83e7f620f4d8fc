// berth registry with real clients: Debian's skopeo (copy in and out of an OCI layout made from
// the busybox tar, inspect, list-tags, a multi-platform index), curl; htpasswd basic auth, the
// token flow of its own realm, TLS; and `berth registry gc`.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH } from '../helpers/daemon';
import { busyboxLayout, run, startRegistry, type TestRegistry } from '../helpers/registryserver';

let work: string;
let layout: Awaited<ReturnType<typeof busyboxLayout>>;
const servers: TestRegistry[] = [];

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-clients-'));
  layout = await busyboxLayout(path.join(work, 'layout'));
});
after(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function server(args: string[] = []): Promise<TestRegistry> {
  const s = await startRegistry(args);
  servers.push(s);
  return s;
}

async function skopeo(args: string[]): Promise<string> {
  // A private auth file: nothing from the machine's own logins.
  const env = { ...process.env, REGISTRY_AUTH_FILE: path.join(work, 'auth.json') };
  try {
    const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { env, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')}: ${err.stderr ?? err.message}`);
  }
}

async function curl(args: string[]): Promise<{ status: number; body: string; headers: string }> {
  const hdr = path.join(work, `h-${Math.random()}`);
  const { stdout } = await run('curl', ['-s', '-D', hdr, '-w', '\n%{http_code}', ...args]);
  const i = stdout.lastIndexOf('\n');
  const headers = fs.readFileSync(hdr, 'utf8');
  fs.rmSync(hdr);
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i), headers };
}

const hex = (d: string) => d.replace('sha256:', '');

describe('skopeo', () => {
  let reg: TestRegistry;
  before(async () => { reg = await server(); });

  it('copies an OCI layout in, inspects it, lists tags, copies it out byte for byte', async () => {
    const dest = `docker://${reg.hostPort}/library/busybox:latest`;
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:latest`, dest]);
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/library/busybox:1.36`]);
    const info = JSON.parse(await skopeo(['inspect', '--tls-verify=false', dest]));
    assert.equal(info.Digest, layout.manifest);
    assert.deepEqual(info.Layers, [layout.layer]);
    assert.equal(info.Os, 'linux');
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', dest]);
    assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, layout.manifest, 'the exact manifest bytes');
    const tags = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', `docker://${reg.hostPort}/library/busybox`]));
    assert.deepEqual(tags.Tags, ['1.36', 'latest']);
    const out = path.join(work, 'out');
    await skopeo(['copy', '--src-tls-verify=false', dest, `oci:${out}:latest`]);
    assert.deepEqual(fs.readFileSync(path.join(out, 'blobs', 'sha256', hex(layout.layer))), fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', hex(layout.layer))));
    const outIndex = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8'));
    assert.equal(outIndex.manifests[0].digest, layout.manifest);
  });

  it('a Docker schema2 copy across repositories mounts the layer, and curl reads it with its content type', async () => {
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'v2s2',
      `docker://${reg.hostPort}/library/busybox:latest`, `docker://${reg.hostPort}/other/busybox:v2s2`]);
    const r = await curl([`${reg.url}/v2/other/busybox/manifests/v2s2`]);
    assert.equal(r.status, 200);
    assert.match(r.headers, /content-type: application\/vnd\.docker\.distribution\.manifest\.v2\+json/i);
    const m = JSON.parse(r.body);
    assert.equal(m.layers[0].digest.length, 71);
    const blob = await curl(['-o', '/dev/null', `${reg.url}/v2/other/busybox/blobs/${m.layers[0].digest}`]);
    assert.equal(blob.status, 200);
    const blobs = fs.readdirSync(path.join(reg.storage, 'content', 'blobs', 'sha256'));
    assert.equal(blobs.filter((b) => b === hex(layout.layer)).length, 1, 'one copy of a layer that two repositories hold');
  });

  it('a multi-platform index: copy --all in and out', async () => {
    const multi = path.join(work, 'multi');
    fs.cpSync(layout.dir, multi, { recursive: true });
    const manifestSize = fs.statSync(path.join(multi, 'blobs', 'sha256', hex(layout.manifest))).size;
    const indexBody = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: layout.manifest, size: manifestSize, platform: { architecture: 'amd64', os: 'linux' } }] }));
    const indexDigest = `sha256:${createHash('sha256').update(indexBody).digest('hex')}`;
    fs.writeFileSync(path.join(multi, 'blobs', 'sha256', hex(indexDigest)), indexBody);
    fs.writeFileSync(path.join(multi, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: indexBody.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
    await skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${multi}:multi`, `docker://${reg.hostPort}/multi/busybox:multi`]);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.hostPort}/multi/busybox:multi`]);
    assert.equal(JSON.parse(raw).mediaType, 'application/vnd.oci.image.index.v1+json');
    const out = path.join(work, 'multi-out');
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${reg.hostPort}/multi/busybox:multi`, `oci:${out}:multi`]);
    assert.ok(fs.existsSync(path.join(out, 'blobs', 'sha256', hex(layout.layer))));
  });
});

describe('htpasswd basic auth', () => {
  let reg: TestRegistry;
  before(async () => {
    const file = path.join(work, 'htpasswd');
    await run('htpasswd', ['-Bbc', file, 'alice', 'wonderland']);
    reg = await server(['--htpasswd', file]);
  });

  it('refuses without credentials (401, Basic challenge, UNAUTHORIZED) and with wrong ones', async () => {
    const r = await curl([`${reg.url}/v2/`]);
    assert.equal(r.status, 401);
    assert.match(r.headers, /www-authenticate: Basic realm="berth-registry"/i);
    assert.equal(JSON.parse(r.body).errors[0].code, 'UNAUTHORIZED');
    assert.equal((await curl(['-u', 'alice:wrong', `${reg.url}/v2/`])).status, 401);
    assert.equal((await curl(['-u', 'alice:wonderland', `${reg.url}/v2/`])).status, 200);
  });

  it('skopeo pushes and pulls with --creds', async () => {
    await assert.rejects(skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/private/busybox:latest`]));
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wonderland', `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/private/busybox:latest`]);
    const info = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--creds', 'alice:wonderland', `docker://${reg.hostPort}/private/busybox:latest`]));
    assert.equal(info.Digest, layout.manifest);
  });
});

describe('token service', () => {
  let reg: TestRegistry;
  before(async () => {
    const file = path.join(work, 'htpasswd-token');
    await run('htpasswd', ['-Bbc', file, 'alice', 'a-pass']);
    await run('htpasswd', ['-Bb', file, 'bob', 'b-pass']);
    const access = path.join(work, 'access');
    fs.writeFileSync(access, [
      '# user repository actions',
      'alice     *          pull,push,delete',
      'bob       team/*     pull',
      'anonymous public/*   pull',
    ].join('\n'));
    reg = await server(['--htpasswd', file, '--token-access', access]);
  });

  async function token(creds: string | undefined, scope: string): Promise<string> {
    const r = await curl([...(creds ? ['-u', creds] : []), `${reg.url}/token?service=berth-registry&scope=${encodeURIComponent(scope)}`]);
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body).token;
  }

  it('challenges with Bearer realm, service and scope; the realm issues tokens with what the access file grants', async () => {
    const r = await curl([`${reg.url}/v2/team/app/tags/list`]);
    assert.equal(r.status, 401);
    assert.match(r.headers, new RegExp(`www-authenticate: Bearer realm="${reg.url}/token",service="berth-registry",scope="repository:team/app:pull"`, 'i'));
    const bobPull = await token('bob:b-pass', 'repository:team/app:pull,push');
    const claims = JSON.parse(Buffer.from(bobPull.split('.')[1], 'base64url').toString());
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    // bob may pull (404: nothing there yet), not push
    assert.equal((await curl(['-H', `Authorization: Bearer ${bobPull}`, `${reg.url}/v2/team/app/tags/list`])).status, 404);
    const push = await curl(['-X', 'POST', '-H', `Authorization: Bearer ${bobPull}`, `${reg.url}/v2/team/app/blobs/uploads/`]);
    assert.equal(push.status, 401);
    assert.match(push.headers, /error="insufficient_scope"/);
    assert.equal((await curl(['-u', 'bob:wrong', `${reg.url}/token?service=berth-registry&scope=repository:team/app:pull`])).status, 401);
    assert.equal((await curl(['-H', 'Authorization: Bearer not.a.token', `${reg.url}/v2/`])).status, 401);
  });

  it('skopeo goes through the token flow: alice pushes, bob pulls team/*, anonymous pulls public/* only', async () => {
    for (const repo of ['team/busybox', 'public/busybox', 'secret/busybox']) {
      await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:a-pass', `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/${repo}:latest`]);
    }
    assert.equal(JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--creds', 'bob:b-pass', `docker://${reg.hostPort}/team/busybox:latest`])).Digest, layout.manifest);
    await assert.rejects(skopeo(['inspect', '--tls-verify=false', '--creds', 'bob:b-pass', `docker://${reg.hostPort}/secret/busybox:latest`]));
    await assert.rejects(skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'bob:b-pass', `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/team/busybox:bob`]));
    assert.equal(JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--no-creds', `docker://${reg.hostPort}/public/busybox:latest`])).Digest, layout.manifest);
    await assert.rejects(skopeo(['inspect', '--tls-verify=false', '--no-creds', `docker://${reg.hostPort}/team/busybox:latest`]));
  });

  it('delete needs the delete action', async () => {
    const bob = await token('bob:b-pass', 'repository:team/busybox:delete');
    assert.equal((await curl(['-X', 'DELETE', '-H', `Authorization: Bearer ${bob}`, `${reg.url}/v2/team/busybox/manifests/latest`])).status, 401);
    const alice = await token('alice:a-pass', 'repository:team/busybox:delete');
    assert.equal((await curl(['-X', 'DELETE', '-H', `Authorization: Bearer ${alice}`, `${reg.url}/v2/team/busybox/manifests/latest`])).status, 202);
  });
});

describe('TLS', () => {
  let reg: TestRegistry;
  let certDir: string;
  before(async () => {
    certDir = path.join(work, 'certs');
    fs.mkdirSync(certDir);
    const ca = path.join(certDir, 'ca.crt');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=berth test CA',
      '-keyout', path.join(work, 'ca.key'), '-out', ca]);
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', path.join(work, 'srv.key'), '-out', path.join(work, 'srv.csr')]);
    fs.writeFileSync(path.join(work, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
    await run('openssl', ['x509', '-req', '-in', path.join(work, 'srv.csr'), '-CA', ca, '-CAkey', path.join(work, 'ca.key'), '-CAcreateserial',
      '-days', '1', '-extfile', path.join(work, 'ext'), '-out', path.join(work, 'srv.crt')]);
    reg = await server(['--tls-cert', path.join(work, 'srv.crt'), '--tls-key', path.join(work, 'srv.key')]);
  });

  it('serves HTTPS with the certificate; skopeo verifies it against the CA', async () => {
    assert.match(reg.url, /^https:/);
    assert.equal((await curl(['--cacert', path.join(certDir, 'ca.crt'), `${reg.url}/v2/`])).status, 200);
    await assert.rejects(run('curl', ['-sf', `${reg.url}/v2/`]), 'not trusted without the CA');
    await skopeo(['copy', '--dest-cert-dir', certDir, `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/tls/busybox:latest`]);
    assert.equal(JSON.parse(await skopeo(['inspect', '--cert-dir', certDir, `docker://${reg.hostPort}/tls/busybox:latest`])).Digest, layout.manifest);
  });

  it('plain HTTP off loopback only when asked', async () => {
    const r = await run(BERTH, ['registry', 'serve', '--addr', '0.0.0.0:0', '--root', path.join(work, 'never')]).catch((e) => e as { code: number; stderr: string });
    assert.equal((r as { code: number }).code, 125);
    assert.match((r as { stderr: string }).stderr, /--plain-http/);
  });
});

describe('berth registry gc', () => {
  it('removes what no manifest references, after a dry run that removes nothing; keeps recent blobs and uploads in progress', async () => {
    const reg = await server();
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:latest`, `docker://${reg.hostPort}/gc/keep:latest`]);
    const data = (s: string) => ({ d: `sha256:${createHash('sha256').update(s).digest('hex')}`, s });
    const orphan = data('an orphan blob');
    assert.equal((await curl(['-X', 'POST', '--data-binary', orphan.s, `${reg.url}/v2/gc/orphan/blobs/uploads/?digest=${orphan.d}`])).status, 201);
    const loc = /location: (\S+)/i.exec((await curl(['-X', 'POST', `${reg.url}/v2/gc/orphan/blobs/uploads/`])).headers)![1];
    assert.equal((await curl(['-X', 'PATCH', '--data-binary', 'half an upload', `${reg.url}${loc}`])).status, 202);
    const blobsDir = path.join(reg.storage, 'content', 'blobs', 'sha256');
    const before = fs.readdirSync(blobsDir).sort();

    // Within the grace period nothing is taken: the orphan might be part of a push in progress.
    const recent = await run(BERTH, ['registry', 'gc', '--root', reg.storage]);
    assert.match(recent.stdout, /^0 blobs removed/m);
    const dry = await run(BERTH, ['registry', 'gc', '--root', reg.storage, '--dry-run', '--grace', '0']);
    assert.match(dry.stdout, new RegExp(`would remove ${orphan.d}`));
    assert.deepEqual(fs.readdirSync(blobsDir).sort(), before);

    const real = await run(BERTH, ['registry', 'gc', '--root', reg.storage, '--grace', '0']);
    assert.match(real.stdout, /^1 blobs removed/m);
    assert.deepEqual(fs.readdirSync(blobsDir).sort(), before.filter((b) => b !== hex(orphan.d)));
    assert.equal((await curl([`${reg.url}/v2/gc/orphan/blobs/${orphan.d}`])).status, 404);
    // what is referenced still pulls, and the upload in progress still finishes
    assert.equal(JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${reg.hostPort}/gc/keep:latest`])).Digest, layout.manifest);
    const fin = data('half an upload');
    assert.equal((await curl(['-X', 'PUT', `${reg.url}${loc}?digest=${fin.d}`])).status, 201);

    // a deleted manifest's blobs go at the next gc
    assert.equal((await curl(['-X', 'DELETE', `${reg.url}/v2/gc/keep/manifests/${layout.manifest}`])).status, 202);
    const after = await run(BERTH, ['registry', 'gc', '--root', reg.storage, '--grace', '0']);
    assert.match(after.stdout, /^4 blobs removed/m, 'manifest, config, layer and the finished upload');
  });
});

describe('pull-through cache (--proxy-upstream)', () => {
  it('fetches what it lacks from the upstream (with its credentials), stores it, and serves it after the upstream is gone', async () => {
    const file = path.join(work, 'htpasswd-upstream');
    await run('htpasswd', ['-Bbc', file, 'mirror', 'm-pass']);
    const upstream = await server(['--htpasswd', file]);
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'mirror:m-pass', `oci:${layout.dir}:latest`, `docker://${upstream.hostPort}/library/busybox:latest`]);
    const mirror = await server(['--proxy-upstream', upstream.url, '--proxy-username', 'mirror', '--proxy-password', 'm-pass']);
    const out = path.join(work, 'via-mirror');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${mirror.hostPort}/library/busybox:latest`, `oci:${out}:latest`]);
    assert.deepEqual(fs.readFileSync(path.join(out, 'blobs', 'sha256', hex(layout.layer))), fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', hex(layout.layer))));
    assert.ok(fs.existsSync(path.join(mirror.storage, 'content', 'blobs', 'sha256', hex(layout.layer))), 'the mirror keeps what it passed on');

    await upstream.kill();
    const info = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${mirror.hostPort}/library/busybox:latest`]));
    assert.equal(info.Digest, layout.manifest, 'by tag from the cache when the upstream is unreachable');
    const again = path.join(work, 'via-mirror-2');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${mirror.hostPort}/library/busybox@${layout.manifest}`, `oci:${again}:x`]);
    assert.ok(fs.existsSync(path.join(again, 'blobs', 'sha256', hex(layout.layer))));
    assert.equal((await curl([`${mirror.url}/v2/library/other/manifests/latest`])).status, 404);
    const push = await curl(['-X', 'POST', `${mirror.url}/v2/library/busybox/blobs/uploads/`]);
    assert.equal(push.status, 405, 'a cache takes no pushes');
    assert.equal(JSON.parse(push.body).errors[0].code, 'UNSUPPORTED');
  });
});

describe('pull-through cache: blob HEAD', () => {
  it('answers a HEAD of a blob it lacks from the upstream\'s HEAD, downloading nothing; the GET then stores it', async () => {
    const upstream = await server();
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:latest`, `docker://${upstream.hostPort}/library/busybox:latest`]);
    const mirror = await server(['--proxy-upstream', upstream.url]);
    const layerFile = path.join(layout.dir, 'blobs', 'sha256', hex(layout.layer));
    const cached = path.join(mirror.storage, 'content', 'blobs', 'sha256', hex(layout.layer));
    const url = `${mirror.url}/v2/library/busybox/blobs/${layout.layer}`;

    const head = await curl(['-I', url]);
    assert.equal(head.status, 200);
    assert.match(head.headers, new RegExp(`content-length: ${fs.statSync(layerFile).size}\r?\n`, 'i'));
    assert.match(head.headers, new RegExp(`docker-content-digest: ${layout.layer}`, 'i'));
    assert.ok(!fs.existsSync(cached), 'a HEAD stores nothing: the blob was not downloaded');
    const ingests = path.join(mirror.storage, 'content', 'ingest');
    assert.deepEqual(fs.existsSync(ingests) ? fs.readdirSync(ingests) : [], [], 'and none is being downloaded');
    const missing = `sha256:${'0'.repeat(64)}`;
    assert.equal((await curl(['-I', `${mirror.url}/v2/library/busybox/blobs/${missing}`])).status, 404);

    const get = await run('curl', ['-sf', url], { encoding: 'buffer', maxBuffer: 64 << 20 });
    assert.deepEqual(get.stdout, fs.readFileSync(layerFile));
    assert.ok(fs.existsSync(cached), 'the GET stores what it passed on');
  });
});

describe('--max-inflight', () => {
  it('answers 429 TOOMANYREQUESTS with Retry-After past the cap', async () => {
    const reg = await server(['--max-inflight', '1']);
    const { request } = await import('node:http');
    const loc = /location: (\S+)/i.exec((await curl(['-X', 'POST', `${reg.url}/v2/slow/a/blobs/uploads/`])).headers)![1];
    const url = new URL(`${reg.url}${loc}`);
    // a PATCH whose body is still coming holds the one place
    const slow = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Content-Length': 10 } });
    const done = new Promise<number>((resolve, reject) => { slow.on('response', (res) => { res.resume(); resolve(res.statusCode!); }); slow.on('error', reject); });
    slow.write('12345');
    // until the server has taken the PATCH in (a loaded machine may be slow to)
    let r = await curl([`${reg.url}/v2/`]);
    for (let i = 0; i < 200 && r.status === 200; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await curl([`${reg.url}/v2/`]);
    }
    assert.equal(r.status, 429);
    assert.match(r.headers, /retry-after: 1/i);
    assert.equal(JSON.parse(r.body).errors[0].code, 'TOOMANYREQUESTS');
    slow.end('67890');
    assert.equal(await done, 202);
    assert.equal((await curl([`${reg.url}/v2/`])).status, 200);
  });
});
