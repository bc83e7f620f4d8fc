// The layer store's file-system operations through the native addon (no python): mknod
// whiteouts and devices, FIFOs, xattrs as raw bytes, and binary xattrs (security.capability)
// round-tripping byte-exactly through extract -> export -> extract, and through GNU tar.
// Needs root (mknod, trusted.* and security.* xattrs).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { mknod, mkfifo, mkWhiteout, S_IFCHR } from '../../src/lib/sys/fsnode';
import { getXattr, listXattrs, readXattrs, setXattr, XATTR_CREATE } from '../../src/lib/sys/xattr';
import { extractTar } from '../../src/store/layers/extract';
import { exportDir } from '../../src/store/layers/export';
import { applyFsOps, readXattrTree, readXattrTreeRaw } from '../../src/store/layers/fsops';
import type { TarHeader } from '../../src/lib/tar/header';
import { decodePaxRecords, encodePaxRecords } from '../../src/lib/tar/pax';
import { readTar as readTarEntries } from '../../src/lib/tar/reader';

// security.capability v2 (VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE), little endian:
// permitted = cap_setuid(7) | cap_net_bind_service(10) | cap_net_raw(13) = 0x2480. The 0x80
// byte is not valid UTF-8 and the value holds NULs: a string round trip would corrupt it.
const CAP = Buffer.from([
  0x01, 0x00, 0x00, 0x02, // magic_etc
  0x80, 0x24, 0x00, 0x00, // permitted[0]
  0x00, 0x00, 0x00, 0x00, // inheritable[0]
  0x00, 0x00, 0x00, 0x00, // permitted[1]
  0x00, 0x00, 0x00, 0x00, // inheritable[1]
]);
/** getcap (libcap2-bin) decodes capability bytes independently; optional. */
const hasGetcap = ['/usr/sbin/getcap', '/sbin/getcap', '/usr/bin/getcap'].some((p) => fs.existsSync(p));
const BINARY = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x3d, 0x20, 0x00]);

function tmp(prefix = 'berth-fsops-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
function rm(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}
function collect(r: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    r.on('end', () => resolve(Buffer.concat(chunks)));
    r.on('error', reject);
  });
}
async function readTar(data: Buffer): Promise<Map<string, TarHeader>> {
  const out = new Map<string, TarHeader>();
  for await (const e of readTarEntries(Readable.from([data]))) out.set(e.header.name, e.header);
  return out;
}

/** A ustar header block (enough for the tests' hand-made archives). */
function ustar(name: string, typeflag: string, size: number, mode = 0o644): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write(mode.toString(8).padStart(7, '0') + '\0', 100, 'ascii');
  b.write('0000000\0', 108, 'ascii');
  b.write('0000000\0', 116, 'ascii');
  b.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  b.write('14000000000\0', 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(typeflag, 156, 'ascii');
  b.write('ustar\0' + '00', 257, 'binary');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}
function pad(b: Buffer): Buffer {
  const n = (512 - (b.length % 512)) % 512;
  return Buffer.concat([b, Buffer.alloc(n)]);
}

test('native: mknod makes 0/0 whiteouts and devices, mkfifo FIFOs; errors carry code/errno/syscall', () => {
  const d = tmp();
  try {
    mkWhiteout(path.join(d, 'wh'));
    const wh = fs.lstatSync(path.join(d, 'wh'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    mknod(path.join(d, 'null'), S_IFCHR | 0o666, 1, 3);
    const nul = fs.lstatSync(path.join(d, 'null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    mkfifo(path.join(d, 'fifo'), 0o600);
    assert.ok(fs.lstatSync(path.join(d, 'fifo')).isFIFO());
    assert.throws(() => mkWhiteout(path.join(d, 'wh')), (e: NodeJS.ErrnoException) =>
      e.code === 'EEXIST' && e.errno === -17 && e.syscall === 'mknod' && e.message.includes(path.join(d, 'wh')));
    assert.throws(() => mkfifo(path.join(d, 'nope', 'x')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'mkfifo');
  } finally { rm(d); }
});

test('native: xattrs are raw bytes; symlinks are not followed; errors carry code', () => {
  const d = tmp();
  try {
    const f = path.join(d, 'f');
    fs.writeFileSync(f, 'x');
    setXattr(f, 'trusted.berth.bin', BINARY);
    setXattr(f, 'trusted.berth.empty', Buffer.alloc(0));
    setXattr(f, 'security.capability', CAP);
    const big = Buffer.alloc(3000, 0xab); // most of ext4's one block for xattrs
    setXattr(f, 'trusted.berth.big', big);
    assert.deepEqual(getXattr(f, 'trusted.berth.bin'), BINARY);
    assert.deepEqual(getXattr(f, 'trusted.berth.empty'), Buffer.alloc(0));
    assert.deepEqual(getXattr(f, 'security.capability'), CAP);
    assert.deepEqual(getXattr(f, 'trusted.berth.big'), big);
    if (hasGetcap) assert.ok(execFileSync('getcap', [f], { encoding: 'utf8' }).includes('cap_net_bind_service'), 'libcap reads our capability bytes');
    const names = listXattrs(f).sort();
    for (const n of ['security.capability', 'trusted.berth.big', 'trusted.berth.bin', 'trusted.berth.empty']) assert.ok(names.includes(n), n);
    assert.deepEqual(readXattrs(f).get('trusted.berth.bin'), BINARY);
    assert.throws(() => setXattr(f, 'trusted.berth.bin', BINARY, XATTR_CREATE), (e: NodeJS.ErrnoException) => e.code === 'EEXIST' && e.syscall === 'lsetxattr');
    assert.throws(() => getXattr(f, 'trusted.berth.none'), (e: NodeJS.ErrnoException) => e.code === 'ENODATA' && e.syscall === 'lgetxattr');
    assert.throws(() => listXattrs(path.join(d, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && typeof e.errno === 'number');
    // many names: the list (about 1.3 KiB) outgrows the addon's first 1 KiB buffer; ext4 keeps
    // all of a file's xattrs in one 4 KiB block, so not too many
    const many = path.join(d, 'many');
    fs.writeFileSync(many, '');
    for (let i = 0; i < 30; i++) setXattr(many, `trusted.berth.attribute-name-padding-${String(i).padStart(2, '0')}`, Buffer.from([i]));
    assert.equal(listXattrs(many).filter((n) => n.startsWith('trusted.berth.')).length, 30);
    // a symlink's own attributes (trusted.* is allowed on symlinks), never its target's
    const l = path.join(d, 'link');
    fs.symlinkSync('f', l);
    setXattr(l, 'trusted.berth.onlink', Buffer.from('L'));
    assert.deepEqual(getXattr(l, 'trusted.berth.onlink'), Buffer.from('L'));
    assert.throws(() => getXattr(f, 'trusted.berth.onlink'), (e: NodeJS.ErrnoException) => e.code === 'ENODATA');
    assert.deepEqual(getXattr(l, 'trusted.berth.bin', { follow: true }), BINARY);
    assert.throws(() => setXattr(f, 'trusted.x', 'str' as unknown as Buffer), TypeError);
    // a value larger than the addon's first 4 KiB buffer (tmpfs takes up to 64 KiB)
    if (fs.existsSync('/dev/shm')) {
      const shm = fs.mkdtempSync('/dev/shm/berth-fsops-');
      try {
        const huge = Buffer.alloc(20000);
        for (let i = 0; i < huge.length; i++) huge[i] = (i * 7) & 0xff;
        fs.writeFileSync(path.join(shm, 'f'), '');
        setXattr(path.join(shm, 'f'), 'trusted.berth.huge', huge);
        assert.deepEqual(getXattr(path.join(shm, 'f'), 'trusted.berth.huge'), huge);
      } finally { rm(shm); }
    }
  } finally { rm(d); }
});

test('fsops: applyFsOps replaces what is there and reports per-op failures', async () => {
  const d = tmp();
  try {
    fs.mkdirSync(path.join(d, 'dir/sub'), { recursive: true });
    fs.writeFileSync(path.join(d, 'file'), 'x');
    const errs = await applyFsOps([
      { op: 'mknod', path: path.join(d, 'dir'), kind: 'c', mode: 0, major: 0, minor: 0 },
      { op: 'mknod', path: path.join(d, 'file'), kind: 'p', mode: 0o644, major: 0, minor: 0 },
      { op: 'setxattr', path: path.join(d, 'missing'), name: 'trusted.x', value: Buffer.from('y') },
    ]);
    assert.ok(fs.lstatSync(path.join(d, 'dir')).isCharacterDevice());
    assert.ok(fs.lstatSync(path.join(d, 'file')).isFIFO());
    assert.equal(errs.length, 1);
    assert.equal(errs[0].code, 'ENOENT');
    assert.equal(errs[0].name, 'trusted.x');
    const many = Array.from({ length: 600 }, (_, i) => ({ op: 'mknod' as const, path: path.join(d, `wh${i}`), kind: 'c' as const, mode: 0, major: 0, minor: 0 }));
    assert.deepEqual(await applyFsOps(many), []);
    setXattr(path.join(d, 'wh7'), 'trusted.berth.bin', BINARY);
    const raw = await readXattrTreeRaw(d);
    assert.deepEqual(raw.get('wh7')?.get('trusted.berth.bin'), BINARY);
    assert.equal((await readXattrTree(d))['wh7']['trusted.berth.bin'], BINARY.toString('base64'));
  } finally { rm(d); }
});

test('pax records: encoded and decoded as bytes', () => {
  const recs: [string, Buffer][] = [['SCHILY.xattr.security.capability', CAP], ['SCHILY.xattr.user.b', BINARY], ['path', Buffer.from('é/x'.repeat(50))]];
  const enc = encodePaxRecords(recs);
  // each record's length counts itself, in bytes
  let off = 0;
  while (off < enc.length) {
    const sp = enc.indexOf(0x20, off);
    const len = parseInt(enc.toString('ascii', off, sp), 10);
    assert.equal(enc[off + len - 1], 0x0a);
    off += len;
  }
  assert.equal(off, enc.length);
  const dec = decodePaxRecords(enc);
  for (const [k, v] of recs) assert.deepEqual(dec.get(k), v);
  // the 9 -> 10 digit boundary
  for (let n = 80; n < 120; n++) assert.equal(decodePaxRecords(encodePaxRecords([['k', Buffer.alloc(n, 0x41)]])).get('k')?.length, n);
});

test('extract: whiteouts, opaque dirs, FIFOs and devices without a helper process', async () => {
  const src = tmp();
  const dest = tmp();
  try {
    // a hand-made layer: whiteout, opaque marker, fifo, char device, binary cap on a file
    const paxBody = encodePaxRecords([['SCHILY.xattr.security.capability', CAP], ['SCHILY.xattr.trusted.overlay.opaque', Buffer.from('y')]]);
    const parts = [
      ustar('etc/', '5', 0, 0o755),
      ustar('etc/.wh.removed', '0', 0),
      ustar('opq/', '5', 0, 0o755),
      ustar('opq/.wh..wh..opq', '0', 0),
      ustar('opq/kept', '0', 0),
      ustar('fifo', '6', 0, 0o640),
      (() => { const b = ustar('dev/null', '3', 0, 0o666); b.write('0000001\0', 329, 'ascii'); b.write('0000003\0', 337, 'ascii'); let s = 0; b.write('        ', 148, 'ascii'); for (const x of b) s += x; b.write(s.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii'); return b; })(),
      ustar('PaxHeader', 'x', paxBody.length), pad(paxBody),
      ustar('bin/ping', '0', 4, 0o755), pad(Buffer.from('ping')),
      Buffer.alloc(1024),
    ];
    await extractTar(Readable.from([Buffer.concat(parts)]), dest);
    const wh = fs.lstatSync(path.join(dest, 'etc/removed'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0/0 char device');
    assert.ok(!fs.existsSync(path.join(dest, 'etc/.wh.removed')));
    assert.deepEqual(getXattr(path.join(dest, 'opq'), 'trusted.overlay.opaque'), Buffer.from('y'));
    assert.ok(!fs.existsSync(path.join(dest, 'opq/.wh..wh..opq')));
    const fifo = fs.lstatSync(path.join(dest, 'fifo'));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o7777, 0o640);
    const dev = fs.lstatSync(path.join(dest, 'dev/null'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, (1 << 8) | 3);
    assert.deepEqual(getXattr(path.join(dest, 'bin/ping'), 'security.capability'), CAP);
    assert.throws(() => getXattr(path.join(dest, 'bin/ping'), 'trusted.overlay.opaque'), (e: NodeJS.ErrnoException) => e.code === 'ENODATA', 'overlay internals are never imported');
    // and back out: OCI whiteouts again
    const out = await readTar(await collect(exportDir(dest)));
    assert.ok(out.has('etc/.wh.removed'));
    assert.ok(out.has('opq/.wh..wh..opq'));
    assert.equal(out.get('fifo')?.type, 'fifo');
    assert.equal(out.get('dev/null')?.type, 'character-device');
    assert.equal(out.get('dev/null')?.devminor, 3);
  } finally { rm(src); rm(dest); }
});

test('binary security.capability round-trips extract -> export -> extract byte-exactly', async () => {
  const a = tmp();
  const b = tmp();
  const c = tmp();
  try {
    // a layer dir with binary xattrs, a long non-ASCII name, a symlink with an xattr
    fs.mkdirSync(path.join(a, 'usr/bin'), { recursive: true });
    fs.writeFileSync(path.join(a, 'usr/bin/ping'), 'ping');
    setXattr(path.join(a, 'usr/bin/ping'), 'security.capability', CAP);
    setXattr(path.join(a, 'usr/bin/ping'), 'trusted.berth.bin', BINARY);
    const longName = 'ü'.repeat(60) + '-' + 'x'.repeat(80);
    fs.writeFileSync(path.join(a, 'usr', longName), 'long');
    setXattr(path.join(a, 'usr', longName), 'trusted.berth.bin', BINARY);
    fs.symlinkSync('bin/ping', path.join(a, 'usr/ping-link'));
    setXattr(path.join(a, 'usr/ping-link'), 'trusted.berth.onlink', Buffer.from([0xff]));
    setXattr(path.join(a, 'usr'), 'trusted.overlay.opaque', Buffer.from('y'));

    const t1 = await collect(exportDir(a));
    // the exported PAX record holds the exact bytes (as Go/Docker write them)
    assert.ok(t1.includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), CAP, Buffer.from('\n')])));
    const h1 = await readTar(t1);
    assert.deepEqual(h1.get('usr/bin/ping')?.pax.get('SCHILY.xattr.security.capability'), CAP);
    assert.ok(h1.has(`usr/${longName}`), 'long non-ASCII name survives the raw PAX header');
    assert.equal(h1.get('usr/ping-link')?.linkname, 'bin/ping');
    assert.ok(h1.has('usr/.wh..wh..opq'));
    assert.ok(![...h1.values()].some((h) => [...h.pax.keys()].some((k) => k.includes('trusted.overlay'))));

    await extractTar(Readable.from([t1]), b);
    assert.deepEqual(getXattr(path.join(b, 'usr/bin/ping'), 'security.capability'), CAP);
    assert.deepEqual(getXattr(path.join(b, 'usr/bin/ping'), 'trusted.berth.bin'), BINARY);
    assert.deepEqual(getXattr(path.join(b, 'usr', longName), 'trusted.berth.bin'), BINARY);
    assert.equal(fs.readFileSync(path.join(b, 'usr', longName), 'utf8'), 'long');
    assert.deepEqual(getXattr(path.join(b, 'usr/ping-link'), 'trusted.berth.onlink'), Buffer.from([0xff]));
    assert.equal(fs.readlinkSync(path.join(b, 'usr/ping-link')), 'bin/ping');
    assert.deepEqual(getXattr(path.join(b, 'usr'), 'trusted.overlay.opaque'), Buffer.from('y'));

    // export again: the same bytes
    const t2 = await collect(exportDir(b));
    assert.deepEqual(t2, t1);
    await extractTar(Readable.from([t2]), c);
    assert.deepEqual(getXattr(path.join(c, 'usr/bin/ping'), 'security.capability'), CAP);
  } finally { rm(a); rm(b); rm(c); }
});

test('interop with GNU tar --xattrs: both directions keep security.capability byte-exact', async () => {
  const a = tmp();
  const b = tmp();
  const c = tmp();
  try {
    fs.writeFileSync(path.join(a, 'ping'), 'ping');
    setXattr(path.join(a, 'ping'), 'security.capability', CAP);
    const capBytes = getXattr(path.join(a, 'ping'), 'security.capability');
    // GNU tar writes SCHILY.xattr records with raw bytes
    const gnu = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-C', a, '-cf', '-', 'ping'], { maxBuffer: 1 << 24 });
    await extractTar(Readable.from([gnu]), b);
    assert.deepEqual(getXattr(path.join(b, 'ping'), 'security.capability'), capBytes);
    // and GNU tar reads ours
    const ours = await collect(exportDir(b));
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', c, '-xf', '-'], { input: ours });
    assert.deepEqual(getXattr(path.join(c, 'ping'), 'security.capability'), capBytes);
    if (hasGetcap) assert.match(execFileSync('getcap', [path.join(c, 'ping')], { encoding: 'utf8' }), /cap_net_raw/);
  } finally { rm(a); rm(b); rm(c); }
});

test('extract: entry types a layer cannot hold and corrupt archives are refused as invalid input', async () => {
  const dest = tmp();
  try {
    // GNU sparse file ('S'): its data is a map, not the file; Docker refuses unknown types too
    const sparse = Buffer.concat([ustar('sparse', 'S', 0), Buffer.alloc(1024)]);
    await assert.rejects(extractTar(Readable.from([sparse]), dest),
      (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /unsupported type "S"/.test(e.message));
    const good = Buffer.concat([ustar('f', '0', 4), pad(Buffer.from('data')), Buffer.alloc(1024)]);
    const corrupt = Buffer.from(good);
    corrupt[0] = 0x67; // the name changes, the checksum does not
    const src = Readable.from([corrupt]);
    await assert.rejects(extractTar(src, dest), (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /checksum/.test(e.message));
    assert.ok(src.destroyed, 'the source is released');
    await assert.rejects(extractTar(Readable.from([good.subarray(0, 600)]), dest), /unexpected end of data/);
  } finally { rm(dest); }
});
