// The addon's mount/umount2 and the overlay helper; needs root.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mountOverlay, unmount, mount, MS_BIND, MS_RDONLY, MS_REMOUNT } from '../../src/lib/sys/mount';
import { SeqpacketSocket } from '../../src/lib/sys/seqpacket';

function mounted(p: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);
}

test('overlay mount and unmount', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brm-'));
  try {
    const lowers = ['l1', 'l2', 'l,3:x'].map((n) => path.join(tmp, n));
    for (const [i, l] of lowers.entries()) {
      fs.mkdirSync(l);
      fs.writeFileSync(path.join(l, 'f'), `layer${i}`);
      fs.writeFileSync(path.join(l, `only${i}`), '');
    }
    const upper = path.join(tmp, 'upper');
    const work = path.join(tmp, 'work');
    const target = path.join(tmp, 'merged');
    for (const d of [upper, work, target]) fs.mkdirSync(d);
    mountOverlay(lowers, upper, work, target);
    try {
      assert.ok(mounted(target));
      assert.equal(fs.readFileSync(path.join(target, 'f'), 'utf8'), 'layer0'); // top-most first
      for (let i = 0; i < 3; i++) assert.ok(fs.existsSync(path.join(target, `only${i}`)));
      fs.writeFileSync(path.join(target, 'new'), 'x');
      assert.ok(fs.existsSync(path.join(upper, 'new')));
    } finally {
      unmount(target);
    }
    assert.ok(!mounted(target));
    unmount(target); // not mounted: fine
    unmount(path.join(tmp, 'nope')); // missing: fine
    assert.throws(() => mount('overlay', path.join(tmp, 'nope'), 'overlay', 0, 'lowerdir=/nonexistent'), (e: Error & { code?: string }) => e.code === 'ENOENT');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('overlay with many layers (options longer than a page)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brm-'));
  try {
    const layersDir = path.join(tmp, 'layers');
    const lowers: string[] = [];
    for (let i = 0; i < 60; i++) {
      const l = path.join(layersDir, `${i.toString().padStart(3, '0')}${'a'.repeat(40)}`, 'diff');
      fs.mkdirSync(l, { recursive: true });
      fs.writeFileSync(path.join(l, `f${i}`), '');
      lowers.push(l);
    }
    assert.ok(lowers.join(':').length > 4096);
    const upper = path.join(tmp, 'u'); const work = path.join(tmp, 'w'); const target = path.join(tmp, 'm');
    for (const d of [upper, work, target]) fs.mkdirSync(d);
    const cwd = process.cwd();
    mountOverlay(lowers, upper, work, target);
    assert.equal(process.cwd(), cwd);
    try {
      assert.ok(fs.existsSync(path.join(target, 'f0')) && fs.existsSync(path.join(target, 'f59')));
    } finally {
      unmount(target);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('bind + read-only remount', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brm-'));
  try {
    const src = path.join(tmp, 's'); const dst = path.join(tmp, 'd');
    fs.mkdirSync(src); fs.mkdirSync(dst);
    mount(src, dst, null, MS_BIND);
    mount(null, dst, null, MS_BIND | MS_REMOUNT | MS_RDONLY);
    assert.throws(() => fs.writeFileSync(path.join(dst, 'x'), ''), /EROFS/);
    unmount(dst);
    assert.ok(!mounted(dst));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('seqpacket connect errors are typed', () => {
  assert.throws(() => SeqpacketSocket.connect('/nonexistent/sock'), (e: Error & { code?: string }) => e.code === 'ENOENT');
});

test('openat2 RESOLVE_IN_ROOT keeps symlinks inside the root; setns round trip', async () => {
  const { InRoot } = await import('../../src/lib/sys/inroot');
  const { withNetns } = await import('../../src/lib/sys/setns');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bro-'));
  try {
    const root = path.join(tmp, 'root');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'inside');
    fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
    fs.symlinkSync('../../../../../../etc/passwd', path.join(root, 'dotdot'));
    const r = InRoot.open(root);
    try {
      for (const p of ['link', 'dotdot', '/etc/passwd', '../etc/passwd']) {
        const fd = r.openFd(p, fs.constants.O_RDONLY);
        try {
          assert.equal(fs.readFileSync(fd, 'utf8'), 'inside', p);
        } finally {
          fs.closeSync(fd);
        }
      }
    } finally {
      r.close();
    }
    const ino = fs.statSync('/proc/thread-self/ns/net').ino;
    assert.equal(withNetns('/proc/self/ns/net', () => fs.statSync('/proc/thread-self/ns/net').ino), ino);
    assert.equal(fs.statSync('/proc/thread-self/ns/net').ino, ino);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
