// docker cp both ways and docker export, through the real docker CLI (and berth's): files,
// directories, symlinks (-L), running and stopped containers, ownership (-a), tar streams on
// stdin and stdout, Docker's error texts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BERTH, runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const docker = (...args: string[]) => d.docker(args);
const ok = (...args: string[]) => d.dockerOk(args);
const sh = (cmd: string) => runCmd('sh', ['-c', cmd], d.env);

let n = 0;
function hostDir(): string {
  const dir = path.join(d.root, `cp-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function mountedPaths(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
}

test('a file and a directory into a running container and back out', async () => {
  const h = hostDir();
  fs.writeFileSync(path.join(h, 'one.txt'), 'hello one\n');
  fs.mkdirSync(path.join(h, 'tree/sub'), { recursive: true });
  fs.writeFileSync(path.join(h, 'tree/a.txt'), 'A');
  fs.writeFileSync(path.join(h, 'tree/sub/b.txt'), 'B');
  fs.chmodSync(path.join(h, 'tree/sub/b.txt'), 0o750);
  await ok('run', '-d', '--name', 'cp-run', 'busybox', 'sleep', '600');
  await ok('exec', 'cp-run', 'mkdir', '/data');
  await ok('cp', path.join(h, 'one.txt'), 'cp-run:/data/one.txt');
  await ok('cp', path.join(h, 'tree'), 'cp-run:/data/');
  assert.equal(await ok('exec', 'cp-run', 'cat', '/data/one.txt', '/data/tree/a.txt', '/data/tree/sub/b.txt'), 'hello one\nAB');
  assert.equal(await ok('exec', 'cp-run', 'stat', '-c', '%a', '/data/tree/sub/b.txt'), '750\n');
  // a new name for a file (the destination does not exist: the CLI puts into the parent)
  await ok('cp', path.join(h, 'one.txt'), 'cp-run:/data/renamed');
  assert.equal(await ok('exec', 'cp-run', 'cat', '/data/renamed'), 'hello one\n');

  const out = hostDir();
  await ok('cp', 'cp-run:/data/tree', path.join(out, 'back'));
  assert.equal(fs.readFileSync(path.join(out, 'back/sub/b.txt'), 'utf8'), 'B');
  assert.equal(fs.statSync(path.join(out, 'back/sub/b.txt')).mode & 0o777, 0o750);
  await ok('cp', 'cp-run:/data/one.txt', out);
  assert.equal(fs.readFileSync(path.join(out, 'one.txt'), 'utf8'), 'hello one\n');
  // the contents of a directory: dir/.
  await ok('cp', 'cp-run:/data/tree/.', path.join(out, 'contents'));
  assert.deepEqual(fs.readdirSync(path.join(out, 'contents')).sort(), ['a.txt', 'sub']);
  // what the container's own mounts hold: /etc/hostname is the daemon's file bound in
  await ok('cp', 'cp-run:/etc/hostname', path.join(out, 'hostname'));
  const id = (await ok('inspect', '-f', '{{.Id}}', 'cp-run')).trim();
  assert.equal(fs.readFileSync(path.join(out, 'hostname'), 'utf8'), id.slice(0, 12) + '\n');
  await ok('rm', '-f', 'cp-run');
});

test('into and out of a stopped container; its layer is unmounted again', async () => {
  const h = hostDir();
  fs.writeFileSync(path.join(h, 'in.txt'), 'written while stopped\n');
  await ok('create', '--name', 'cp-stopped', 'busybox', 'cat', '/in.txt');
  await ok('cp', path.join(h, 'in.txt'), 'cp-stopped:/in.txt');
  const id = (await ok('inspect', '-f', '{{.Id}}', 'cp-stopped')).trim();
  assert.ok(!mountedPaths().some((p) => p.includes(id)), 'the writable layer stays mounted after a copy');
  assert.equal(await ok('start', '-a', 'cp-stopped'), 'written while stopped\n');
  // exited now: copy out of it
  await ok('cp', 'cp-stopped:/in.txt', path.join(h, 'out.txt'));
  assert.equal(fs.readFileSync(path.join(h, 'out.txt'), 'utf8'), 'written while stopped\n');
  // /etc/hostname of a stopped container: the daemon's file (its mount), not the image's
  await ok('cp', 'cp-stopped:/etc/hostname', path.join(h, 'hostname'));
  assert.equal(fs.readFileSync(path.join(h, 'hostname'), 'utf8'), id.slice(0, 12) + '\n');
  assert.ok(!mountedPaths().some((p) => p.includes(id)));
  await ok('rm', 'cp-stopped');
});

test('a copy into a stopped container racing its start: the started container keeps its layer', async () => {
  const h = hostDir();
  fs.writeFileSync(path.join(h, 'race.txt'), 'raced\n');
  for (let i = 0; i < 4; i++) {
    const name = `cp-race-${i}`;
    await ok('create', '--name', name, 'busybox', 'sleep', '600');
    const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
    const [cp, start] = await Promise.all([docker('cp', path.join(h, 'race.txt'), `${name}:/race.txt`), docker('start', name)]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(start.code, 0, start.stderr);
    assert.ok(mountedPaths().some((p) => p.includes(id) && p.endsWith('/merged')), 'the running container\'s layer was unmounted by the copy');
    assert.equal(await ok('exec', name, 'cat', '/race.txt'), 'raced\n');
    await ok('rm', '-f', name);
  }
});

test('a crash while a stopped container\'s layer is mounted for a copy: the next start unmounts it', async () => {
  await ok('create', '--name', 'cp-crash', 'busybox', 'true');
  const id = (await ok('inspect', '-f', '{{.Id}}', 'cp-crash')).trim();
  await d.kill9();
  process.env.BERTH_CRASH_AT = 'archive.after-mount';
  try { await d.start(); } finally { delete process.env.BERTH_CRASH_AT; }
  const died = new Promise<void>((r) => { if (d.exited) r(); else d.proc!.once('exit', () => r()); });
  const r = await docker('cp', 'cp-crash:/etc/passwd', path.join(d.root, 'never'));
  assert.notEqual(r.code, 0);
  await died;
  assert.match(d.stderr, /crash point archive\.after-mount/);
  assert.ok(mountedPaths().some((p) => p.includes(id)), 'the crash left the layer mounted');
  await d.start();
  assert.ok(!mountedPaths().some((p) => p.includes(id)), 'the next start left it mounted');
  await ok('cp', 'cp-crash:/etc/passwd', path.join(d.root, 'passwd-after-crash'));
  await ok('rm', 'cp-crash');
});

test('symlinks: copied as links, followed with -L', async () => {
  await ok('run', '-d', '--name', 'cp-link', 'busybox', 'sh', '-c', 'echo target > /t.txt; ln -s /t.txt /rel; ln -s /nowhere /dangling; sleep 600');
  await ok('exec', 'cp-link', 'sh', '-c', 'while [ ! -L /dangling ]; do sleep 0.1; done');
  const h = hostDir();
  await ok('cp', 'cp-link:/rel', path.join(h, 'asis'));
  assert.equal(fs.readlinkSync(path.join(h, 'asis')), '/t.txt');
  await ok('cp', '-L', 'cp-link:/rel', path.join(h, 'followed'));
  assert.equal(fs.readFileSync(path.join(h, 'followed'), 'utf8'), 'target\n');
  await ok('cp', 'cp-link:/dangling', path.join(h, 'dangling'));
  assert.equal(fs.readlinkSync(path.join(h, 'dangling')), '/nowhere');
  // stat of a link through the API: its fully resolved target
  const r = await d.request('HEAD', '/v1.44/containers/cp-link/archive?path=/rel');
  assert.equal(r.status, 200);
  const st = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.equal(st.name, 'rel');
  assert.equal(st.linkTarget, '/t.txt');
  assert.equal(st.mode & 0x08000000, 0x08000000);
  // a host symlink into the container
  fs.symlinkSync('/t.txt', path.join(h, 'hostlink'));
  await ok('cp', path.join(h, 'hostlink'), 'cp-link:/hostlink');
  assert.equal(await ok('exec', 'cp-link', 'readlink', '/hostlink'), '/t.txt\n');
  await ok('rm', '-f', 'cp-link');
});

test('ownership: the archive\'s ids by default, the container user\'s with -a', async () => {
  const h = hostDir();
  fs.writeFileSync(path.join(h, 'owned'), 'x');
  fs.chownSync(path.join(h, 'owned'), 4321, 4322);
  await ok('run', '-d', '--name', 'cp-own', '--user', '1234:1235', 'busybox', 'sleep', '600');
  await ok('cp', path.join(h, 'owned'), 'cp-own:/tmp/plain');
  await ok('cp', '-a', path.join(h, 'owned'), 'cp-own:/tmp/archive');
  assert.equal(await ok('exec', 'cp-own', 'stat', '-c', '%u:%g', '/tmp/plain', '/tmp/archive'), '4321:4322\n1234:1235\n');
  await ok('rm', '-f', 'cp-own');
});

test('file capabilities survive a copy in and out (security.capability)', async () => {
  const h = hostDir();
  fs.copyFileSync('/bin/true', path.join(h, 'capbin'));
  const set = await sh(`setcap cap_net_raw+ep ${h}/capbin`);
  assert.equal(set.code, 0, set.stderr);
  await ok('run', '-d', '--name', 'cp-caps', 'busybox', 'sleep', '600');
  await ok('cp', path.join(h, 'capbin'), 'cp-caps:/tmp/capbin');
  // the container's own view: the file in its writable layer has it
  const upper = (await ok('inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'cp-caps')).trim();
  assert.match((await sh(`getcap ${upper}/tmp/capbin`)).stdout, /cap_net_raw[=+]ep/);
  const back = await d.berth(['cp', 'cp-caps:/tmp/capbin', path.join(h, 'back')]);
  assert.equal(back.code, 0, back.stderr);
  assert.match((await sh(`getcap ${h}/back`)).stdout, /cap_net_raw[=+]ep/);
  await ok('rm', '-f', 'cp-caps');
});

test('tar streams: docker cp - (stdin) and docker cp CTR:path - (stdout)', async () => {
  const h = hostDir();
  fs.mkdirSync(path.join(h, 'src'));
  fs.writeFileSync(path.join(h, 'src/s1'), 'stream one');
  await ok('run', '-d', '--name', 'cp-stream', 'busybox', 'sleep', '600');
  const put = await sh(`tar -C ${h}/src -cf - s1 | docker cp - cp-stream:/tmp`);
  assert.equal(put.code, 0, put.stderr);
  assert.equal(await ok('exec', 'cp-stream', 'cat', '/tmp/s1'), 'stream one');
  const get = await sh(`docker cp cp-stream:/tmp/s1 - | tar -tvf -`);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /s1$/m);
  // into something that is not a directory: refused
  const bad = await sh(`tar -C ${h}/src -cf - s1 | docker cp - cp-stream:/tmp/s1`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /must be a directory/);
  await ok('rm', '-f', 'cp-stream');
});

test('errors as Docker gives them', async () => {
  await ok('create', '--name', 'cp-err', 'busybox', 'true');
  const r = await docker('cp', 'cp-err:/nonexistent', path.join(d.root, 'x'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error response from daemon: Could not find the file \/nonexistent in container cp-err/);
  const api = await d.request('GET', '/v1.44/containers/cp-err/archive?path=/nonexistent');
  assert.equal(api.status, 404);
  assert.equal(api.json().message, 'Could not find the file /nonexistent in container cp-err');
  const put = await d.request('PUT', '/v1.44/containers/cp-err/archive?path=/etc/passwd', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
  assert.equal(put.status, 400);
  assert.equal(put.json().message, 'extraction point is not a directory');
  const missing = await d.request('GET', '/v1.44/containers/nope-no/archive?path=/');
  assert.equal(missing.status, 404);
  await ok('create', '--name', 'cp-ro', '--read-only', 'busybox', 'true');
  fs.writeFileSync(path.join(d.root, 'rofile'), 'x');
  const ro = await docker('cp', path.join(d.root, 'rofile'), 'cp-ro:/tmp/');
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /container rootfs is marked read-only/);
  await ok('rm', 'cp-err', 'cp-ro');
});

test('docker export: the whole filesystem as a tar, running or stopped; berth export -o', async () => {
  await ok('run', '-d', '--name', 'cp-exp', 'busybox', 'sh', '-c', 'echo mine > /exported.txt; sleep 600');
  await ok('exec', 'cp-exp', 'sh', '-c', 'while [ ! -s /exported.txt ]; do sleep 0.1; done');
  const t = await sh('docker export cp-exp | tar -tf -');
  assert.equal(t.code, 0, t.stderr);
  const names = t.stdout.split('\n');
  for (const want of ['bin/busybox', 'etc/', 'exported.txt']) assert.ok(names.includes(want), `${want} missing from export`);
  // no /proc or /sys contents: the layer, not the running container's mounts
  assert.ok(!names.some((x) => x.startsWith('proc/') && x !== 'proc/'));
  await ok('stop', '-t', '0', 'cp-exp');
  const out = path.join(d.root, 'export.tar');
  const b = await d.berth(['export', '-o', out, 'cp-exp']);
  assert.equal(b.code, 0, b.stderr);
  const x = await sh(`tar -xOf ${out} exported.txt`);
  assert.equal(x.stdout, 'mine\n');
  const id = (await ok('inspect', '-f', '{{.Id}}', 'cp-exp')).trim();
  assert.ok(!mountedPaths().some((p) => p.includes(id)));
  await ok('rm', 'cp-exp');
});

test('berth cp both ways', async () => {
  const h = hostDir();
  fs.writeFileSync(path.join(h, 'b.txt'), 'berth cp\n');
  await ok('run', '-d', '--name', 'cp-berth', 'busybox', 'sleep', '600');
  let r = await d.berth(['cp', path.join(h, 'b.txt'), 'cp-berth:/tmp/b.txt']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await ok('exec', 'cp-berth', 'cat', '/tmp/b.txt'), 'berth cp\n');
  r = await d.berth(['cp', 'cp-berth:/tmp/b.txt', path.join(h, 'back.txt')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(h, 'back.txt'), 'utf8'), 'berth cp\n');
  // tar streams both ways
  fs.mkdirSync(path.join(h, 'st'));
  fs.writeFileSync(path.join(h, 'st/s.txt'), 'via stdin');
  r = await sh(`tar -C ${h}/st -cf - s.txt | ${BERTH} cp - cp-berth:/tmp`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await ok('exec', 'cp-berth', 'cat', '/tmp/s.txt'), 'via stdin');
  r = await sh(`${BERTH} cp cp-berth:/tmp/s.txt - | tar -xOf - s.txt`);
  assert.equal(r.stdout, 'via stdin');
  // a directory to a new name, a link followed with -L, ownership with -a
  await ok('exec', 'cp-berth', 'sh', '-c', 'mkdir -p /tmp/d/e && echo deep > /tmp/d/e/f && ln -s /tmp/d/e/f /tmp/lnk');
  r = await d.berth(['cp', 'cp-berth:/tmp/d', path.join(h, 'dcopy')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(h, 'dcopy/e/f'), 'utf8'), 'deep\n');
  r = await d.berth(['cp', '-L', 'cp-berth:/tmp/lnk', path.join(h, 'followed')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(h, 'followed'), 'utf8'), 'deep\n');
  r = await d.berth(['cp', 'cp-berth:/tmp/lnk', path.join(h, 'aslink')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readlinkSync(path.join(h, 'aslink')), '/tmp/d/e/f');
  r = await d.berth(['cp', path.join(h, 'dcopy'), 'cp-berth:/tmp/']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await ok('exec', 'cp-berth', 'cat', '/tmp/dcopy/e/f'), 'deep\n');
  r = await d.berth(['cp', 'cp-berth:/nothing', h]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Could not find the file \/nothing in container cp-berth/);
  await ok('rm', '-f', 'cp-berth');
});

test('SDKs: docker-py put_archive/get_archive/export, dockerode infoArchive/getArchive', async () => {
  await ok('run', '-d', '--name', 'cp-sdk', 'busybox', 'sleep', '600');
  const script = path.join(d.root, 'cp-sdk.py');
  fs.writeFileSync(script, `
import docker, io, tarfile
c = docker.DockerClient(base_url='unix://${d.socket}', version='auto')
ctr = c.containers.get('cp-sdk')
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = b'from docker-py\\n'
    info = tarfile.TarInfo('py.txt'); info.size = len(data); info.mode = 0o640
    t.addfile(info, io.BytesIO(data))
assert ctr.put_archive('/tmp', buf.getvalue())
stream, stat = ctr.get_archive('/tmp/py.txt')
assert stat['name'] == 'py.txt' and stat['size'] == 15 and stat['mode'] == 0o640, stat
raw = b''.join(stream)
with tarfile.open(fileobj=io.BytesIO(raw)) as t:
    assert t.extractfile('py.txt').read() == b'from docker-py\\n'
try:
    ctr.get_archive('/no/such')
    raise SystemExit('expected NotFound')
except docker.errors.NotFound as e:
    assert ('Could not find the file /no/such in container ' + ctr.id) in str(e), str(e)
names = tarfile.open(fileobj=io.BytesIO(b''.join(ctr.export()))).getnames()
assert 'tmp/py.txt' in names and 'bin/busybox' in names, names[:10]
print('ok')
`);
  const r = await runCmd('/usr/bin/python3', [script], process.env, { timeout: 120_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim(), 'ok');
  const Docker = (await import('dockerode')).default;
  const api = new Docker({ socketPath: d.socket });
  const c = api.getContainer('cp-sdk');
  const info = await c.infoArchive({ path: '/tmp/py.txt' }) as unknown as { headers?: Record<string, string> } | Record<string, string>;
  const header = (info as { headers?: Record<string, string> }).headers?.['x-docker-container-path-stat'] ?? (info as Record<string, string>)['x-docker-container-path-stat'];
  assert.equal(JSON.parse(Buffer.from(String(header), 'base64').toString()).name, 'py.txt');
  const stream = await c.getArchive({ path: '/tmp/py.txt' }) as NodeJS.ReadableStream;
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  assert.ok(n >= 1024);
  await ok('rm', '-f', 'cp-sdk');
});

test('docker cp reaches through mounted volumes and binds: running and stopped, in and out', async () => {
  const h = hostDir();
  const bind = path.join(h, 'bind');
  fs.mkdirSync(bind);
  fs.writeFileSync(path.join(h, 'in.txt'), 'into the volume\n');
  const vol = `cpvol${n}`;
  const id = (await ok('run', '-d', '-v', `${vol}:/data`, '-v', `${bind}:/bind`, '-v', `${vol}-ro:/ro:ro`, 'busybox', 'sleep', '300')).trim();
  try {
    // running: the copy lands in the volume, as the container sees it
    await ok('cp', path.join(h, 'in.txt'), `${id}:/data/in.txt`);
    assert.equal((await ok('exec', id, 'cat', '/data/in.txt')), 'into the volume\n');
    await ok('exec', id, 'sh', '-c', 'echo from bind > /bind/b.txt');
    await ok('cp', `${id}:/bind/b.txt`, path.join(h, 'b-out.txt'));
    assert.equal(fs.readFileSync(path.join(h, 'b-out.txt'), 'utf8'), 'from bind\n');
    const ro = await docker('cp', path.join(h, 'in.txt'), `${id}:/ro/x.txt`);
    assert.notEqual(ro.code, 0, 'a copy into a read-only volume is refused');
    // stopped: the copy still goes to the volume's data and the bind's host directory
    await ok('stop', '-t', '0', id);
    fs.writeFileSync(path.join(h, 'second.txt'), 'while stopped\n');
    await ok('cp', path.join(h, 'second.txt'), `${id}:/data/second.txt`);
    await ok('cp', path.join(h, 'second.txt'), `${id}:/bind/second.txt`);
    assert.equal(fs.readFileSync(path.join(bind, 'second.txt'), 'utf8'), 'while stopped\n');
    await ok('cp', `${id}:/data/in.txt`, path.join(h, 'in-out.txt'));
    assert.equal(fs.readFileSync(path.join(h, 'in-out.txt'), 'utf8'), 'into the volume\n');
    // a new container on the volume sees what was copied into the stopped one
    assert.equal((await ok('run', '--rm', '-v', `${vol}:/d`, 'busybox', 'cat', '/d/second.txt')), 'while stopped\n');
  } finally {
    await docker('rm', '-f', id);
    await docker('volume', 'rm', vol, `${vol}-ro`);
  }
});
