// InRoot (src/lib/sys/inroot.ts) on real files: a root whose symlinks and `..` point at the
// host's files (absolute, relative, `/../../..`), a working dir that is an escaping symlink,
// loops, FIFOs, and a symlink swapped while we read: everything resolves inside the root or
// fails cleanly, and nothing outside the root is read, written or created.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanInRoot, InRoot } from '../../src/lib/sys/inroot';
import { resolveUser } from '../../src/engine/containers/user';
import { mkfifo, mknod, S_IFCHR } from '../../src/lib/sys/fsnode';
import { getXattr } from '../../src/lib/sys/xattr';

const HOST_PASSWD = 'evil:x:4242:4242:host:/host:/bin/sh\n';
const ROOT_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nevil:x:1234:1234:inside:/inside:/bin/sh\n';

/** A temp dir with `root/` (the container) and `host/` (what must never be reached). */
function scene(): { tmp: string; root: string; host: string; hostFile: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-inroot-'));
  const root = path.join(tmp, 'root');
  const host = path.join(tmp, 'host');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(host);
  const hostFile = path.join(host, 'passwd');
  fs.writeFileSync(hostFile, HOST_PASSWD);
  return { tmp, root, host, hostFile };
}

const code = (c: string) => (e: NodeJS.ErrnoException) => e.code === c;

test('cleanInRoot: lexical, absolute, never above /', () => {
  assert.equal(cleanInRoot(''), '/');
  assert.equal(cleanInRoot('../../etc//passwd/'), '/etc/passwd');
  assert.equal(cleanInRoot('/a/./b/../c'), '/a/c');
  assert.equal(cleanInRoot('/..'), '/');
});

test('/etc/passwd as a symlink to the host file (absolute, /../../.., relative) resolves inside the root', async () => {
  const { tmp, root, hostFile } = scene();
  try {
    const targets = [
      hostFile,                                  // absolute host path
      '/../../../../../../..' + hostFile,        // absolute with `..` above /
      '../'.repeat(20) + hostFile.slice(1),      // relative, climbing
    ];
    for (const target of targets) {
      fs.rmSync(path.join(root, 'etc/passwd'), { force: true });
      fs.symlinkSync(target, path.join(root, 'etc/passwd'));
      await InRoot.with(root, async (r) => {
        // nothing at that path inside the root: missing, not the host's file
        assert.equal(await r.readFileIfExists('/etc/passwd'), undefined, target);
        await assert.rejects(r.readFile('/etc/passwd'), code('ENOENT'));
        assert.equal(await r.exists('/etc/passwd'), false);
        assert.ok((await r.lstat('/etc/passwd')).isSymbolicLink());
        assert.equal(await r.readlink('/etc/passwd'), target);
      });
      await assert.rejects(resolveUser(root, 'evil'), /unable to find user evil: no matching entries in passwd file/);
      assert.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });

      // the same path made inside the root: that one is read
      fs.mkdirSync(path.join(root, path.dirname(hostFile)), { recursive: true });
      fs.writeFileSync(path.join(root, hostFile), ROOT_PASSWD);
      await InRoot.with(root, async (r) => {
        assert.equal((await r.readFile('/etc/passwd')).toString(), ROOT_PASSWD);
        assert.equal(await r.realpath('/etc/passwd'), hostFile);
      });
      assert.equal((await resolveUser(root, 'evil')).uid, 1234, target);
      fs.rmSync(path.join(root, hostFile.split('/')[1]), { recursive: true });
    }
    assert.equal(fs.readFileSync(hostFile, 'utf8'), HOST_PASSWD);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('`..` components and a symlinked /etc stay inside the root', async () => {
  const { tmp, root, host } = scene();
  try {
    fs.writeFileSync(path.join(root, 'etc/passwd'), ROOT_PASSWD);
    await InRoot.with(root, async (r) => {
      for (const p of ['../../../etc/passwd', '/etc/../../../../etc/passwd', 'etc/./passwd']) {
        assert.equal((await r.readFile(p)).toString(), ROOT_PASSWD, p);
      }
    });
    // /etc itself a symlink out of the root: its lookups are inside
    fs.rmSync(path.join(root, 'etc'), { recursive: true });
    fs.symlinkSync('../'.repeat(10) + host.slice(1), path.join(root, 'etc'));
    await InRoot.with(root, async (r) => {
      assert.equal(await r.readFileIfExists('/etc/passwd'), undefined);
      await assert.rejects(r.stat('/etc'), code('ENOENT'));
    });
    await assert.rejects(resolveUser(root, 'evil'), /unable to find user evil/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a working dir that is an escaping symlink: mkdirAll and writes land inside the root', async () => {
  const { tmp, root, host } = scene();
  try {
    fs.symlinkSync(host, path.join(root, 'work'));                   // absolute
    fs.symlinkSync('../../..' + host, path.join(root, 'work2'));     // relative
    await InRoot.with(root, async (r) => {
      assert.equal(await r.mkdirAll('/work/app/sub', { mode: 0o750, uid: 1, gid: 2 }), '/' + host.split('/')[1], 'the first directory made');
      assert.equal(await r.mkdirAll('/work2/app/sub'), undefined, 'work2 leads to the same place: nothing new');
      await r.writeFile('/work/app/sub/f', 'inside', { mode: 0o600, uid: 3, gid: 4 });
      await r.symlink(hostFileOf(host), '/work/app/link');
      assert.equal(await r.realpath('/work/app/sub'), host + '/app/sub');
      assert.deepEqual((await r.readdir('/work/app')).sort(), ['link', 'sub']);
      // a write through a symlink as the last component is refused, not followed
      await assert.rejects(r.writeFile('/work/app/link', 'x'), code('ELOOP'));
      await assert.rejects(r.mkdirAll('/work/app/sub/f/deeper'), code('ENOTDIR'));
      await assert.rejects(r.mkdir('/work/app/sub'), code('EEXIST'));
      await assert.rejects(r.mkdir('/'), code('EINVAL'));
    });
    const made = path.join(root, host, 'app');
    const st = fs.statSync(path.join(made, 'sub'));
    assert.equal(st.mode & 0o7777, 0o750);
    assert.deepEqual([st.uid, st.gid], [1, 2]);
    const f = fs.statSync(path.join(made, 'sub/f'));
    assert.deepEqual([f.mode & 0o777, f.uid, f.gid], [0o600, 3, 4]);
    assert.equal(fs.readFileSync(path.join(made, 'sub/f'), 'utf8'), 'inside');
    assert.equal(fs.readlinkSync(path.join(made, 'link')), hostFileOf(host));
    assert.deepEqual(fs.readdirSync(host), ['passwd'], 'nothing was created on the host side');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

function hostFileOf(host: string): string { return path.join(host, 'passwd'); }

test('loops, FIFOs, devices, directories and size limits fail cleanly without blocking', async () => {
  const { tmp, root } = scene();
  try {
    fs.symlinkSync('/etc/b', path.join(root, 'etc/a'));
    fs.symlinkSync('/etc/a', path.join(root, 'etc/b'));
    fs.symlinkSync('a', path.join(root, 'etc/passwd'));
    mkfifo(path.join(root, 'etc/group'), 0o644);
    fs.mkdirSync(path.join(root, 'etc/dir'));
    fs.symlinkSync('/dev/zero', path.join(root, 'etc/zero'));
    fs.mkdirSync(path.join(root, 'dev'));
    mknod(path.join(root, 'dev/zero'), S_IFCHR | 0o666, 1, 5); // a real /dev/zero, inside
    fs.writeFileSync(path.join(root, 'etc/big'), Buffer.alloc(100));
    await InRoot.with(root, async (r) => {
      await assert.rejects(r.readFile('/etc/passwd'), code('ELOOP'));
      await assert.rejects(r.readFile('/etc/group'), code('EINVAL'), 'a FIFO is refused, not opened');
      assert.throws(() => r.createReadStream('/etc/group'), code('EINVAL'));
      assert.equal(await r.readFileIfExists('/etc/dir'), undefined);
      await assert.rejects(r.readFile('/etc/zero'), code('EINVAL'), 'a device (that never ends) is refused');
      await assert.rejects(r.readFile('/etc/big', { maxBytes: 99 }), code('EFBIG'));
      assert.equal((await r.readFile('/etc/big', { maxBytes: 100 })).length, 100);
    });
    await assert.rejects(resolveUser(root, 'x'), (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /\/etc\/passwd/.test(e.message));
    fs.rmSync(path.join(root, 'etc/passwd'));
    await assert.rejects(resolveUser(root, '0'), (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /\/etc\/group.*not a regular file/.test(e.message));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('streams, xattrs, chmod, times, links and unlink go to the entry inside the root', async () => {
  const { tmp, root } = scene();
  fs.writeFileSync(path.join(tmp, 'outside'), 'host');
  fs.chmodSync(path.join(tmp, 'outside'), 0o644);
  try {
    await InRoot.with(root, async (r) => {
      const w = r.createWriteStream('/etc/streamed', { mode: 0o640, exclusive: true });
      await new Promise<void>((resolve, reject) => { w.on('error', reject); w.end('streamed bytes', resolve); });
      assert.throws(() => r.createWriteStream('/etc/streamed', { exclusive: true }), code('EEXIST'));
      const chunks: Buffer[] = [];
      for await (const c of r.createReadStream('/../etc/streamed')) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'streamed bytes');
      await r.symlink('/etc/streamed', '/etc/ln', { uid: 5, gid: 6 });
      await r.setXattr('/etc/ln', 'trusted.berth.t', Buffer.from([0xff, 0]));
      assert.deepEqual((await r.readXattrs('/etc/ln')).get('trusted.berth.t'), Buffer.from([0xff, 0]));
      await r.lchown('/etc/ln', 7, 8);
      // chmod follows the link inside the root, to /etc/streamed; times and unlink are the link's own
      await r.chmod('/etc/ln', 0o600);
      await r.lutimes('/etc/ln', new Date(1e12), new Date(1e12));
      await r.link('/etc/streamed', '/etc/hard');
      await r.mkdir('/etc/empty');
      await r.rmdir('/etc/empty');
      await r.symlink('/../../..' + tmp + '/outside', '/etc/escape');
      await assert.rejects(r.chmod('/etc/escape', 0o777), code('ENOENT'), 'chmod through an escaping link finds nothing inside');
      await r.unlink('/etc/escape');
    });
    assert.equal(fs.statSync(path.join(root, 'etc/streamed')).mode & 0o777, 0o600);
    assert.equal(fs.lstatSync(path.join(root, 'etc/ln')).mtimeMs, 1e12);
    assert.equal(fs.statSync(path.join(root, 'etc/hard')).ino, fs.statSync(path.join(root, 'etc/streamed')).ino);
    assert.ok(!fs.existsSync(path.join(root, 'etc/escape')) && !fs.existsSync(path.join(root, 'etc/empty')));
    const l = fs.lstatSync(path.join(root, 'etc/ln'));
    assert.deepEqual([l.uid, l.gid], [7, 8]);
    assert.deepEqual(getXattr(path.join(root, 'etc/ln'), 'trusted.berth.t'), Buffer.from([0xff, 0]));
    assert.equal(fs.statSync(path.join(tmp, 'outside')).mode & 0o777, 0o644, 'the host file is untouched');
    const closed = InRoot.open(root);
    closed.close();
    assert.throws(() => closed.openFd('/etc', fs.constants.O_RDONLY), /closed/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a symlink swapped to the host file while we read: never the host\'s content', async () => {
  const { tmp, root, hostFile } = scene();
  try {
    fs.writeFileSync(path.join(root, 'etc/real'), ROOT_PASSWD);
    fs.symlinkSync('real', path.join(root, 'etc/passwd'));
    // A shell loop swaps /etc/passwd between the inside file and the host file, atomically.
    const etc = path.join(root, 'etc');
    const swapper = spawn('sh', ['-c', `cd ${etc} && while :; do ln -sfn ${hostFile} p.tmp && mv -T p.tmp passwd; ln -sfn real p.tmp && mv -T p.tmp passwd; done`], { stdio: 'ignore' });
    let inside = 0;
    let missing = 0;
    try {
      await InRoot.with(root, async (r) => {
        for (let i = 0; i < 3000; i++) {
          const b = await r.readFileIfExists('/etc/passwd');
          if (b === undefined) { missing++; continue; }
          assert.equal(b.toString(), ROOT_PASSWD);
          inside++;
        }
      });
    } finally {
      swapper.kill('SIGKILL');
      await new Promise((res) => swapper.once('exit', res));
    }
    assert.ok(inside > 0, 'read the inside file');
    assert.ok(missing > 0, `the swapper ran (${inside} inside, ${missing} missing)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
