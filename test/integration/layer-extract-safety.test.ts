// Layer extraction rules, each shown with a hand-made (often malicious) layer: through the
// extractor directly (src/store/layers/extract.ts -> native/extract.c), through the layer
// store (a diff ID that does not match), and end to end through `docker load` of an archive
// holding the layer, with overlayfs' view checked by running a container on a two-layer image.
// Needs root (mknod, chown, trusted.* and security.* xattrs).
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { encodePaxRecords } from '../../src/lib/tar/pax';
import { getXattr, listXattrs } from '../../src/lib/sys/xattr';
import { extractTar } from '../../src/store/layers/extract';
import { LocalContentStore } from '../../src/store/content/ContentStore';
import { LocalLayerStore } from '../../src/store/layers/LayerStore';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

// ---- a tar builder that writes whatever it is told (names a safe writer would refuse)

interface Ent {
  name: string;
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'L' | 'K' | 'x';
  body?: Buffer | string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  major?: number;
  minor?: number;
  pax?: Array<[string, Buffer | string]>;
}

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

function header(e: Ent, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(e.name.slice(0, 100), 0, 100, 'utf8');
  b.write(octal(e.mode ?? 0o644, 8), 100, 'ascii');
  // ids above the octal field's range go base-256 (GNU), as Go writes them
  const id = (v: number, off: number) => {
    if (v < 0o7777777) b.write(octal(v, 8), off, 'ascii');
    else { b[off] = 0x80; b.writeUInt32BE(v, off + 4); }
  };
  id(e.uid ?? 0, 108);
  id(e.gid ?? 0, 116);
  b.write(octal(size, 12), 124, 'ascii');
  b.write(octal(e.mtime ?? 1_700_000_000, 12), 136, 'ascii');
  b.write(e.type ?? '0', 156, 'ascii');
  b.write((e.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  b.write('ustar\0', 257, 'binary');
  b.write('00', 263, 'ascii');
  b.write(octal(e.major ?? 0, 8), 329, 'ascii');
  b.write(octal(e.minor ?? 0, 8), 337, 'ascii');
  b.write('        ', 148, 'ascii');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  b.write(octal(sum, 7) + ' ', 148, 'ascii');
  return b;
}

function block(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

function tarOf(entries: Ent[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const rec = encodePaxRecords(e.pax);
      parts.push(header({ name: 'PaxHeaders/x', type: 'x' }, rec.length), block(rec));
    }
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    parts.push(header(e, body.length), block(body));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const dir = (name: string, extra: Partial<Ent> = {}): Ent => ({ name, type: '5', mode: 0o755, ...extra });
const file = (name: string, body: string, extra: Partial<Ent> = {}): Ent => ({ name, type: '0', body, ...extra });
const symlink = (name: string, linkname: string): Ent => ({ name, type: '2', linkname, mode: 0o777 });
const hardlink = (name: string, linkname: string): Ent => ({ name, type: '1', linkname });

// ---- helpers

let scratch: string;
before(() => { scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-safety-')); });
after(() => { fs.rmSync(scratch, { recursive: true, force: true }); });

/** A fresh destination and, beside it, an "outside" directory with a sentinel file. */
function place(): { dest: string; outside: string; sentinel: string } {
  const base = fs.mkdtempSync(path.join(scratch, 'x-'));
  const dest = path.join(base, 'layer');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(dest);
  fs.mkdirSync(outside);
  const sentinel = path.join(outside, 'sentinel');
  fs.writeFileSync(sentinel, 'untouched');
  return { dest, outside, sentinel };
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      out.push(r);
      const st = fs.lstatSync(path.join(root, r));
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

/** The outside directory holds exactly the sentinel, unchanged, and the base nothing new. */
function assertOutsideUntouched(p: { dest: string; outside: string; sentinel: string }): void {
  assert.deepEqual(listTree(p.outside), ['sentinel']);
  assert.equal(fs.readFileSync(p.sentinel, 'utf8'), 'untouched');
  assert.equal(fs.statSync(p.sentinel).nlink, 1);
  assert.deepEqual(fs.readdirSync(path.dirname(p.dest)).sort(), ['layer', 'outside']);
}

const extract = (data: Buffer, dest: string) => extractTar(Readable.from([data]), dest);

// ---- each rule

describe('layer extraction rules', () => {
  test('a name that climbs out with ../ is refused, nothing is written outside', async () => {
    for (const name of ['../escaped', 'a/../../escaped', './../escaped', 'a/b/../../../escaped']) {
      const p = place();
      await assert.rejects(extract(tarOf([dir('a'), file(name, 'x')]), p.dest), /path escapes the layer root/, name);
      assertOutsideUntouched(p);
    }
  });

  test('a name that climbs and comes back stays inside ("a/../b" is "b")', async () => {
    const p = place();
    await extract(tarOf([dir('a'), file('a/../b', 'inside')]), p.dest);
    assert.equal(fs.readFileSync(path.join(p.dest, 'b'), 'utf8'), 'inside');
  });

  test('absolute names are made relative to the layer root', async () => {
    const p = place();
    await extract(tarOf([file('/abs/file', 'abs'), file('//twice', 'two')]), p.dest);
    assert.equal(fs.readFileSync(path.join(p.dest, 'abs/file'), 'utf8'), 'abs');
    assert.equal(fs.readFileSync(path.join(p.dest, 'twice'), 'utf8'), 'two');
    assertOutsideUntouched(p);
  });

  test('a symlink to / followed by a file written through it is refused', async () => {
    const p = place();
    await assert.rejects(extract(tarOf([symlink('root', '/'), file(`root${p.outside}/sentinel`, 'pwned')]), p.dest),
      /refusing to extract through symlink "root"/);
    assertOutsideUntouched(p);
  });

  test('a symlink to .. (or to an absolute outside dir) followed by a file through it is refused', async () => {
    for (const target of ['..', '../outside', 'placeholder']) {
      const p = place();
      const t = target === 'placeholder' ? p.outside : target;
      await assert.rejects(extract(tarOf([symlink('up', t), file('up/sentinel', 'pwned')]), p.dest), /refusing to extract through symlink "up"/);
      assertOutsideUntouched(p);
    }
  });

  test('a symlink deeper in the parent path is refused too (a/link/b/c)', async () => {
    const p = place();
    await assert.rejects(extract(tarOf([dir('a'), symlink('a/link', p.outside), file('a/link/new/file', 'pwned')]), p.dest),
      /refusing to extract through symlink "a\/link"/);
    assertOutsideUntouched(p);
  });

  test('a directory replaced by a symlink, then a file through it: refused', async () => {
    const p = place();
    await assert.rejects(extract(tarOf([dir('d'), file('d/a', '1'), symlink('d', p.outside), file('d/sentinel', 'pwned')]), p.dest),
      /refusing to extract through symlink "d"/);
    assertOutsideUntouched(p);
  });

  test('a symlink replaced by a directory: the directory is real, files land inside the layer', async () => {
    const p = place();
    await extract(tarOf([symlink('d', p.outside), dir('d'), file('d/f', 'inside')]), p.dest);
    assert.ok(fs.lstatSync(path.join(p.dest, 'd')).isDirectory());
    assert.equal(fs.readFileSync(path.join(p.dest, 'd/f'), 'utf8'), 'inside');
    assertOutsideUntouched(p);
  });

  test('a file over an existing symlink replaces the symlink, never writes through it', async () => {
    const p = place();
    await extract(tarOf([symlink('s', p.sentinel), file('s', 'replaced')]), p.dest);
    assert.ok(fs.lstatSync(path.join(p.dest, 's')).isFile());
    assert.equal(fs.readFileSync(path.join(p.dest, 's'), 'utf8'), 'replaced');
    assertOutsideUntouched(p);
  });

  test('a hard link to a path outside the layer is refused (.., absolute, missing)', async () => {
    for (const target of ['../outside/sentinel', '../../etc/passwd', 'PLACEHOLDER', 'not/in/layer']) {
      const p = place();
      const t = target === 'PLACEHOLDER' ? p.sentinel : target;
      await assert.rejects(extract(tarOf([hardlink('h', t)]), p.dest), /invalid hard link "h"/, target);
      assertOutsideUntouched(p);
      assert.equal(fs.statSync('/etc/passwd').nlink, 1);
    }
  });

  test('a hard link through a symlinked parent is refused', async () => {
    const p = place();
    await assert.rejects(extract(tarOf([symlink('out', p.outside), hardlink('h', 'out/sentinel')]), p.dest), /target is not inside the layer/);
    assertOutsideUntouched(p);
  });

  test('a hard link to a symlink pointing outside links the symlink itself; writing to it replaces it', async () => {
    const p = place();
    await extract(tarOf([symlink('s', p.sentinel), hardlink('h', 's'), file('h', 'replaced')]), p.dest);
    assert.ok(fs.lstatSync(path.join(p.dest, 's')).isSymbolicLink());
    assert.equal(fs.readFileSync(path.join(p.dest, 'h'), 'utf8'), 'replaced');
    assertOutsideUntouched(p);
  });

  test('hard links inside the layer work and share the inode; a link to a directory is refused', async () => {
    const p = place();
    const r = await extract(tarOf([dir('d'), file('d/f', 'data'), hardlink('g', 'd/f')]), p.dest);
    assert.equal(fs.statSync(path.join(p.dest, 'g')).ino, fs.statSync(path.join(p.dest, 'd/f')).ino);
    assert.equal(r.size, 4);
    const q = place();
    await assert.rejects(extract(tarOf([dir('d'), hardlink('g', 'd')]), q.dest), /target is a directory/);
  });

  test('whiteouts: .wh.<name> is a 0/0 char device, .wh..wh..opq marks the dir opaque, other .wh..wh.* are dropped', async () => {
    const p = place();
    await extract(tarOf([
      dir('d'), file('d/.wh.gone', ''), dir('o'), file('o/.wh..wh..opq', ''), file('o/kept', 'k'),
      file('.wh..wh.plnk', ''), file('.wh.top', ''),
    ]), p.dest);
    for (const wh of ['d/gone', 'top']) {
      const st = fs.lstatSync(path.join(p.dest, wh));
      assert.ok(st.isCharacterDevice(), wh);
      assert.equal(st.rdev, 0);
    }
    assert.equal(getXattr(path.join(p.dest, 'o'), 'trusted.overlay.opaque').toString(), 'y');
    assert.deepEqual(listTree(p.dest), ['d', 'd/gone', 'o', 'o/kept', 'top']);
  });

  test('a whiteout replaces what the same layer put at its name', async () => {
    const p = place();
    await extract(tarOf([dir('d'), file('d/x', 'x'), file('.wh.d', '')]), p.dest);
    assert.ok(fs.lstatSync(path.join(p.dest, 'd')).isCharacterDevice());
  });

  test('trusted.overlay.* xattrs in a layer are never imported', async () => {
    const p = place();
    await extract(tarOf([file('f', 'x', { pax: [['SCHILY.xattr.trusted.overlay.opaque', 'y'], ['SCHILY.xattr.trusted.overlay.redirect', '/etc']] })]), p.dest);
    assert.deepEqual(listXattrs(path.join(p.dest, 'f')).filter((n) => n.startsWith('trusted.overlay.')), []);
  });

  test('device nodes (char, block) and FIFOs are kept with their numbers and modes', async () => {
    const p = place();
    await extract(tarOf([
      dir('dev'), { name: 'dev/null', type: '3', major: 1, minor: 3, mode: 0o666 },
      { name: 'dev/loop9', type: '4', major: 7, minor: 9, mode: 0o660, gid: 6 }, { name: 'dev/fifo', type: '6', mode: 0o640 },
    ]), p.dest);
    const c = fs.lstatSync(path.join(p.dest, 'dev/null'));
    assert.ok(c.isCharacterDevice());
    assert.equal(c.rdev, (1 << 8) | 3);
    assert.equal(c.mode & 0o7777, 0o666);
    const b = fs.lstatSync(path.join(p.dest, 'dev/loop9'));
    assert.ok(b.isBlockDevice());
    assert.equal(b.rdev, (7 << 8) | 9);
    assert.equal(b.mode & 0o7777, 0o660);
    assert.equal(b.gid, 6);
    const f = fs.lstatSync(path.join(p.dest, 'dev/fifo'));
    assert.ok(f.isFIFO());
    assert.equal(f.mode & 0o7777, 0o640);
  });

  test('xattrs: user.* (SCHILY and LIBARCHIVE records) and a binary security.capability are kept byte for byte', async () => {
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const p = place();
    await extract(tarOf([
      file('f', 'x', { pax: [['SCHILY.xattr.user.plain', 'v1'], ['SCHILY.xattr.security.capability', cap]] }),
      file('g', 'y', { pax: [['LIBARCHIVE.xattr.user.enc%3Dname', Buffer.from('binary\0value').toString('base64')]] }),
      dir('d', { pax: [['SCHILY.xattr.user.ondir', 'dir']] }),
    ]), p.dest);
    assert.equal(getXattr(path.join(p.dest, 'f'), 'user.plain').toString(), 'v1');
    assert.deepEqual(getXattr(path.join(p.dest, 'f'), 'security.capability'), cap);
    assert.deepEqual(getXattr(path.join(p.dest, 'g'), 'user.enc=name'), Buffer.from('binary\0value'));
    assert.equal(getXattr(path.join(p.dest, 'd'), 'user.ondir').toString(), 'dir');
  });

  test('ownership: uids and gids above 65535 (base-256 and PAX) on files, dirs, symlinks', async () => {
    const p = place();
    await extract(tarOf([
      dir('d', { uid: 100000, gid: 200000 }), file('d/f', 'x', { uid: 3000000, gid: 3000001 }),
      { ...symlink('d/l', 'f'), uid: 70000, gid: 70001 },
      file('p', 'x', { pax: [['uid', '4000000000'], ['gid', '123456']] }),
    ]), p.dest);
    const own = (r: string) => { const s = fs.lstatSync(path.join(p.dest, r)); return [s.uid, s.gid]; };
    assert.deepEqual(own('d'), [100000, 200000]);
    assert.deepEqual(own('d/f'), [3000000, 3000001]);
    assert.deepEqual(own('d/l'), [70000, 70001]);
    assert.deepEqual(own('p'), [4000000000, 123456]);
  });

  test('modes: setuid/setgid files, sticky and setgid dirs, owner-only and read-only modes', async () => {
    const p = place();
    await extract(tarOf([
      file('suid', 'x', { mode: 0o4755, uid: 1000 }), file('sgid', 'x', { mode: 0o2711 }), dir('tmp', { mode: 0o1777 }),
      dir('shared', { mode: 0o2775, gid: 50 }), file('ro', 'x', { mode: 0o400 }), dir('locked', { mode: 0o500 }), file('locked/in', 'x'),
    ]), p.dest);
    const mode = (r: string) => fs.lstatSync(path.join(p.dest, r)).mode & 0o7777;
    assert.equal(mode('suid'), 0o4755); // set after chown, which clears set-id bits
    assert.equal(mode('sgid'), 0o2711);
    assert.equal(mode('tmp'), 0o1777);
    assert.equal(mode('shared'), 0o2775);
    assert.equal(mode('ro'), 0o400);
    assert.equal(mode('locked'), 0o500);
    assert.equal(fs.readFileSync(path.join(p.dest, 'locked/in'), 'utf8'), 'x');
  });

  test('mtimes of files, symlinks and directories (set after their children), PAX sub-second times', async () => {
    const p = place();
    await extract(tarOf([
      dir('d', { mtime: 1_000_000_000 }), file('d/f', 'x', { mtime: 1_100_000_000 }), { ...symlink('d/l', 'f'), mtime: 1_200_000_000 },
      file('frac', 'x', { pax: [['mtime', '1600000000.25']] }),
    ]), p.dest);
    const mt = (r: string) => fs.lstatSync(path.join(p.dest, r), { bigint: true }).mtimeNs;
    assert.equal(mt('d'), 1_000_000_000n * 1_000_000_000n);
    assert.equal(mt('d/f'), 1_100_000_000n * 1_000_000_000n);
    assert.equal(mt('d/l'), 1_200_000_000n * 1_000_000_000n);
    assert.equal(mt('frac'), 1_600_000_000_250_000_000n);
  });

  test('long names and link targets: PAX path/linkpath and GNU L/K records', async () => {
    const deep = Array.from({ length: 6 }, (_, i) => `component-${i}-${'x'.repeat(40)}`).join('/');
    const p = place();
    const gnuName = `gnu/${'g'.repeat(150)}`;
    await extract(tarOf([
      { name: 'PaxName', type: '0', body: 'pax', pax: [['path', `${deep}/file`]] },
      { name: 'PaxLink', type: '2', linkname: 'short', pax: [['path', `${deep}/link`], ['linkpath', `${deep}/file`]] },
      { name: '././@LongLink', type: 'L', body: gnuName + '\0' },
      { name: 'truncated-name', type: '0', body: 'gnu' },
      { name: '././@LongLink', type: 'K', body: `${deep}/file\0` },
      { name: 'gnulink', type: '1', linkname: 'truncated' },
    ]), p.dest);
    assert.equal(fs.readFileSync(path.join(p.dest, deep, 'file'), 'utf8'), 'pax');
    assert.equal(fs.readlinkSync(path.join(p.dest, deep, 'link')), `${deep}/file`);
    assert.equal(fs.readFileSync(path.join(p.dest, gnuName), 'utf8'), 'gnu');
    assert.equal(fs.statSync(path.join(p.dest, 'gnulink')).ino, fs.statSync(path.join(p.dest, deep, 'file')).ino);
  });

  test('a truncated tar is an error (mid-body and mid-header)', async () => {
    const whole = tarOf([file('a', 'x'.repeat(3000)), file('b', 'y')]);
    for (const cut of [700, 1024 + 300, 512 * 8 + 100]) {
      const p = place();
      await assert.rejects(extract(whole.subarray(0, cut), p.dest), /unexpected end of data/, String(cut));
    }
  });

  test('not a tar, unsupported entry types, and a corrupt gzip stream are errors', async () => {
    await assert.rejects(extract(Buffer.alloc(512, 'x'), place().dest), /checksum mismatch/);
    await assert.rejects(extract(tarOf([{ name: 'sparse', type: 'S' as Ent['type'], body: '' }]), place().dest), /unsupported type "S"/);
    const gz = zlib.gzipSync(tarOf([file('a', 'x'.repeat(100000))]));
    await assert.rejects(extract(gz.subarray(0, gz.length - 100), place().dest), /gzip/);
  });

  test('gzip and zstd layers: the diff ID is the uncompressed tar\'s, the raw digest the stream\'s', async () => {
    const tar = tarOf([dir('d'), file('d/f', 'z'.repeat(100000))]);
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const gz = zlib.gzipSync(tar);
    const zst = execFileSync('zstd', ['-q', '-c'], { input: tar });
    for (const [data, kind] of [[tar, 'none'], [gz, 'gzip'], [zst, 'zstd']] as const) {
      const p = place();
      const r = await extract(data, p.dest);
      assert.equal(r.compression, kind);
      assert.equal(r.diffId, sha(tar));
      assert.equal(r.rawDigest, sha(data));
      assert.equal(r.tarBytes, tar.length);
      assert.equal(fs.readFileSync(path.join(p.dest, 'd/f'), 'utf8'), 'z'.repeat(100000));
    }
  });

  test('a layer whose diff ID does not match: the error names the layer, nothing is visible, no temp dir or blob is left', async () => {
    const root = fs.mkdtempSync(path.join(scratch, 'store-'));
    const content = new LocalContentStore(root);
    await content.init();
    const layers = new LocalLayerStore(root, content);
    await layers.init();
    const tar = tarOf([file('f', 'x')]);
    const wrong = `sha256:${'0'.repeat(64)}` as const;
    await assert.rejects(layers.createLayer(null, Readable.from([tar]), { expectDiffId: wrong }), (e: Error) => e.message.includes(wrong) && /diff ID mismatch/.test(e.message));
    assert.deepEqual(layers.list(), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers', 'tmp')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)), []);
    // and a malicious layer leaves nothing either
    await assert.rejects(layers.createLayer(null, Readable.from([tarOf([file('../x', 'x')])])), /escapes/);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers', 'tmp')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'blobs', 'sha256')), []);
  });
});

// ---- end to end: docker load of archives holding such layers

const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A `docker save` archive of one image `tag` made of `layers` (uncompressed tars). */
function imageArchive(tag: string, layers: Buffer[]): Buffer {
  const diffIds = layers.map((l) => `sha256:${sha256hex(l)}`);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['sh'], Env: ['PATH=/bin:/usr/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds }, history: layers.map(() => ({ created_by: 'hand-made' })),
  }));
  const configName = `${sha256hex(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layers.map((l) => `${sha256hex(l)}/layer.tar`) }]));
  return tarOf([
    file(configName, config.toString('latin1')),
    ...layers.flatMap((l) => [dir(sha256hex(l)), { name: `${sha256hex(l)}/layer.tar`, type: '0' as const, body: l }]),
    file('manifest.json', manifest.toString('latin1')),
  ]);
}

// ---- a stream handed to the extractor's thread chunk by chunk (extractFromChunks)

describe('fed extraction', () => {
  // 24 MB of numbered 8-byte records: every offset's content is known.
  const bigBody = Array.from({ length: 3 << 20 }, (_, i) => String(i).padStart(8, '0')).join('');
  const big = () => tarOf([dir('d'), file('d/big', bigBody)]);
  async function* chunked(data: Buffer, size: number, counter?: { bytes: number }, failAt?: number): AsyncGenerator<Buffer> {
    for (let o = 0; o < data.length; o += size) {
      if (failAt !== undefined && o >= failAt) throw new Error('the source broke');
      const c = data.subarray(o, o + size);
      if (counter) counter.bytes += c.length;
      yield c;
    }
  }

  test('many small chunks, well past what the thread keeps queued, extract whole with the stream\'s digest', async () => {
    const tar = big();
    const p = place();
    const r = await extractTar(Readable.from(chunked(tar, 7001)), p.dest);
    assert.equal(r.diffId, `sha256:${sha256hex(tar)}`);
    assert.equal(r.tarBytes, tar.length);
    const got = fs.readFileSync(path.join(p.dest, 'd', 'big'));
    assert.equal(got.length, 24 << 20);
    assert.equal(sha256hex(got), sha256hex(Buffer.from(bigBody)));
  });

  test('a source that fails mid-stream rejects with its own error', async () => {
    await assert.rejects(extractTar(Readable.from(chunked(big(), 65536, undefined, 5 << 20)), place().dest), /the source broke/);
  });

  test('an extraction that fails at its first entry stops taking the source', async () => {
    const bad = Buffer.concat([tarOf([file('../escaped', 'x')], { end: false }), big()]);
    const counter = { bytes: 0 };
    await assert.rejects(extractTar(Readable.from(chunked(bad, 65536, counter)), place().dest), /path escapes the layer root/);
    // The thread holds at most a few MB queued ahead of it: the rest is never read.
    assert.ok(counter.bytes < bad.length / 2, `${counter.bytes} of ${bad.length} bytes read`);
  });
});

describe('docker load of hand-made layers', () => {
  let d: TestDaemon;
  let busyboxLayer: Buffer;
  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
    busyboxLayer = fs.readFileSync(path.join(d.root, 'busybox.tar'));
  });
  after(async () => { await d?.stop(); });

  const load = async (name: string, archive: Buffer) => {
    const f = path.join(d.root, `${name}.tar`);
    fs.writeFileSync(f, archive);
    try { return await d.docker(['load', '-i', f], { timeout: 120_000 }); } finally { fs.rmSync(f, { force: true }); }
  };
  const layerTmp = () => fs.readdirSync(path.join(d.dataRoot, 'layers', 'tmp'));

  test('a layer that writes through a symlink is refused: the error says why, no image, no temp dir', async () => {
    const evil = tarOf([symlink('etcx', '/etc'), file('etcx/berth-pwned', 'pwned')]);
    const r = await load('evil', imageArchive('evil:symlink', [evil]));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refusing to extract through symlink "etcx"/);
    assert.ok(!fs.existsSync('/etc/berth-pwned'));
    assert.equal((await d.docker(['image', 'inspect', 'evil:symlink'])).code, 1);
    assert.deepEqual(layerTmp(), []);
  });

  test('a layer with ../ names or a hard link out is refused', async () => {
    for (const [tag, layer, re] of [
      ['evil:dotdot', tarOf([file('../../../../tmp/berth-pwned', 'x')]), /path escapes the layer root/],
      ['evil:hardlink', tarOf([hardlink('passwd', '../../../../../etc/passwd')]), /invalid hard link "passwd"/],
    ] as const) {
      const r = await load(tag.replace(':', '-'), imageArchive(tag, [layer]));
      assert.notEqual(r.code, 0, tag);
      assert.match(r.stderr, re);
      assert.equal((await d.docker(['image', 'inspect', tag])).code, 1);
    }
    assert.ok(!fs.existsSync('/tmp/berth-pwned'));
    assert.deepEqual(layerTmp(), []);
  });

  test('an archive whose layer does not match its diff ID fails naming the layer', async () => {
    const good = tarOf([file('f', 'x')]);
    const archive = imageArchive('evil:diffid', [good]);
    // Swap the layer's bytes for others of the same length: the config's diff ID no longer matches.
    const tampered = Buffer.from(archive);
    const at = tampered.indexOf(good);
    tampered[at + 512] = 'y'.charCodeAt(0);
    const r = await load('diffid', tampered);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`diff ID mismatch: got sha256:[0-9a-f]{64}, expected sha256:${sha256hex(good)}`));
    assert.equal((await d.docker(['image', 'inspect', 'evil:diffid'])).code, 1);
    assert.deepEqual(layerTmp(), []);
  });

  test('a two-layer image: whiteouts, opaque dirs, devices, ownership, modes and xattrs as a container sees them', async () => {
    const mt = 1_500_000_000;
    const lower = tarOf([
      dir('data'), file('data/gone', 'g'), file('data/stays', 's'), dir('data/sub'), file('data/sub/deep', 'd'),
      dir('opq'), file('opq/old1', '1'), file('opq/old2', '2'),
    ]);
    const upper = tarOf([
      dir('data'), file('data/.wh.gone', ''), file('data/sub/.wh..wh..opq', ''),
      dir('opq'), file('opq/.wh..wh..opq', ''), file('opq/new', 'n'),
      { name: 'devnull', type: '3', major: 1, minor: 3, mode: 0o666 }, { name: 'fifo', type: '6', mode: 0o600 },
      file('owned', 'o', { uid: 100000, gid: 200000, mode: 0o4750, mtime: mt }), dir('sticky', { mode: 0o1777 }),
      file('capped', 'c', { mode: 0o755, pax: [['SCHILY.xattr.user.note', 'hello']] }),
    ]);
    const r = await load('two', imageArchive('berth-test/two-layer:1', [busyboxLayer, lower, upper]));
    assert.equal(r.code, 0, r.stderr);
    const run = await d.docker(['run', '--rm', '--network', 'none', 'berth-test/two-layer:1', 'sh', '-c',
      'ls -A /data | tr "\\n" " "; echo; ls -A /data/sub | wc -l; ls -A /opq | tr "\\n" " "; echo; '
      + 'stat -c "%F %t:%T %a" /devnull; stat -c "%F %a" /fifo; stat -c "%u:%g %a %Y" /owned; stat -c "%a" /sticky'], { timeout: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n').map((l) => l.trim()), [
      'stays sub', '0', 'new', 'character special file 1:3 666', 'fifo 600', `100000:200000 4750 ${mt}`, '1777',
    ]);
  });
});
