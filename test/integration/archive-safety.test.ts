// The archive API against hostile input, one test per class of Docker's cp CVEs:
// - CVE-2014-6407: a tar that writes outside the destination: `../` and absolute names, a
//   symlink planted by the archive and then written through, hard links to host files;
// - CVE-2018-15664: a symlink swapped in by the container's processes while a copy runs;
// - symlinks inside the container (absolute, or climbing with ../..) that point at the host,
//   followed by GET, HEAD and PUT (CVE-2019-14271's premise: the daemon acting on the
//   container's files with the host's view).
// Archives are made by hand with our tar writer; the host side is a directory of this test's
// root that must never be read or written.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';
import { readTar } from '../../src/lib/tar/reader';
import { TarWriter, type TarWriteHeader } from '../../src/lib/tar/writer';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const SECRET = 'HOST SECRET\n';
let host: string; // the host directory nothing may reach
let hostFile: string;
const escape = (p: string) => '../../../../../../../../..' + p;

async function tarOf(entries: (TarWriteHeader & { data?: string })[]): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => w.stream.on('end', r));
  for (const e of entries) {
    const body = e.data === undefined ? undefined : Buffer.from(e.data);
    await w.add({ ...e, size: body?.length ?? 0 }, body);
  }
  await w.finish();
  await done;
  return Buffer.concat(chunks);
}

const put = (ctr: string, p: string, tar: Buffer) =>
  d.request('PUT', `/v1.44/containers/${ctr}/archive?path=${encodeURIComponent(p)}&noOverwriteDirNonDir=true`, tar, { 'Content-Type': 'application/x-tar' });
const get = (ctr: string, p: string) => d.request('GET', `/v1.44/containers/${ctr}/archive?path=${encodeURIComponent(p)}`);

async function tarContents(buf: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of readTar(Readable.from([buf]))) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.set(e.header.name, Buffer.concat(parts).toString());
  }
  return out;
}

const docker = (...args: string[]) => d.dockerOk(args);

/** The host side is as it was: only the secret file, unchanged, not linked. */
function assertHostUntouched(): void {
  assert.deepEqual(fs.readdirSync(host), ['secret']);
  assert.equal(fs.readFileSync(hostFile, 'utf8'), SECRET);
  assert.equal(fs.statSync(hostFile).nlink, 1);
}

let made: Promise<void> | undefined;
const ready = () => (made ??= (async () => {
  host = path.join(d.root, 'host-side');
  fs.mkdirSync(host);
  hostFile = path.join(host, 'secret');
  fs.writeFileSync(hostFile, SECRET);
  // links inside the container at the host directory: by absolute path and climbing out
  await docker('run', '-d', '--name', 'safe', 'busybox', 'sh', '-c',
    `mkdir -p /data/dest && ln -s ${host} /data/abs && ln -s ${escape(host)} /data/up && ln -s ${escape('')} /data/root && touch /ready && sleep 600`);
  await docker('exec', 'safe', 'sh', '-c', 'while [ ! -e /ready ]; do sleep 0.1; done');
})());

test('a tar with ../ names is refused; nothing is written outside the destination', async () => {
  await ready();
  for (const name of [escape(hostFile), '../outside', 'a/../../outside']) {
    const r = await put('safe', '/data/dest', await tarOf([{ name, type: 'file', mode: 0o644, data: 'pwned\n' }]));
    assert.equal(r.status, 400, `${name}: ${r.body}`);
    assert.match(r.json().message, /outside of the destination/);
  }
  assert.equal(await docker('exec', 'safe', 'ls', '-A', '/data/dest'), '');
  assert.equal((await d.docker(['exec', 'safe', 'test', '-e', '/data/outside'])).code, 1);
  assertHostUntouched();
});

test('absolute names are made relative to the destination', async () => {
  await ready();
  const r = await put('safe', '/data/dest', await tarOf([{ name: hostFile, type: 'file', mode: 0o644, data: 'inside\n' }]));
  assert.equal(r.status, 200, String(r.body));
  assert.equal(await docker('exec', 'safe', 'cat', `/data/dest${hostFile}`), 'inside\n');
  assertHostUntouched();
  await docker('exec', 'safe', 'rm', '-rf', `/data/dest/${hostFile.split('/')[1]}`);
});

test('a symlink the archive plants, then a file written through it, stays in the destination', async () => {
  await ready();
  // absolute link: resolved inside the destination; the file lands there, not on the host
  const abs = await put('safe', '/data/dest', await tarOf([
    { name: 'evil', type: 'symlink', mode: 0o777, linkname: host },
    { name: 'evil/pwned', type: 'file', mode: 0o644, data: 'pwned\n' },
  ]));
  assert.equal(abs.status, 200, String(abs.body));
  assert.equal(await docker('exec', 'safe', 'cat', `/data/dest${host}/pwned`), 'pwned\n');
  assertHostUntouched();
  // a symlink, then a file of the same name: the link is replaced, never written through
  const same = await put('safe', '/data/dest', await tarOf([
    { name: 'sl', type: 'symlink', mode: 0o777, linkname: hostFile },
    { name: 'sl', type: 'file', mode: 0o644, data: 'replaced\n' },
  ]));
  assert.equal(same.status, 200, String(same.body));
  assert.equal(await docker('exec', 'safe', 'sh', '-c', 'test -L /data/dest/sl || cat /data/dest/sl'), 'replaced\n');
  assertHostUntouched();
  // a relative link climbing above the destination is refused (as Docker does)
  const up = await put('safe', '/data/dest', await tarOf([
    { name: 'up', type: 'symlink', mode: 0o777, linkname: escape(host) },
    { name: 'up/pwned', type: 'file', mode: 0o644, data: 'pwned\n' },
  ]));
  assert.equal(up.status, 400);
  assert.match(up.json().message, /symlink "up" .* is outside of the destination/);
  assertHostUntouched();
  await docker('exec', 'safe', 'sh', '-c', 'rm -rf /data/dest/* /data/dest/.[!.]*; true');
});

test('hard links to host files or above the destination are refused', async () => {
  await ready();
  const out = await put('safe', '/data/dest', await tarOf([{ name: 'hl', type: 'link', mode: 0o644, linkname: escape(hostFile) }]));
  assert.equal(out.status, 400);
  assert.match(out.json().message, /hard link "hl" .* is outside of the destination/);
  // an absolute target names a path inside the destination, where there is nothing
  const abs = await put('safe', '/data/dest', await tarOf([{ name: 'hl', type: 'link', mode: 0o644, linkname: hostFile }]));
  assert.notEqual(abs.status, 200);
  // a symlink in the archive to the host file, then a hard link to that symlink: a link to the link
  const viaLink = await put('safe', '/data/dest', await tarOf([
    { name: 'sl', type: 'symlink', mode: 0o777, linkname: hostFile },
    { name: 'hl2', type: 'link', mode: 0o644, linkname: 'sl' },
  ]));
  assert.equal(viaLink.status, 200, String(viaLink.body));
  assert.equal(await docker('exec', 'safe', 'readlink', '/data/dest/hl2'), hostFile + '\n');
  assertHostUntouched();
  await docker('exec', 'safe', 'sh', '-c', 'rm -rf /data/dest/*; true');
});

test('symlinks in the container that point at the host are resolved inside it (GET, HEAD, PUT)', async () => {
  await ready();
  for (const p of ['/data/abs/secret', '/data/up/secret', '/data/root' + hostFile, '/data/abs/', '/data/up/.']) {
    const r = await get('safe', p);
    assert.equal(r.status, 404, `${p}: ${r.status} ${r.body.toString().slice(0, 100)}`);
    assert.equal(r.json().message, `Could not find the file ${p} in container safe`);
    assert.doesNotMatch(r.body.toString(), /HOST SECRET/);
    const h = await d.request('HEAD', `/v1.44/containers/safe/archive?path=${encodeURIComponent(p)}`);
    assert.equal(h.status, 404);
  }
  // the links themselves are archived as links
  const link = await get('safe', '/data/up');
  assert.equal(link.status, 200);
  const stat = JSON.parse(Buffer.from(String(link.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.equal(stat.linkTarget, host, 'the target as resolved inside the container');
  // the whole of /data: the links inside are not followed
  const all = await tarContents((await get('safe', '/data')).body);
  assert.ok(all.has('data/up'));
  for (const v of all.values()) assert.doesNotMatch(v, /HOST SECRET/);
  // PUT through a link: the destination is looked up inside the container, where it is missing
  for (const p of ['/data/abs', '/data/up', '/data/root' + host]) {
    const r = await put('safe', p, await tarOf([{ name: 'pwned', type: 'file', mode: 0o644, data: 'pwned\n' }]));
    assert.equal(r.status, 404, `${p}: ${r.body}`);
  }
  // /data/root is the container's own root: a copy there is a copy into the container
  const r = await put('safe', '/data/root/tmp', await tarOf([{ name: 'via-root', type: 'file', mode: 0o644, data: 'ok\n' }]));
  assert.equal(r.status, 200, String(r.body));
  assert.equal(await docker('exec', 'safe', 'cat', '/tmp/via-root'), 'ok\n');
  assertHostUntouched();
});

test('the same links in a stopped container', async () => {
  await ready();
  await docker('create', '--name', 'safe-stopped', 'busybox', 'true');
  const links = await tarOf([
    { name: 'data/', type: 'directory', mode: 0o755 },
    { name: 'data/abs', type: 'symlink', mode: 0o777, linkname: host },
    { name: 'data/up', type: 'symlink', mode: 0o777, linkname: escape(host).slice(3) },
  ]);
  // a relative link one level down that climbs out of /: refused as climbing out of the destination
  assert.equal((await put('safe-stopped', '/', links)).status, 400);
  const ok = await tarOf([
    { name: 'data/', type: 'directory', mode: 0o755 },
    { name: 'data/abs', type: 'symlink', mode: 0o777, linkname: host },
  ]);
  assert.equal((await put('safe-stopped', '/', ok)).status, 200);
  assert.equal((await get('safe-stopped', '/data/abs/secret')).status, 404);
  assert.equal((await put('safe-stopped', '/data/abs', await tarOf([{ name: 'x', type: 'file', mode: 0o644, data: 'x' }]))).status, 404);
  assertHostUntouched();
  await docker('rm', 'safe-stopped');
});

test('a directory swapped for a symlink to the host while copies run (CVE-2018-15664)', async () => {
  await ready();
  // the container swaps /data/swap between a real directory and a link to the host directory
  await docker('exec', '-d', 'safe', 'sh', '-c',
    `mkdir -p /data/swap.real && echo inside > /data/swap.real/file; while true; do ln -sfn ${host} /data/swap.tmp; mv -T /data/swap.tmp /data/swap; ln -sfn /data/swap.real /data/swap.tmp; mv -T /data/swap.tmp /data/swap; done`);
  const tar = await tarOf([{ name: 'pwned', type: 'file', mode: 0o644, data: 'pwned\n' }]);
  let puts = 0;
  let gets = 0;
  for (let i = 0; i < 40; i++) {
    const [p, g] = await Promise.all([put('safe', '/data/swap', tar), get('safe', '/data/swap/file')]);
    if (p.status === 200) puts++;
    if (g.status === 200) {
      gets++;
      const files = await tarContents(g.body);
      for (const v of files.values()) assert.doesNotMatch(v, /HOST SECRET/);
    }
    // and the same through a path that names the host file itself
    const s = await get('safe', '/data/swap/secret');
    assert.doesNotMatch(s.body.toString(), /HOST SECRET/);
    assertHostUntouched();
  }
  assert.ok(puts > 0 && gets > 0, `the race was run (puts ${puts}, gets ${gets} succeeded)`);
});
