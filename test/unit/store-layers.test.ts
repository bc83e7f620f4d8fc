import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { LocalContentStore } from '../../src/store/content/ContentStore';
import { LocalLayerStore, chainIdOf } from '../../src/store/layers/LayerStore';
import { isMountPoint, parseMountInfo } from '../../src/store/layers/mounts';
import { exportDir } from '../../src/store/layers/export';
import { readXattrTree } from '../../src/store/layers/fsops';
import { sha256 } from '../../src/lib/digest';
import { collect, gzip, makeTar, readTar, rmRoot, streamOf, tempRoot } from './store-tarutil';

async function newStore(root: string): Promise<LocalLayerStore> {
  const cs = new LocalContentStore(root);
  await cs.init();
  const ls = new LocalLayerStore(root, cs);
  await ls.init();
  return ls;
}

function leftovers(root: string): string[] {
  return fs.readdirSync(path.join(root, 'layers', 'tmp'));
}

test('layers: extract plain and gzip, diffID verified, stored once', async () => {
  const root = tempRoot();
  try {
    const ls = await newStore(root);
    const t = await makeTar([
      { name: 'bin/', type: 'directory' },
      { name: 'bin/sh', body: '#!binary', mode: 0o4755, uid: 1000, gid: 1001, mtime: new Date(1600000000000) },
      { name: 'bin/link', type: 'symlink', linkname: '/bin/sh' },
      { name: 'bin/hard', type: 'link', linkname: 'bin/sh' },
      { name: 'etc/passwd', body: 'root:x:0:0\n' },
    ]);
    const diffId = sha256(t);
    const m = await ls.createLayer(null, streamOf(gzip(t)), { expectDiffId: diffId });
    assert.equal(m.diffId, diffId);
    assert.equal(m.chainId, diffId);
    assert.equal(m.tarSize, t.length);
    const d = ls.diffDir(m.chainId);
    const st = fs.statSync(path.join(d, 'bin/sh'));
    assert.equal(st.mode & 0o7777, 0o4755);
    assert.equal(st.uid, 1000);
    assert.equal(st.gid, 1001);
    assert.equal(st.mtimeMs, 1600000000000);
    assert.equal(fs.readlinkSync(path.join(d, 'bin/link')), '/bin/sh');
    assert.equal(fs.statSync(path.join(d, 'bin/hard')).ino, st.ino);
    assert.equal(fs.readFileSync(path.join(d, 'etc/passwd'), 'utf8'), 'root:x:0:0\n');
    // the exported tar is byte-identical (the kept blob)
    assert.equal(sha256(await collect(await ls.exportLayer(m.chainId))), diffId);
    // same content again (uncompressed): no second copy
    const again = await ls.createLayer(null, streamOf(t));
    assert.equal(again.chainId, m.chainId);
    assert.equal(ls.list().length, 1);
    ls.unpin([m.chainId, m.chainId]);
    // on a parent: a different chain
    const child = await ls.createLayer(m.chainId, streamOf(t));
    assert.equal(child.chainId, chainIdOf(m.chainId, diffId));
    await assert.rejects(ls.createLayer(null, streamOf(t), { expectDiffId: sha256('x') }), /diff ID mismatch/);
    assert.deepEqual(leftovers(root), []);
    assert.ok(!fs.existsSync(ls.layerDir(sha256('x'))));
  } finally { rmRoot(root); }
});

test('layers: tar path safety', async () => {
  const root = tempRoot();
  const outside = tempRoot('berth-outside-');
  try {
    const ls = await newStore(root);
    // ../ escape: refused
    await assert.rejects(ls.createLayer(null, streamOf(await makeTar([{ name: '../../../evil', body: 'x' }]))), /escapes/);
    // absolute path: neutralised into the layer
    const abs = await ls.createLayer(null, streamOf(await makeTar([{ name: `${outside}/abs`, body: 'x' }])));
    assert.ok(!fs.existsSync(path.join(outside, 'abs')));
    assert.ok(fs.existsSync(path.join(ls.diffDir(abs.chainId), outside, 'abs')));
    // symlink, then a file through the symlink: refused
    await assert.rejects(ls.createLayer(null, streamOf(await makeTar([
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/pwned', body: 'x' },
    ]))), /symlink/);
    assert.ok(!fs.existsSync(path.join(outside, 'pwned')));
    // a whiteout in a dir that a later entry replaces by a symlink: entries apply in order,
    // the whiteout went into the real dir, the symlink replaced it; nothing lands outside
    const swapped = await ls.createLayer(null, streamOf(await makeTar([
      { name: 'd/', type: 'directory' },
      { name: 'd/.wh.x', body: '' },
      { name: 'd', type: 'symlink', linkname: outside },
    ])));
    assert.ok(fs.lstatSync(path.join(ls.diffDir(swapped.chainId), 'd')).isSymbolicLink());
    assert.deepEqual(fs.readdirSync(outside), []);
    // ... and a whiteout through that symlink afterwards: refused
    await assert.rejects(ls.createLayer(null, streamOf(await makeTar([
      { name: 'd', type: 'symlink', linkname: outside },
      { name: 'd/.wh.x', body: '' },
    ]))), /symlink/);
    assert.deepEqual(fs.readdirSync(outside), []);
    // a file replacing a symlink: the symlink is unlinked, never followed
    fs.writeFileSync(path.join(outside, 'target'), 'keep');
    const rep = await ls.createLayer(null, streamOf(await makeTar([
      { name: 'f', type: 'symlink', linkname: path.join(outside, 'target') },
      { name: 'f', body: 'new' },
    ])));
    assert.equal(fs.readFileSync(path.join(outside, 'target'), 'utf8'), 'keep');
    assert.equal(fs.readFileSync(path.join(ls.diffDir(rep.chainId), 'f'), 'utf8'), 'new');
    // hard link to something outside: refused
    await assert.rejects(ls.createLayer(null, streamOf(await makeTar([
      { name: 'h', type: 'link', linkname: '../../../../etc/passwd' },
    ]))), /escapes|not inside/);
    await assert.rejects(ls.createLayer(null, streamOf(await makeTar([
      { name: 'h', type: 'link', linkname: path.join(outside, 'target') },
    ]))), /not inside/);
    // hard link through a symlinked dir: refused
    await assert.rejects(ls.createLayer(null, streamOf(await makeTar([
      { name: 's', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 's/target' },
    ]))), /not inside/);
    assert.equal(fs.statSync(path.join(outside, 'target')).nlink, 1);
    assert.deepEqual(leftovers(root), []);
  } finally { rmRoot(root); rmRoot(outside); }
});

test('layers: whiteouts become overlay whiteouts and round-trip', async () => {
  const root = tempRoot();
  try {
    const ls = await newStore(root);
    const t = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.removed', body: '' },
      { name: 'opaque/', type: 'directory' },
      { name: 'opaque/.wh..wh..opq', body: '' },
      { name: 'opaque/kept', body: 'k' },
      { name: 'x', body: 'xattr', pax: { 'SCHILY.xattr.user.berth': 'v1' } },
    ]);
    const m = await ls.createLayer(null, streamOf(t));
    const d = ls.diffDir(m.chainId);
    const wh = fs.lstatSync(path.join(d, 'etc/removed'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok(!fs.existsSync(path.join(d, 'etc/.wh.removed')));
    assert.ok(!fs.existsSync(path.join(d, 'opaque/.wh..wh..opq')));
    const x = await readXattrTree(d);
    assert.equal(Buffer.from(x['opaque']['trusted.overlay.opaque'], 'base64').toString(), 'y');
    // user xattrs need fs support (tmpfs may lack them): checked only when present
    if (x['x']) assert.equal(Buffer.from(x['x']['user.berth'], 'base64').toString(), 'v1');
    // export the diff dir back to OCI form
    const entries = await readTar(exportDir(d));
    assert.ok(entries.has('etc/.wh.removed'));
    assert.ok(entries.has('opaque/.wh..wh..opq'));
    assert.ok(!entries.has('etc/removed'));
    assert.equal(entries.get('opaque/kept')!.body.toString(), 'k');
    if (x['x']) assert.equal((entries.get('x')!.header as { pax?: Record<string, string> }).pax?.['SCHILY.xattr.user.berth'], 'v1');
    // and that tar extracts to the same overlay form
    const again = await ls.createLayer(null, exportDir(d));
    const d2 = ls.diffDir(again.chainId);
    assert.ok(fs.lstatSync(path.join(d2, 'etc/removed')).isCharacterDevice());
    assert.equal(Buffer.from((await readXattrTree(d2))['opaque']['trusted.overlay.opaque'], 'base64').toString(), 'y');
  } finally { rmRoot(root); }
});

test('layers: container overlay mount lifecycle leaves no mounts', async () => {
  const root = tempRoot();
  try {
    const ls = await newStore(root);
    const base = await ls.createLayer(null, streamOf(await makeTar([
      { name: 'hello', body: 'lower' },
      { name: 'gone', body: 'x' },
    ])));
    const top = await ls.createLayer(base.chainId, streamOf(await makeTar([{ name: '.wh.gone', body: '' }, { name: 'top', body: 't' }])));
    ls.unpin([base.chainId, top.chainId]);
    const id = 'c0ffee' + '0'.repeat(58);
    await ls.createMount(id, top.chainId);
    const info = await ls.mountInfo(id);
    assert.deepEqual(info.lowerDirs, [ls.diffDir(top.chainId), ls.diffDir(base.chainId)]);
    const merged = await ls.mount(id);
    assert.equal(await ls.mount(id), merged); // idempotent
    assert.ok(await isMountPoint(merged));
    assert.equal(fs.readFileSync(path.join(merged, 'hello'), 'utf8'), 'lower');
    assert.ok(!fs.existsSync(path.join(merged, 'gone')));
    fs.writeFileSync(path.join(merged, 'new'), '12345');
    fs.rmSync(path.join(merged, 'hello'));
    assert.equal(await ls.diffSize(id), 5);
    // the layer under a mount is not removable
    assert.deepEqual(await ls.removeUnused([top.chainId, base.chainId], new Set()), []);
    await ls.unmount(id);
    await ls.unmount(id); // idempotent
    assert.ok(!(await isMountPoint(merged)));
    const tarOfUpper = await readTar(exportDir(info.upperDir));
    assert.ok(tarOfUpper.has('.wh.hello'));
    assert.ok(tarOfUpper.has('new'));
    // zero-layer mount uses the empty lowerdir
    await ls.createMount('empty1', null);
    const m2 = await ls.mount('empty1');
    assert.deepEqual(fs.readdirSync(m2), []);
    await ls.removeMount('empty1');
    await ls.removeMount(id);
    await ls.removeMount(id);
    assert.ok(!fs.existsSync(path.join(root, 'layers', 'mounts', id)));
    const mounts = execFileSync('cat', ['/proc/self/mountinfo']).toString();
    assert.ok(!mounts.includes(root));
    const removed = await ls.removeUnused([top.chainId, base.chainId], new Set());
    assert.deepEqual(removed.map((r) => r.chainId), [top.chainId, base.chainId]);
    assert.equal(ls.list().length, 0);
  } finally { rmRoot(root); }
});

test('layers: concurrent creation of the same layer and reconcile', async () => {
  const root = tempRoot();
  try {
    const ls = await newStore(root);
    const t = await makeTar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, body: 'x'.repeat(i * 100) })));
    const ls2 = new LocalLayerStore(root, new LocalContentStore(root)); // a second "process"
    await ls2.init();
    const [a, b, c] = await Promise.all([
      ls.createLayer(null, streamOf(t)),
      ls2.createLayer(null, streamOf(t)),
      ls.createLayer(null, streamOf(t), { expectDiffId: sha256(t) }),
    ]);
    assert.equal(a.chainId, b.chainId);
    assert.equal(a.chainId, c.chainId);
    assert.equal(fs.readdirSync(ls.diffDir(a.chainId)).length, 50);
    // a crash mid-extraction leaves a temp dir; reconcile removes it
    fs.mkdirSync(path.join(root, 'layers', 'tmp', 'half'), { recursive: true });
    fs.mkdirSync(path.join(root, 'layers', 'f'.repeat(64)), { recursive: true });
    await ls.reconcile();
    assert.deepEqual(leftovers(root), []);
    assert.ok(!fs.existsSync(path.join(root, 'layers', 'f'.repeat(64))));
    assert.ok(ls.has(a.chainId));
    assert.ok(fs.existsSync(path.join(root, 'layers', 'l', a.link)));
  } finally { rmRoot(root); }
});

test('mounts: mountinfo lines parsed, escaped paths unescaped, optional fields skipped', () => {
  const text = [
    '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '95 22 0:50 / /var/lib/with\\040space/merged rw,relatime shared:40 master:3 - overlay overlay rw,lowerdir=l/A',
    '96 22 0:51 / /tmp/x rw - tmpfs tmp\\011fs rw',
    '',
  ].join('\n');
  assert.deepEqual(parseMountInfo(text), [
    { mountId: 22, parentId: 1, mountPoint: '/', fsType: 'ext4', source: '/dev/vda' },
    { mountId: 95, parentId: 22, mountPoint: '/var/lib/with space/merged', fsType: 'overlay', source: 'overlay' },
    { mountId: 96, parentId: 22, mountPoint: '/tmp/x', fsType: 'tmpfs', source: 'tmp\tfs' },
  ]);
});
