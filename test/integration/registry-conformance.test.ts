// berth registry against the OCI distribution spec, section by section (determining support,
// push, pull, content discovery, content management), with the negative cases, and what a
// kill -9 must not lose. A real server (bin/berth registry serve) and Node's fetch.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type TestRegistry } from '../helpers/registryserver';

let reg: TestRegistry;
before(async () => { reg = await startRegistry(); });
after(async () => { await reg?.stop(); });

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function req(method: string, p: string, body?: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(p.startsWith('http') ? p : `${reg.url}${p}`, { method, headers, ...(body !== undefined ? { body } : {}), redirect: 'manual' });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) };
}

async function errorCode(r: { body: Buffer }): Promise<string> {
  return JSON.parse(r.body.toString()).errors[0].code;
}

async function pushBlob(repo: string, data: Buffer | string): Promise<string> {
  const d = sha(data);
  const r = await req('POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, data, { 'Content-Type': 'application/octet-stream' });
  assert.equal(r.status, 201, r.body.toString());
  return d;
}

function imageManifest(config: string, configSize: number, layers: Array<{ digest: string; size: number }>, extra: Record<string, unknown> = {}, docker = false): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
    config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: config, size: configSize },
    layers: layers.map((l) => ({ mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar', ...l })),
    ...extra,
  }));
}

/** Pushes a config and one layer of `seed` and a manifest over them, tagged `tag`; returns the manifest's digest. */
async function pushImage(repo: string, tag: string, seed: string, extra: Record<string, unknown> = {}, docker = false): Promise<{ digest: string; body: Buffer; layer: string }> {
  const cfg = JSON.stringify({ seed });
  const layer = `layer-${seed}`;
  const c = await pushBlob(repo, cfg);
  const l = await pushBlob(repo, layer);
  const body = imageManifest(c, cfg.length, [{ digest: l, size: layer.length }], extra, docker);
  const r = await req('PUT', `/v2/${repo}/manifests/${tag}`, body, { 'Content-Type': docker ? DOCKER_MANIFEST : OCI_MANIFEST });
  assert.equal(r.status, 201, r.body.toString());
  assert.equal(r.headers.get('docker-content-digest'), sha(body));
  return { digest: sha(body), body, layer: l };
}

describe('determining support', () => {
  it('GET /v2/ answers 200 with the API version header', async () => {
    const r = await req('GET', '/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });
});

describe('push: blobs', () => {
  it('POST then PUT: a monolithic upload in the PUT', async () => {
    const start = await req('POST', '/v2/push/mono/blobs/uploads/');
    assert.equal(start.status, 202);
    const loc = start.headers.get('location')!;
    assert.match(loc, /^\/v2\/push\/mono\/blobs\/uploads\/[a-f0-9-]{36}$/);
    const data = Buffer.from('monolithic in a PUT');
    const put = await req('PUT', `${loc}?digest=${sha(data)}`, data, { 'Content-Type': 'application/octet-stream' });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/push/mono/blobs/${sha(data)}`);
    assert.equal(put.headers.get('docker-content-digest'), sha(data));
    assert.deepEqual((await req('GET', put.headers.get('location')!)).body, data);
  });

  it('single POST with digest=', async () => {
    const d = await pushBlob('push/single', 'single post');
    const r = await req('GET', `/v2/push/single/blobs/${d}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'single post');
  });

  it('chunks: PATCH with Content-Range, status by GET, 416 out of order, last chunk in the PUT', async () => {
    const loc = (await req('POST', '/v2/push/chunked/blobs/uploads/')).headers.get('location')!;
    const a = await req('PATCH', loc, 'abc', { 'Content-Range': '0-2', 'Content-Type': 'application/octet-stream' });
    assert.equal(a.status, 202);
    assert.equal(a.headers.get('range'), '0-2');
    assert.equal(a.headers.get('location'), loc);
    const b = await req('PATCH', loc, 'def', { 'Content-Range': '3-5', 'Content-Type': 'application/octet-stream' });
    assert.equal(b.headers.get('range'), '0-5');
    const out = await req('PATCH', loc, 'xyz', { 'Content-Range': '0-2', 'Content-Type': 'application/octet-stream' });
    assert.equal(out.status, 416);
    assert.equal(await errorCode(out), 'BLOB_UPLOAD_INVALID');
    assert.equal(out.headers.get('range'), '0-5', 'the 416 tells where the upload stands');
    const st = await req('GET', loc);
    assert.equal(st.status, 204);
    assert.equal(st.headers.get('range'), '0-5');
    const put = await req('PUT', `${loc}?digest=${sha('abcdefgh')}`, 'gh', { 'Content-Range': '6-7', 'Content-Type': 'application/octet-stream' });
    assert.equal(put.status, 201, put.body.toString());
    assert.equal((await req('GET', `/v2/push/chunked/blobs/${sha('abcdefgh')}`)).body.toString(), 'abcdefgh');
    assert.equal((await req('GET', loc)).status, 404, 'a closed upload is gone');
  });

  it('a streamed PATCH without Content-Range (docker\'s way)', async () => {
    const loc = (await req('POST', '/v2/push/stream/blobs/uploads/')).headers.get('location')!;
    const data = Buffer.alloc(3 << 20, 7);
    assert.equal((await req('PATCH', loc, data)).headers.get('range'), `0-${data.length - 1}`);
    assert.equal((await req('PUT', `${loc}?digest=${sha(data)}`)).status, 201);
  });

  it('a wrong digest: 400 DIGEST_INVALID, nothing visible', async () => {
    const loc = (await req('POST', '/v2/push/bad/blobs/uploads/')).headers.get('location')!;
    await req('PATCH', loc, 'some bytes');
    const wrong = sha('other bytes');
    const put = await req('PUT', `${loc}?digest=${wrong}`);
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');
    assert.equal((await req('HEAD', `/v2/push/bad/blobs/${wrong}`)).status, 404);
    assert.equal((await req('HEAD', `/v2/push/bad/blobs/${sha('some bytes')}`)).status, 404);
    const mono = await req('POST', `/v2/push/bad/blobs/uploads/?digest=${wrong}`, 'not those');
    assert.equal(mono.status, 400);
    assert.equal(await errorCode(mono), 'DIGEST_INVALID');
    const missing = await req('PUT', `${loc}?digest=${sha('some bytes')}`);
    assert.equal(missing.status, 404, 'the failed upload was dropped');
  });

  it('invalid digests, unsupported algorithms, unknown uploads', async () => {
    assert.equal(await errorCode(await req('POST', '/v2/push/bad/blobs/uploads/?digest=sha256:xyz', 'x')), 'DIGEST_INVALID');
    assert.equal(await errorCode(await req('POST', `/v2/push/bad/blobs/uploads/?digest=sha512:${'a'.repeat(128)}`, 'x')), 'UNSUPPORTED');
    const unknown = await req('PATCH', '/v2/push/bad/blobs/uploads/00000000-0000-0000-0000-000000000000', 'x');
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal((await req('GET', '/v2/push/bad/blobs/uploads/..%2F..%2Fetc')).status, 404);
    const loc = (await req('POST', '/v2/push/one/blobs/uploads/')).headers.get('location')!;
    assert.equal((await req('GET', loc.replace('/push/one/', '/push/two/'))).status, 404, 'an upload belongs to its repository');
  });

  it('cancel an upload: DELETE 204, then 404', async () => {
    const loc = (await req('POST', '/v2/push/cancel/blobs/uploads/')).headers.get('location')!;
    await req('PATCH', loc, 'abc');
    assert.equal((await req('DELETE', loc)).status, 204);
    const r = await req('GET', loc);
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('cross-repository mount: 201 from a repository that has it, 202 (an upload) otherwise', async () => {
    const d = await pushBlob('mount/src', 'mount me');
    assert.equal((await req('HEAD', `/v2/mount/dst/blobs/${d}`)).status, 404, 'blobs are per repository');
    const r = await req('POST', `/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/mount/dst/blobs/${d}`);
    assert.equal((await req('GET', `/v2/mount/dst/blobs/${d}`)).body.toString(), 'mount me');
    const no = await req('POST', `/v2/mount/other/blobs/uploads/?mount=${d}&from=mount/nothing`);
    assert.equal(no.status, 202);
    assert.match(no.headers.get('location')!, /\/v2\/mount\/other\/blobs\/uploads\//);
  });

  it('concurrent pushes of one blob all succeed and store it once', async () => {
    const data = Buffer.alloc(1 << 20, 3);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => req('POST', `/v2/conc/r${i}/blobs/uploads/?digest=${sha(data)}`, data)));
    assert.deepEqual(results.map((r) => r.status), Array(8).fill(201));
    const blobs = fs.readdirSync(path.join(reg.storage, 'content', 'blobs', 'sha256'));
    assert.equal(blobs.filter((b) => `sha256:${b}` === sha(data)).length, 1);
    for (let i = 0; i < 8; i++) assert.deepEqual((await req('GET', `/v2/conc/r${i}/blobs/${sha(data)}`)).body, data);
  });
});

describe('push: manifests', () => {
  it('the four manifest types keep their content types, by tag and by digest', async () => {
    const oci = await pushImage('types/a', 'oci', 'oci');
    const docker = await pushImage('types/a', 'docker', 'docker', {}, true);
    const platform = { architecture: 'amd64', os: 'linux' };
    for (const [type, tag, child] of [[OCI_INDEX, 'index', oci], [DOCKER_LIST, 'list', docker]] as const) {
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: type, manifests: [{ mediaType: type === OCI_INDEX ? OCI_MANIFEST : DOCKER_MANIFEST, digest: child.digest, size: child.body.length, platform }] }));
      const r = await req('PUT', `/v2/types/a/manifests/${tag}`, body, { 'Content-Type': type });
      assert.equal(r.status, 201, r.body.toString());
    }
    for (const [tag, type] of [['oci', OCI_MANIFEST], ['docker', DOCKER_MANIFEST], ['index', OCI_INDEX], ['list', DOCKER_LIST]]) {
      const byTag = await req('GET', `/v2/types/a/manifests/${tag}`);
      assert.equal(byTag.status, 200);
      assert.equal(byTag.headers.get('content-type'), type);
      const d = byTag.headers.get('docker-content-digest')!;
      assert.equal(d, sha(byTag.body));
      const byDigest = await req('GET', `/v2/types/a/manifests/${d}`);
      assert.equal(byDigest.headers.get('content-type'), type);
      assert.deepEqual(byDigest.body, byTag.body, 'the exact bytes');
      const head = await req('HEAD', `/v2/types/a/manifests/${tag}`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(byTag.body.length));
      assert.equal(head.headers.get('docker-content-digest'), d);
    }
  });

  it('a manifest whose blobs are not all there: MANIFEST_BLOB_UNKNOWN; an index of unknown manifests too', async () => {
    const c = await pushBlob('mbu/a', '{}');
    const body = imageManifest(c, 2, [{ digest: sha('never pushed'), size: 12 }]);
    const r = await req('PUT', '/v2/mbu/a/manifests/x', body, { 'Content-Type': OCI_MANIFEST });
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'MANIFEST_BLOB_UNKNOWN');
    const other = await pushBlob('mbu/b', 'in another repository');
    const r2 = await req('PUT', '/v2/mbu/a/manifests/x', imageManifest(c, 2, [{ digest: other, size: 21 }]), { 'Content-Type': OCI_MANIFEST });
    assert.equal(await errorCode(r2), 'MANIFEST_BLOB_UNKNOWN', 'a blob of another repository is not this one\'s');
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha('nope'), size: 4 }] }));
    const r3 = await req('PUT', '/v2/mbu/a/manifests/i', idx, { 'Content-Type': OCI_INDEX });
    assert.equal(await errorCode(r3), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await req('GET', '/v2/mbu/a/manifests/x')).status, 404);
  });

  it('invalid manifests, a digest that does not match, a mediaType that contradicts Content-Type', async () => {
    assert.equal(await errorCode(await req('PUT', '/v2/inv/a/manifests/t', 'not json', { 'Content-Type': OCI_MANIFEST })), 'MANIFEST_INVALID');
    const img = await pushImage('inv/a', 'good', 'inv');
    assert.equal(await errorCode(await req('PUT', '/v2/inv/a/manifests/t', img.body, { 'Content-Type': OCI_INDEX })), 'MANIFEST_INVALID');
    const wrong = await req('PUT', `/v2/inv/a/manifests/${sha('x')}`, img.body, { 'Content-Type': OCI_MANIFEST });
    assert.equal(wrong.status, 400);
    assert.equal(await errorCode(wrong), 'DIGEST_INVALID');
    const byDigest = await req('PUT', `/v2/inv/a/manifests/${img.digest}?tag=t1&tag=t2`, img.body, { 'Content-Type': OCI_MANIFEST });
    assert.equal(byDigest.status, 201);
    assert.equal(byDigest.headers.get('oci-tag'), 't1, t2');
    assert.equal((await req('GET', '/v2/inv/a/manifests/t2')).headers.get('docker-content-digest'), img.digest);
  });

  it('a manifest over 4 MiB: 413', async () => {
    const big = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } }));
    const r = await req('PUT', '/v2/big/a/manifests/t', big, { 'Content-Type': OCI_INDEX });
    assert.equal(r.status, 413);
    const ok = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { pad: 'x'.repeat(4 * 1024 * 1024 - 200) } }));
    assert.equal((await req('PUT', '/v2/big/a/manifests/t', ok, { 'Content-Type': OCI_INDEX })).status, 201, '4 MiB is accepted');
  });

  it('names and tags follow the spec\'s grammar', async () => {
    for (const bad of ['Upper/case', 'a//b', 'a/-b', 'a..b', '-a', 'a_', `${'a'.repeat(256)}`]) {
      const r = await req('GET', `/v2/${bad}/tags/list`);
      assert.equal(r.status, r.status === 404 ? 404 : 400, bad);
      if (r.status === 400) assert.equal(await errorCode(r), 'NAME_INVALID', bad);
    }
    assert.equal(await errorCode(await req('GET', '/v2/Upper/manifests/latest')), 'NAME_INVALID');
    for (const good of ['a', 'a/b/c', 'a-b__c.d', 'a---b', '0x/y_z']) {
      assert.equal((await req('POST', `/v2/${good}/blobs/uploads/`)).status, 202, good);
    }
    const tagBad = await req('PUT', `/v2/tags/ok/manifests/.dot`, '{}', { 'Content-Type': OCI_INDEX });
    assert.equal(tagBad.status, 400);
    const long = await req('GET', `/v2/tags/ok/manifests/${'t'.repeat(129)}`);
    assert.equal(long.status, 400);
  });

  it('a manifest with a subject answers OCI-Subject', async () => {
    const target = await pushImage('subj/a', 'target', 'target');
    const r = await pushImage('subj/a', 'sig', 'sig', { subject: { mediaType: OCI_MANIFEST, digest: target.digest, size: target.body.length }, artifactType: 'application/vnd.example.sig' });
    const again = await req('PUT', `/v2/subj/a/manifests/${r.digest}`, r.body, { 'Content-Type': OCI_MANIFEST });
    assert.equal(again.headers.get('oci-subject'), target.digest);
  });
});

describe('pull', () => {
  it('blobs: GET and HEAD, Range (206, suffix, open-ended, 416)', async () => {
    const data = Buffer.from('0123456789');
    const d = await pushBlob('pull/a', data);
    const head = await req('HEAD', `/v2/pull/a/blobs/${d}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '10');
    assert.equal(head.headers.get('docker-content-digest'), d);
    assert.equal(head.body.length, 0);
    const part = await req('GET', `/v2/pull/a/blobs/${d}`, undefined, { Range: 'bytes=2-5' });
    assert.equal(part.status, 206);
    assert.equal(part.body.toString(), '2345');
    assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal((await req('GET', `/v2/pull/a/blobs/${d}`, undefined, { Range: 'bytes=7-' })).body.toString(), '789');
    assert.equal((await req('GET', `/v2/pull/a/blobs/${d}`, undefined, { Range: 'bytes=-3' })).body.toString(), '789');
    const bad = await req('GET', `/v2/pull/a/blobs/${d}`, undefined, { Range: 'bytes=10-20' });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), 'bytes */10');
  });

  it('unknown blobs and manifests: 404 BLOB_UNKNOWN, MANIFEST_UNKNOWN', async () => {
    const b = await req('GET', `/v2/pull/a/blobs/${sha('absent')}`);
    assert.equal(b.status, 404);
    assert.equal(await errorCode(b), 'BLOB_UNKNOWN');
    const m = await req('GET', '/v2/pull/a/manifests/absent');
    assert.equal(m.status, 404);
    assert.equal(await errorCode(m), 'MANIFEST_UNKNOWN');
    assert.equal((await req('HEAD', `/v2/pull/a/manifests/${sha('absent')}`)).status, 404);
    assert.equal((await req('GET', '/v2/pull/a/manifests/%E0%A4%A')).status, 400, 'a malformed escape');
    assert.equal((await req('GET', '/v2/pull/a/manifests/..%2F..%2Fx')).status, 400, 'no path out of the root');
    assert.equal((await req('GET', '/v2/never/pushed/manifests/latest')).status, 404);
  });

  it('a manifest is also a blob of its repository (configs and manifests by digest)', async () => {
    const img = await pushImage('pull/b', 'latest', 'b');
    const r = await req('GET', `/v2/pull/b/blobs/${img.digest}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, img.body);
  });
});

describe('content discovery', () => {
  it('tags/list: sorted, n and last, Link to the next page, n=0 empty', async () => {
    const img = await pushImage('disc/a', 'base', 'disc');
    for (const t of ['v3', 'v1', 'v2', 'A', 'b']) {
      assert.equal((await req('PUT', `/v2/disc/a/manifests/${t}`, img.body, { 'Content-Type': OCI_MANIFEST })).status, 201);
    }
    assert.deepEqual((await req('GET', '/v2/disc/a/tags/list')).json(), { name: 'disc/a', tags: ['A', 'b', 'base', 'v1', 'v2', 'v3'] });
    const p1 = await req('GET', '/v2/disc/a/tags/list?n=2');
    assert.deepEqual(p1.json().tags, ['A', 'b']);
    assert.equal(p1.headers.get('link'), '</v2/disc/a/tags/list?n=2&last=b>; rel="next"');
    const p2 = await req('GET', '/v2/disc/a/tags/list?n=2&last=b');
    assert.deepEqual(p2.json().tags, ['base', 'v1']);
    const p3 = await req('GET', '/v2/disc/a/tags/list?n=2&last=v1');
    assert.deepEqual(p3.json().tags, ['v2', 'v3']);
    assert.equal(p3.headers.get('link'), null);
    const zero = await req('GET', '/v2/disc/a/tags/list?n=0');
    assert.deepEqual(zero.json().tags, []);
    assert.equal(zero.headers.get('link'), null);
    assert.deepEqual((await req('GET', '/v2/disc/a/tags/list?last=v2')).json().tags, ['v3']);
    const unknown = await req('GET', '/v2/disc/none/tags/list');
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'NAME_UNKNOWN');
  });

  it('_catalog: every repository, n and last, Link', async () => {
    const all = (await req('GET', '/v2/_catalog')).json().repositories as string[];
    assert.ok(all.includes('disc/a'));
    assert.deepEqual(all, [...all].sort());
    const p1 = await req('GET', '/v2/_catalog?n=1');
    assert.deepEqual(p1.json().repositories, [all[0]]);
    assert.equal(p1.headers.get('link'), `</v2/_catalog?n=1&last=${encodeURIComponent(all[0])}>; rel="next"`);
    assert.deepEqual((await req('GET', `/v2/_catalog?n=2&last=${all[0]}`)).json().repositories, all.slice(1, 3));
  });

  it('referrers: the subject\'s manifests, artifactType filter, an empty index for none, 400 for a bad digest', async () => {
    const target = await pushImage('refs/a', 'target', 'rt');
    const subject = { mediaType: OCI_MANIFEST, digest: target.digest, size: target.body.length };
    const sig = await pushImage('refs/a', 'sig', 'rsig', { subject, artifactType: 'application/vnd.example.sig', annotations: { who: 'me' } });
    const sbom = await pushImage('refs/a', 'sbom', 'rsbom', { subject });
    const r = await req('GET', `/v2/refs/a/referrers/${target.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), OCI_INDEX);
    const idx = r.json();
    assert.equal(idx.mediaType, OCI_INDEX);
    const byDigest = Object.fromEntries(idx.manifests.map((m: any) => [m.digest, m]));
    assert.deepEqual(Object.keys(byDigest).sort(), [sig.digest, sbom.digest].sort());
    assert.equal(byDigest[sig.digest].artifactType, 'application/vnd.example.sig');
    assert.deepEqual(byDigest[sig.digest].annotations, { who: 'me' });
    assert.equal(byDigest[sbom.digest].artifactType, 'application/vnd.oci.image.config.v1+json', 'the config\'s media type when there is no artifactType');
    assert.equal(byDigest[sig.digest].size, sig.body.length);
    const f = await req('GET', `/v2/refs/a/referrers/${target.digest}?artifactType=application/vnd.example.sig`);
    assert.equal(f.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(f.json().manifests.map((m: any) => m.digest), [sig.digest]);
    const none = await req('GET', `/v2/refs/a/referrers/${sha('nothing refers to me')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.json().manifests, []);
    assert.equal((await req('GET', '/v2/refs/a/referrers/sha256:zz')).status, 400);
  });

  it('referrers: pages with n, the Link header to the next page (keeping the filter), none after the last', async () => {
    const target = await pushImage('refs/p', 'target', 'pt');
    const subject = { mediaType: OCI_MANIFEST, digest: target.digest, size: target.body.length };
    const refs: string[] = [];
    for (let i = 0; i < 5; i++) {
      refs.push((await pushImage('refs/p', `r${i}`, `pr${i}`, { subject, artifactType: i === 4 ? 'application/vnd.example.other' : 'application/vnd.example.sig' })).digest);
    }
    const sigs = refs.slice(0, 4).sort();
    const all = await req('GET', `/v2/refs/p/referrers/${target.digest}`);
    assert.equal(all.json().manifests.length, 5, 'one page by default');
    assert.equal(all.headers.get('link'), null);
    const seen: string[] = [];
    let next: string | undefined = `/v2/refs/p/referrers/${target.digest}?n=3&artifactType=application/vnd.example.sig`;
    let pages = 0;
    while (next) {
      const r = await req('GET', next);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('oci-filters-applied'), 'artifactType');
      const page = r.json().manifests.map((m: any) => m.digest);
      assert.ok(page.length <= 3);
      seen.push(...page);
      const link = r.headers.get('link');
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
      if (next) assert.match(next, /artifactType=application%2Fvnd\.example\.sig/);
      pages++;
    }
    assert.equal(pages, 2);
    assert.deepEqual(seen, sigs, 'every filtered referrer once, in digest order');
  });
});

describe('content management', () => {
  it('delete a tag: 202, then 404; the manifest stays by digest', async () => {
    const img = await pushImage('mgmt/a', 'gone', 'mg1');
    assert.equal((await req('DELETE', '/v2/mgmt/a/manifests/gone')).status, 202);
    assert.equal((await req('GET', '/v2/mgmt/a/manifests/gone')).status, 404);
    assert.equal((await req('GET', `/v2/mgmt/a/manifests/${img.digest}`)).status, 200);
    assert.equal((await req('DELETE', '/v2/mgmt/a/manifests/gone')).status, 404);
  });

  it('delete a manifest by digest: 202, then 404 by digest and by every tag on it', async () => {
    const img = await pushImage('mgmt/a', 't1', 'mg2');
    await req('PUT', '/v2/mgmt/a/manifests/t2', img.body, { 'Content-Type': OCI_MANIFEST });
    assert.equal((await req('DELETE', `/v2/mgmt/a/manifests/${img.digest}`)).status, 202);
    for (const ref of [img.digest, 't1', 't2']) assert.equal((await req('GET', `/v2/mgmt/a/manifests/${ref}`)).status, 404, ref);
    assert.ok(!(await req('GET', '/v2/mgmt/a/tags/list')).json().tags.includes('t1'));
    assert.equal((await req('DELETE', `/v2/mgmt/nope/manifests/${img.digest}`)).status, 404);
  });

  it('delete a blob: 202, then 404; unknown: 404', async () => {
    const d = await pushBlob('mgmt/b', 'delete me');
    assert.equal((await req('DELETE', `/v2/mgmt/b/blobs/${d}`)).status, 202);
    assert.equal((await req('GET', `/v2/mgmt/b/blobs/${d}`)).status, 404);
    const r = await req('DELETE', `/v2/mgmt/b/blobs/${d}`);
    assert.equal(r.status, 404);
    assert.equal(await errorCode(r), 'BLOB_UNKNOWN');
  });

  it('methods the API does not have: 405 UNSUPPORTED', async () => {
    const r = await req('POST', '/v2/mgmt/b/tags/list');
    assert.equal(r.status, 405);
    assert.equal(await errorCode(r), 'UNSUPPORTED');
  });
});

describe('limits', () => {
  it('an upload body is streamed to disk: 512 MiB through a PATCH leaves the server far below that', async () => {
    const { request } = await import('node:http');
    const loc = (await req('POST', '/v2/limits/big/blobs/uploads/')).headers.get('location')!;
    const url = new URL(`${reg.url}${loc}`);
    const chunk = Buffer.alloc(1 << 20, 5);
    const total = 512;
    const hash = createHash('sha256');
    const status = await new Promise<number>((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      r.on('error', reject);
      let i = 0;
      const pump = () => {
        while (i < total) {
          i++;
          hash.update(chunk);
          if (!r.write(chunk)) { r.once('drain', pump); return; }
        }
        r.end();
      };
      pump();
    });
    assert.equal(status, 202);
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${reg.proc!.pid}/status`, 'utf8'))![1]) / 1024;
    assert.ok(rssMb < 256, `server RSS ${rssMb} MB after a 512 MiB upload`);
    const d = `sha256:${hash.digest('hex')}`;
    assert.equal((await req('PUT', `${loc}?digest=${d}`)).status, 201);
    assert.equal((await req('HEAD', `/v2/limits/big/blobs/${d}`)).headers.get('content-length'), String(total << 20));
    assert.equal((await req('DELETE', `/v2/limits/big/blobs/${d}`)).status, 202);
  });
});

describe('crash safety (kill -9)', () => {
  it('an acknowledged chunk survives; the upload resumes at its Range after a restart', async () => {
    const loc = (await req('POST', '/v2/crash/a/blobs/uploads/')).headers.get('location')!;
    const first = Buffer.alloc(1 << 20, 1);
    assert.equal((await req('PATCH', loc, first, { 'Content-Range': `0-${first.length - 1}` })).headers.get('range'), `0-${first.length - 1}`);
    const img = await pushImage('crash/a', 'kept', 'crash');
    await reg.restart('SIGKILL');
    const st = await req('GET', loc);
    assert.equal(st.status, 204);
    assert.equal(st.headers.get('range'), `0-${first.length - 1}`);
    const rest = Buffer.alloc(1000, 2);
    assert.equal((await req('PATCH', loc, rest, { 'Content-Range': `${first.length}-${first.length + rest.length - 1}` })).status, 202);
    const all = Buffer.concat([first, rest]);
    assert.equal((await req('PUT', `${loc}?digest=${sha(all)}`)).status, 201);
    assert.deepEqual((await req('GET', `/v2/crash/a/blobs/${sha(all)}`)).body, all);
    const m = await req('GET', '/v2/crash/a/manifests/kept');
    assert.equal(m.status, 200);
    assert.deepEqual(m.body, img.body);
  });

  it('a body cut off by the kill leaves nothing visible, and no half blob', async () => {
    const data = Buffer.alloc(8 << 20, 9);
    const d = sha(data);
    const { request } = await import('node:http');
    const url = new URL(`${reg.url}/v2/crash/b/blobs/uploads/?digest=${d}`);
    const r = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { 'Content-Length': data.length } });
    r.on('error', () => undefined);
    r.write(data.subarray(0, 3 << 20));
    await new Promise((res) => setTimeout(res, 300));
    await reg.restart('SIGKILL');
    r.destroy();
    assert.equal((await req('HEAD', `/v2/crash/b/blobs/${d}`)).status, 404);
    const blobs = path.join(reg.storage, 'content', 'blobs', 'sha256');
    for (const n of fs.readdirSync(blobs)) {
      assert.equal(createHash('sha256').update(fs.readFileSync(path.join(blobs, n))).digest('hex'), n, 'every blob is whole');
    }
    assert.deepEqual(fs.readdirSync(path.join(reg.storage, 'content', 'ingest')).filter((n) => n.startsWith('anon-')), [], 'the cut-off upload is dropped at start');
    assert.equal((await req('POST', `/v2/crash/b/blobs/uploads/?digest=${d}`, data)).status, 201);
  });
});
