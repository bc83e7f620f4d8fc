// Volumes and mounts through the real docker CLI: named volumes that outlive their containers
// (a database-like writer read back by a new container), copy-up from the image and nocopy,
// anonymous volumes from -v /path and the image's VOLUME, rm -v and --rm, read-only mounts
// (EROFS inside), tmpfs sizes, binds of missing paths, propagation, --volumes-from, the local
// driver's options, in-use refusals, prune and `system df -v`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';

const run = promisify(execFile);
let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.dockerOk(args);
const fails = async (...args: string[]) => {
  const r = await d.docker(args);
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail: ${r.stdout}`);
  return r;
};
const volumeNames = async () => (await docker('volume', 'ls', '-q')).split('\n').filter(Boolean).sort();
const hex64 = /^[0-9a-f]{64}$/;

/** busybox with `edit` applied to its root, imported with `docker import --change` lines. */
async function importImage(tag: string, edit: (root: string) => void, changes: string[]): Promise<void> {
  const root = fs.mkdtempSync(path.join(d.root, 'img-'));
  try {
    await run('tar', ['-C', root, '-xf', path.join(d.root, 'busybox.tar')]);
    edit(root);
    await run('tar', ['--numeric-owner', '-C', root, '-cf', root + '.tar', '.']);
    await docker('import', ...changes.flatMap((c) => ['--change', c]), root + '.tar', tag);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(root + '.tar', { force: true });
  }
}

let made: Promise<void> | undefined;
/** An image with content at its VOLUME /data (owned 1000:1001, modes 0750/0640, a symlink, a hard link). */
const ready = () => (made ??= importImage('withdata:1', (root) => {
  const data = path.join(root, 'data');
  fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(data, 'f'), 'from the image\n');
  fs.linkSync(path.join(data, 'f'), path.join(data, 'hard'));
  fs.symlinkSync('../f', path.join(data, 'sub', 'ln'));
  for (const p of [data, path.join(data, 'sub'), path.join(data, 'f')]) fs.chownSync(p, 1000, 1001);
  fs.chmodSync(data, 0o750);
  fs.chmodSync(path.join(data, 'f'), 0o640);
  // A path whose symlink climbs out of the root: resolved inside it (nothing there), never on the host.
  fs.symlinkSync('/../../../../../../..' + path.join(d.root, 'hostsecret'), path.join(root, 'evil'));
}, ['VOLUME /data', 'VOLUME /evil', 'CMD ["sh"]']));

test('a named volume outlives its container: rows written by one are read back by the next', async () => {
  await docker('run', '--name', 'writer', '-v', 'db:/var/lib/db', 'busybox', 'sh', '-c',
    'for i in 1 2 3; do echo "row $i" >> /var/lib/db/table; done; sync');
  // -v made the volume at create
  const v = JSON.parse(await docker('volume', 'inspect', 'db'))[0];
  assert.equal(v.Name, 'db');
  assert.equal(v.Driver, 'local');
  assert.equal(v.Scope, 'local');
  assert.equal(v.Mountpoint, path.join(d.dataRoot, 'volumes', 'db', '_data'));
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await docker('rm', 'writer');
  assert.equal(await docker('run', '--rm', '-v', 'db:/var/lib/db', 'busybox', 'cat', '/var/lib/db/table'), 'row 1\nrow 2\nrow 3\n');
  await docker('volume', 'rm', 'db');
  assert.ok(!(await volumeNames()).includes('db'));
});

test('copy-up: an empty volume takes the image content with owners and modes; a non-empty one or nocopy does not', async () => {
  await ready();
  fs.mkdirSync(path.join(d.root, 'hostsecret'), { recursive: true });
  fs.writeFileSync(path.join(d.root, 'hostsecret', 'key'), 'host only');
  await docker('run', '--rm', '-v', 'cu:/data', '-v', 'cuevil:/evil', 'withdata:1', 'true');
  const seen = await docker('run', '--rm', '-v', 'cu:/x', 'busybox', 'sh', '-c',
    'stat -c "%n %u:%g %a %h" /x /x/f /x/sub; cat /x/f; readlink /x/sub/ln; cat /x/sub/ln');
  assert.equal(seen, '/x 1000:1001 750 3\n/x/f 1000:1001 640 2\n/x/sub 1000:1001 755 2\nfrom the image\n../f\nfrom the image\n');
  // The link out of the root found nothing inside: the host's file was not copied.
  assert.equal(await docker('run', '--rm', '-v', 'cuevil:/x', 'busybox', 'ls', '-A', '/x'), '');
  // Not empty any more: the image does not overwrite what is there.
  await docker('run', '--rm', '-v', 'mine:/data', 'busybox', 'sh', '-c', 'echo mine > /data/m');
  assert.equal(await docker('run', '--rm', '-v', 'mine:/data', 'withdata:1', 'ls', '-A', '/data'), 'm\n');
  // nocopy, as -v mode and as --mount option
  assert.equal(await docker('run', '--rm', '-v', 'nc1:/data:nocopy', 'withdata:1', 'ls', '-A', '/data'), '');
  assert.equal(await docker('run', '--rm', '--mount', 'type=volume,src=nc2,dst=/data,volume-nocopy', 'withdata:1', 'ls', '-A', '/data'), '');
  await docker('volume', 'rm', 'cu', 'cuevil', 'mine', 'nc1', 'nc2');
});

test('the image\'s VOLUME paths get anonymous volumes, filled from the image; rm -v takes them', async () => {
  await ready();
  const before = await volumeNames();
  await docker('create', '--name', 'anon', 'withdata:1', 'cat', '/data/f');
  const mounts = JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'anon')) as Record<string, unknown>[];
  assert.deepEqual(mounts.map((m) => m.Destination), ['/data', '/evil']);
  for (const m of mounts) {
    assert.match(m.Name as string, hex64);
    assert.deepEqual(Object.keys(m), ['Type', 'Name', 'Source', 'Destination', 'Driver', 'Mode', 'RW', 'Propagation']);
    assert.equal(m.Source, path.join(d.dataRoot, 'volumes', m.Name as string, '_data'));
    assert.deepEqual([m.Type, m.Driver, m.Mode, m.RW, m.Propagation], ['volume', 'local', '', true, '']);
    const v = JSON.parse(await docker('volume', 'inspect', m.Name as string))[0];
    assert.deepEqual(v.Labels, { 'com.docker.volume.anonymous': '' });
  }
  assert.equal(await docker('start', '-a', 'anon'), 'from the image\n');
  await docker('rm', '-v', 'anon');
  assert.deepEqual(await volumeNames(), before);
});

test('rm -v removes anonymous volumes, never named ones; run --rm removes its anonymous volumes', async () => {
  const before = await volumeNames();
  await docker('create', '--name', 'rmv', '-v', 'named1:/n', '-v', '/anon', '--mount', 'type=volume,dst=/anon2', 'busybox', 'true');
  const anon = (JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'rmv')) as { Name: string; Destination: string }[])
    .filter((m) => m.Destination !== '/n').map((m) => m.Name);
  assert.equal(anon.length, 2);
  await docker('rm', '-v', 'rmv');
  assert.deepEqual(await volumeNames(), [...before, 'named1'].sort());
  // plain rm keeps the anonymous volume (dangling now)
  await docker('create', '--name', 'rmplain', '-v', '/kept', 'busybox', 'true');
  const kept = (JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'rmplain')) as { Name: string }[])[0].Name;
  await docker('rm', 'rmplain');
  assert.ok((await volumeNames()).includes(kept));
  await docker('volume', 'rm', kept);
  // --rm: the anonymous volume goes with the container, the named one stays
  await docker('run', '--rm', '-v', '/scratch', '-v', 'named2:/k', 'busybox', 'sh', '-c', 'echo x > /scratch/x; echo y > /k/y');
  assert.deepEqual(await volumeNames(), [...before, 'named1', 'named2'].sort());
  await docker('volume', 'rm', 'named1', 'named2');
});

test('read-only volumes and binds are read-only inside (EROFS); rw ones are writable', async () => {
  const host = fs.mkdtempSync(path.join(d.root, 'bind-'));
  fs.writeFileSync(path.join(host, 'h'), 'host file');
  const out = await d.docker(['run', '--rm', '-v', 'rov:/v:ro', '--mount', `type=bind,src=${host},dst=/b,readonly`, '-v', `${host}:/w`, 'busybox', 'sh', '-c',
    'touch /v/x 2>&1; echo "rc=$?"; touch /b/x 2>&1; echo "rc=$?"; cat /b/h; echo; echo rw > /w/new && echo wrote']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /touch: \/v\/x: Read-only file system\nrc=1\ntouch: \/b\/x: Read-only file system\nrc=1\nhost file\nwrote\n/);
  assert.equal(fs.readFileSync(path.join(host, 'new'), 'utf8'), 'rw\n');
  assert.ok(!fs.existsSync(path.join(host, 'x')));
  await docker('volume', 'rm', 'rov');
});

test('inspect shows Mounts as Docker does for binds, --mount volumes and --mount tmpfs; --tmpfs is not listed', async () => {
  const host = fs.mkdtempSync(path.join(d.root, 'bind-'));
  await docker('create', '--name', 'shapes', '-v', `${host}:/h:ro`, '--mount', `type=bind,src=${host},dst=/m,bind-propagation=rslave`,
    '--mount', 'type=volume,src=mv,dst=/v', '--mount', 'type=tmpfs,dst=/t', '--tmpfs', '/tt', 'busybox', 'true');
  try {
    const mounts = JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'shapes'));
    assert.deepEqual(mounts, [
      { Type: 'bind', Source: host, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'bind', Source: host, Destination: '/m', Mode: '', RW: true, Propagation: 'rslave' },
      { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
      { Type: 'volume', Name: 'mv', Source: path.join(d.dataRoot, 'volumes', 'mv', '_data'), Destination: '/v', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    ]);
  } finally {
    await docker('rm', '-v', 'shapes');
    await docker('volume', 'rm', 'mv');
  }
});

test('tmpfs mounts have their size and mode; writing past the size fails', async () => {
  const out = await docker('run', '--rm', '--tmpfs', '/t:size=1m', '--mount', 'type=tmpfs,dst=/u,tmpfs-size=2m,tmpfs-mode=1770', 'busybox', 'sh', '-c',
    'df -k /t /u | tail -n 2 | awk \'{print $1, $2}\'; stat -c %a /u; dd if=/dev/zero of=/t/big bs=1k count=2048 2>&1 | grep -o "No space left on device"');
  assert.equal(out, 'tmpfs 1024\ntmpfs 2048\n1770\nNo space left on device\n');
});

test('a missing bind source is made as a directory for -v and refused for --mount', async () => {
  const missing = path.join(d.root, 'not', 'there');
  await docker('run', '--rm', '-v', `${missing}:/x`, 'busybox', 'touch', '/x/made');
  assert.ok(fs.statSync(missing).isDirectory());
  assert.ok(fs.existsSync(path.join(missing, 'made')));
  const gone = path.join(d.root, 'gone');
  const r = await fails('run', '--rm', '--mount', `type=bind,src=${gone},dst=/x`, 'busybox', 'true');
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${gone}`));
  assert.ok(!fs.existsSync(gone));
});

test('bind propagation: rslave sees a host mount made later below it, rprivate does not, rshared hands the container\'s mounts back', async () => {
  const shared = fs.mkdtempSync(path.join(d.root, 'shared-'));
  // A private source can not propagate: refused with Docker's words rather than ignored.
  const priv = fs.mkdtempSync(path.join(d.root, 'private-'));
  await run('mount', ['--bind', priv, priv]);
  await run('mount', ['--make-private', priv]);
  const refused = await fails('run', '--rm', '-v', `${priv}:/m:rshared`, 'busybox', 'true');
  assert.match(refused.stderr, new RegExp(`path ${priv} is mounted on ${priv} but it is not a shared mount`));
  assert.match((await fails('run', '--rm', '-v', `${priv}:/m:rslave`, 'busybox', 'true')).stderr, /is not a shared or slave mount/);
  await run('umount', [priv]);
  await run('mount', ['--bind', shared, shared]);
  await run('mount', ['--make-shared', shared]);
  const sub = path.join(shared, 'sub');
  try {
    await docker('run', '-d', '--name', 'slave', '-v', `${shared}:/m:rslave`, 'busybox', 'sleep', '300');
    await docker('run', '-d', '--name', 'private', '--mount', `type=bind,src=${shared},dst=/m`, 'busybox', 'sleep', '300');
    fs.mkdirSync(sub);
    await run('mount', ['-t', 'tmpfs', 'tmpfs', sub]);
    fs.writeFileSync(path.join(sub, 'marker'), '');
    assert.equal(await docker('exec', 'slave', 'ls', '/m/sub'), 'marker\n');
    assert.equal(await docker('exec', 'private', 'ls', '/m/sub'), '');
    // rshared both ways: a mount made inside appears on the host
    await docker('run', '-d', '--name', 'shared', '--privileged', '--mount', `type=bind,src=${shared},dst=/m,bind-propagation=rshared`, 'busybox', 'sleep', '300');
    await docker('exec', 'shared', 'sh', '-c', 'mkdir /m/in && mount -t tmpfs tmpfs /m/in && touch /m/in/fromctr');
    assert.deepEqual(fs.readdirSync(path.join(shared, 'in')), ['fromctr']);
  } finally {
    await d.docker(['rm', '-f', 'slave', 'private', 'shared']);
    await run('umount', ['-l', path.join(shared, 'in')]).catch(() => undefined);
    await run('umount', ['-l', sub]).catch(() => undefined);
    await run('umount', ['-l', shared]).catch(() => undefined);
  }
});

test('--volumes-from shares the other container\'s mounts (ro on request) and rm -v leaves its anonymous volumes', async () => {
  await docker('create', '--name', 'vfsrc', '-v', 'vf:/shared', '-v', '/anonvf', 'busybox', 'true');
  try {
    await docker('run', '--rm', '--volumes-from', 'vfsrc', 'busybox', 'sh', '-c', 'echo hi > /shared/x; echo a > /anonvf/a');
    const r = await d.docker(['run', '--rm', '--volumes-from', 'vfsrc:ro', 'busybox', 'sh', '-c', 'cat /shared/x /anonvf/a; touch /shared/y']);
    assert.equal(r.stdout, 'hi\na\n');
    assert.match(r.stderr, /Read-only file system/);
    // the --rm container above did not take vfsrc's anonymous volume
    const anon = (JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'vfsrc')) as { Name: string; Destination: string }[])
      .find((m) => m.Destination === '/anonvf')!.Name;
    assert.ok((await volumeNames()).includes(anon));
    assert.match((await fails('run', '--rm', '--volumes-from', 'nosuch', 'busybox', 'true')).stderr, /No such container: nosuch/);
  } finally {
    await docker('rm', '-v', 'vfsrc');
    await docker('volume', 'rm', 'vf');
  }
});

test('a volume in use (by a running or a stopped container) is refused with 409; force does not change that', async () => {
  const id = (await docker('run', '-d', '-v', 'busy:/b', 'busybox', 'sleep', '300')).trim();
  const r = await d.request('DELETE', '/v1.44/volumes/busy');
  assert.equal(r.status, 409);
  assert.deepEqual(r.json(), { message: `remove busy: volume is in use - [${id}]` });
  assert.equal((await d.request('DELETE', '/v1.44/volumes/busy?force=1')).status, 409);
  await docker('stop', '-t', '0', id);
  const cli = await fails('volume', 'rm', 'busy');
  assert.match(cli.stderr, new RegExp(`volume is in use - \\[${id}\\]`));
  await docker('rm', id);
  await docker('volume', 'rm', 'busy');
  assert.equal((await d.request('DELETE', '/v1.44/volumes/busy')).status, 404);
  assert.equal((await d.request('DELETE', '/v1.44/volumes/busy?force=1')).status, 204);
  assert.deepEqual((await d.request('GET', '/v1.44/volumes/busy')).json(), { message: 'get busy: no such volume' });
});

test('volume create/ls filters; prune takes unused anonymous volumes, -a the named ones too, label filters narrow it', async () => {
  const before = await volumeNames();
  assert.equal((await docker('volume', 'create', '--label', 'tr=1', 'p-named')).trim(), 'p-named');
  const gen = (await docker('volume', 'create')).trim();
  assert.match(gen, hex64);
  await docker('create', '--name', 'puser', '-v', 'p-used:/u', '-v', '/pu-anon', 'busybox', 'true');
  await docker('create', '--name', 'ptmp', '-v', '/p-anon', 'busybox', 'true');
  const anonName = (JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'ptmp')) as { Name: string }[])[0].Name;
  await docker('rm', 'ptmp');
  try {
    assert.equal(await docker('volume', 'ls', '-q', '--filter', 'label=tr=1'), 'p-named\n');
    assert.equal(await docker('volume', 'ls', '-q', '--filter', 'name=p-'), 'p-named\np-used\n');
    assert.equal(await docker('volume', 'ls', '-q', '--filter', 'driver=local', '--filter', 'name=p-used'), 'p-used\n');
    const dangling = (await docker('volume', 'ls', '-q', '--filter', 'dangling=true')).split('\n');
    assert.ok(dangling.includes('p-named') && dangling.includes(anonName) && !dangling.includes('p-used'));
    assert.ok(!(await docker('volume', 'ls', '-q', '--filter', 'dangling=false')).includes('p-named'));
    assert.match((await fails('volume', 'ls', '--filter', 'color=red')).stderr, /invalid filter 'color'/);
    // default prune: the unused anonymous one only
    const p1 = await docker('volume', 'prune', '-f');
    assert.match(p1, new RegExp(`Deleted Volumes:\n${anonName}\n`));
    let now = await volumeNames();
    assert.ok(now.includes('p-named') && now.includes(gen) && now.includes('p-used') && !now.includes(anonName));
    // -a with a label filter: only the labelled unused one
    assert.match(await docker('volume', 'prune', '-af', '--filter', 'label=tr=1'), /Deleted Volumes:\np-named\n/);
    // -a: every unused one; p-used and puser's anonymous volume stay
    await docker('volume', 'prune', '-af');
    now = await volumeNames();
    assert.ok(!now.includes(gen) && now.includes('p-used'));
  } finally {
    await docker('rm', '-v', 'puser');
    await docker('volume', 'rm', 'p-used');
  }
  assert.deepEqual(await volumeNames(), before.filter((n) => n !== gen));
});

test('the local driver\'s options: a tmpfs volume mounted for its users, a bind of a host directory; bad options are a 400', async () => {
  await docker('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m,mode=0700', 'tv');
  const v = JSON.parse(await docker('volume', 'inspect', 'tv'))[0];
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,mode=0700' });
  assert.equal(await docker('run', '--rm', '-v', 'tv:/t', 'busybox', 'sh', '-c', 'df -k /t | tail -n 1 | awk \'{print $1, $2}\'; stat -c %a /t'), 'tmpfs 1024\n700\n');
  // unmounted after its last user: nothing on the data directory
  assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(v.Mountpoint));
  // --mount's volume-opt and volume-label make the volume they name
  assert.equal(await docker('run', '--rm', '--mount', 'type=volume,src=mopt,dst=/v,volume-label=made=by-mount,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m',
    'busybox', 'sh', '-c', 'df -k /v | tail -n 1 | awk \'{print $1, $2}\''), 'tmpfs 2048\n');
  const mopt = JSON.parse(await docker('volume', 'inspect', 'mopt'))[0];
  assert.deepEqual([mopt.Labels, mopt.Options], [{ made: 'by-mount' }, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' }]);
  await docker('volume', 'rm', 'mopt');
  const host = fs.mkdtempSync(path.join(d.root, 'bindvol-'));
  await docker('volume', 'create', '--opt', 'type=none', '--opt', `device=${host}`, '--opt', 'o=bind', 'bv');
  await docker('run', '--rm', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'echo in > /b/file');
  assert.equal(fs.readFileSync(path.join(host, 'file'), 'utf8'), 'in\n');
  await docker('volume', 'rm', 'tv', 'bv');
  // removing the volume never deletes the host directory's content
  assert.equal(fs.readFileSync(path.join(host, 'file'), 'utf8'), 'in\n');
  const bad = await d.request('POST', '/v1.44/volumes/create', { Name: 'badopt', DriverOpts: { foo: 'bar' } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json(), { message: 'invalid option key: "foo"' });
  assert.equal((await d.request('POST', '/v1.44/volumes/create', { Name: 'nodev', DriverOpts: { type: 'tmpfs' } })).json().message, 'missing required option: "device"');
  assert.equal((await d.request('POST', '/v1.44/volumes/create', { Name: 'drv', Driver: 'flocker' })).status, 404);
  assert.match((await d.request('POST', '/v1.44/volumes/create', { Name: 'a/b' })).json().message, /includes invalid characters for a local volume name/);
  // a device that can not be mounted here fails the start with the mount's reason, and leaves nothing mounted
  await docker('volume', 'create', '--opt', 'type=nfs', '--opt', 'device=:/export', '--opt', 'o=addr=127.0.0.1', 'nfsv');
  const nfs = await fails('run', '--rm', '-v', 'nfsv:/n', 'busybox', 'true');
  assert.match(nfs.stderr, /error while mounting volume '.*nfsv\/_data': failed to mount local volume: mount :\/export:/);
  await docker('volume', 'rm', 'nfsv');
});

test('system df -v lists each volume with its size and users', async () => {
  await docker('run', '--name', 'dfuser', '-v', 'dfv:/d', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /d/blob');
  try {
    const du = (await d.request('GET', '/v1.44/system/df?type=volume')).json();
    const v = du.Volumes.find((x: { Name: string }) => x.Name === 'dfv');
    assert.deepEqual(v.UsageData, { Size: 5000, RefCount: 1 });
    const out = await docker('system', 'df', '-v');
    assert.match(out, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\n(.*\n)*dfv\s+1\s+5kB/);
  } finally {
    await docker('rm', 'dfuser');
    await docker('volume', 'rm', 'dfv');
  }
});

test('create refuses malformed mount specs with Docker\'s words', async () => {
  const msg = async (...args: string[]) => (await fails('create', ...args, 'busybox', 'true')).stderr;
  assert.match(await msg('-v', 'vol:/data:bogus'), /invalid mode: bogus/);
  assert.match(await msg('-v', 'vol:relative'), /invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute/);
  assert.match(await msg('-v', 'v1:/same', '-v', 'v2:/same'), /Duplicate mount point: \/same/);
  assert.match(await msg('--mount', 'type=tmpfs,src=x,dst=/t'), /field Source must not be specified/);
  assert.match(await msg('-v', '/:/'), /destination can't be '\/'/);
  // nothing was made by the refused creates
  assert.ok(!(await volumeNames()).some((n) => ['vol', 'v1', 'v2'].includes(n)));
});

test('docker ps --filter volume= finds the containers using a volume (by name or destination)', async () => {
  const id = (await docker('create', '-v', 'psv:/psdest', 'busybox', 'true')).trim();
  try {
    assert.equal(await docker('ps', '-aq', '--no-trunc', '--filter', 'volume=psv'), id + '\n');
    assert.equal(await docker('ps', '-aq', '--no-trunc', '--filter', 'volume=/psdest'), id + '\n');
    assert.equal(await docker('ps', '-aq', '--filter', 'volume=other'), '');
  } finally {
    await docker('rm', id);
    await docker('volume', 'rm', 'psv');
  }
});

test('docker-py (python3-docker): volumes create/list/get/remove/prune and a container with one', async () => {
  const script = path.join(d.root, 'volumes.py');
  fs.writeFileSync(script, `
import docker
c = docker.DockerClient(base_url='unix://${d.socket}', version='auto')
v = c.volumes.create('pyvol', labels={'sdk': 'py'})
assert v.name == 'pyvol' and v.attrs['Labels'] == {'sdk': 'py'}, v.attrs
assert [x.name for x in c.volumes.list(filters={'label': 'sdk=py'})] == ['pyvol']
out = c.containers.run('busybox', ['sh', '-c', 'echo py > /v/f; cat /v/f'], volumes={'pyvol': {'bind': '/v', 'mode': 'rw'}}, remove=True)
assert out == b'py\\n', out
out = c.containers.run('busybox', ['cat', '/v/f'], mounts=[docker.types.Mount('/v', 'pyvol', read_only=True)], remove=True)
assert out == b'py\\n', out
ctr = c.containers.create('busybox', ['true'], volumes=['pyvol:/v'])
try:
    c.volumes.get('pyvol').remove()
    raise SystemExit('removed while in use')
except docker.errors.APIError as e:
    assert e.status_code == 409, e
ctr.remove()
try:
    c.volumes.get('nosuch')
    raise SystemExit('expected NotFound')
except docker.errors.NotFound:
    pass
r = c.volumes.prune(filters={'all': 'true', 'label': 'sdk=py'})
assert r['VolumesDeleted'] == ['pyvol'], r
print('ok')
`);
  const r = await runCmd('/usr/bin/python3', [script], process.env, { timeout: 120_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim(), 'ok');
});

test('volume events: create, mount, unmount, destroy; prune before API 1.42 takes named volumes too', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await docker('volume', 'create', 'evv');
  await docker('run', '--rm', '-v', 'evv:/e', 'busybox', 'true');
  await docker('volume', 'rm', 'evv');
  const until = Math.ceil(Date.now() / 1000) + 1;
  const lines = (await docker('events', '--since', String(since), '--until', String(until), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}'))
    .split('\n').filter((l) => l.includes(' evv '));
  assert.deepEqual(lines, ['create evv local', 'mount evv local', 'unmount evv local', 'destroy evv local']);
  await docker('volume', 'create', 'oldapi');
  const r = await d.request('POST', '/v1.41/volumes/prune');
  assert.ok(r.json().VolumesDeleted.includes('oldapi'), r.body.toString());
});

test('containers starting at once on one empty volume copy the image content up once, and all start', async () => {
  await ready();
  const runs = await Promise.all([1, 2, 3].map((i) => d.docker(['run', '--rm', '-v', 'together:/data', 'withdata:1', 'sh', '-c', `echo ${i} > /data/r${i}; cat /data/f`])));
  for (const r of runs) assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'from the image\n', '']);
  assert.equal(await docker('run', '--rm', '-v', 'together:/x', 'busybox', 'ls', '/x'), 'f\nhard\nr1\nr2\nr3\nsub\n');
  await docker('volume', 'rm', 'together');
});
