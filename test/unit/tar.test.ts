// Our tar reader and writer (src/lib/tar) against two independent implementations, GNU tar
// and tar-stream: long and non-ASCII names and link targets (PAX and GNU ././@LongLink),
// base-256 numbers, large ids and sizes, global PAX records, raw binary PAX values,
// pre-POSIX directories, unread bodies, corrupt and truncated input, bytes after the end.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { encodeUstar, type TarHeader } from '../../src/lib/tar/header';
import { encodePaxRecords } from '../../src/lib/tar/pax';
import { readTar } from '../../src/lib/tar/reader';
import { TarWriter, type TarWriteHeader } from '../../src/lib/tar/writer';
import { paxOfXattrs, xattrsOfPax } from '../../src/lib/tar/xattrs';
import { makeTar, streamOf } from './store-tarutil';

const BINARY = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0xff, 0x0a, 0x3d, 0x20]);
const LONG = 'd'.repeat(120) + '/' + 'ü'.repeat(40) + '/' + 'f'.repeat(150);
const MTIME = new Date(1700000000000);

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function entries(data: Buffer | Readable): Promise<Array<{ header: TarHeader; body: Buffer }>> {
  const out: Array<{ header: TarHeader; body: Buffer }> = [];
  for await (const e of readTar(Buffer.isBuffer(data) ? streamOf(data, 333) : data)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ header: e.header, body: Buffer.concat(parts) });
  }
  return out;
}

async function write(list: Array<[TarWriteHeader, Buffer?]>): Promise<Buffer> {
  const w = new TarWriter();
  const bytes = collect(w.stream);
  for (const [h, body] of list) await w.add(h, body);
  await w.finish();
  return bytes;
}

const base = { mode: 0o644, uid: 0, gid: 0, mtime: MTIME };

test('writer -> reader: names, links, ids, xattrs as raw bytes, devices; deterministic', async () => {
  const list: Array<[TarWriteHeader, Buffer?]> = [
    [{ ...base, name: 'dir/', type: 'directory', mode: 0o755 }],
    [{ ...base, name: 'dir/file', type: 'file', size: 5, uid: 1000, gid: 1000, pax: paxOfXattrs([['security.capability', BINARY], ['user.empty', Buffer.alloc(0)]]) }, Buffer.from('hello')],
    [{ ...base, name: LONG, type: 'file', size: 700 }, Buffer.alloc(700, 0x61)],
    [{ ...base, name: 'a/'.repeat(60) + 'split', type: 'file', size: 0 }],
    [{ ...base, name: 'link', type: 'symlink', linkname: '/' + 'x'.repeat(200) }],
    [{ ...base, name: 'hard', type: 'link', linkname: 'dir/file' }],
    [{ ...base, name: 'bigid', type: 'file', size: 0, uid: 3_000_000, gid: 70_000_000 }],
    [{ ...base, name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }],
    [{ ...base, name: 'fifo', type: 'fifo' }],
    [{ ...base, name: 'old', type: 'file', size: 0, mtime: new Date(-86400_000) }],
  ];
  const bytes = await write(list);
  assert.equal(bytes.length % 512, 0);
  assert.deepEqual(await write(list), bytes, 'the same entries give the same bytes');
  const got = await entries(bytes);
  assert.deepEqual(got.map((e) => e.header.name), list.map(([h]) => h.name));
  const by = new Map(got.map((e) => [e.header.name, e]));
  assert.equal(by.get('dir/')!.header.type, 'directory');
  assert.equal(by.get('dir/')!.header.mode, 0o755);
  const f = by.get('dir/file')!;
  assert.equal(f.body.toString(), 'hello');
  assert.deepEqual([f.header.uid, f.header.gid, f.header.mtime.getTime()], [1000, 1000, MTIME.getTime()]);
  assert.deepEqual(xattrsOfPax(f.header.pax).get('security.capability'), BINARY);
  assert.deepEqual(xattrsOfPax(f.header.pax).get('user.empty'), Buffer.alloc(0));
  assert.deepEqual(by.get(LONG)!.body, Buffer.alloc(700, 0x61));
  assert.equal(by.get('link')!.header.linkname, '/' + 'x'.repeat(200));
  assert.equal(by.get('hard')!.header.type, 'link');
  assert.equal(by.get('hard')!.header.linkname, 'dir/file');
  assert.deepEqual([by.get('bigid')!.header.uid, by.get('bigid')!.header.gid], [3_000_000, 70_000_000]);
  assert.deepEqual([by.get('null')!.header.devmajor, by.get('null')!.header.devminor], [1, 3]);
  assert.equal(by.get('fifo')!.header.type, 'fifo');
  assert.equal(by.get('old')!.header.mtime.getTime(), -86400_000);
  // the raw record is in the archive as Go and GNU tar write it
  assert.ok(bytes.includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), BINARY, Buffer.from('\n')])));
  // a name that splits into ustar's prefix and name needs no PAX record
  assert.equal(by.get('a/'.repeat(60) + 'split')!.header.pax.has('path'), false);
});

test('GNU tar reads what we write (names, link targets, ids, xattrs)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
  try {
    const bytes = await write([
      [{ ...base, name: LONG.split('/').slice(0, 2).join('/') + '/', type: 'directory', mode: 0o755 }],
      [{ ...base, name: LONG, type: 'file', size: 3, uid: 3_000_000 }, Buffer.from('abc')],
      [{ ...base, name: 'ln', type: 'symlink', linkname: 'z'.repeat(150) }],
    ]);
    const list = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: bytes, encoding: 'utf8' });
    assert.ok(list.includes(LONG), list);
    assert.match(list, /3000000\/0\s+3 .*/);
    assert.ok(list.includes(`ln -> ${'z'.repeat(150)}`));
    execFileSync('tar', ['-C', tmp, '-xf', '-'], { input: bytes });
    assert.equal(fs.readFileSync(path.join(tmp, LONG), 'utf8'), 'abc');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('we read GNU tar\'s formats: gnu (././@LongLink, base-256), pax, ustar, v7', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
  try {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, path.dirname(LONG)), { recursive: true });
    fs.writeFileSync(path.join(src, LONG), 'long body');
    fs.symlinkSync('t'.repeat(180), path.join(src, 'ln'));
    fs.writeFileSync(path.join(src, 'small'), 'x');
    for (const format of ['gnu', 'pax', 'ustar', 'v7']) {
      const names = format === 'gnu' || format === 'pax' ? ['.'] : ['small', 'd'.repeat(120)];
      const args = ['--numeric-owner', '--owner=3000000', '--group=0', `--format=${format}`, '-C', src, '-cf', '-', ...names];
      let bytes: Buffer;
      try {
        bytes = execFileSync('tar', args, { maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'ignore'] });
      } catch (e) {
        // ustar and v7 cannot hold uid 3000000 or long names: GNU tar refuses, fine
        bytes = execFileSync('tar', ['--numeric-owner', `--format=${format}`, '-C', src, '-cf', '-', 'small'], { maxBuffer: 1 << 24 });
      }
      const got = await entries(bytes);
      const small = got.find((e) => e.header.name.replace(/^\.\//, '') === 'small');
      assert.ok(small, format);
      assert.equal(small!.body.toString(), 'x', format);
      if (format === 'gnu' || format === 'pax') {
        const long = got.find((e) => e.header.name === './' + LONG);
        assert.ok(long, `${format}: ${got.map((e) => e.header.name).join(' ')}`);
        assert.equal(long!.body.toString(), 'long body');
        assert.equal(long!.header.uid, 3_000_000, format);
        assert.equal(got.find((e) => e.header.name === './ln')!.header.linkname, 't'.repeat(180));
        assert.equal(got.find((e) => e.header.name === './')!.header.type, 'directory');
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('tar-stream and we read each other', async () => {
  const theirs = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
    { name: LONG, body: 'long' },
    { name: 'etc/ln', type: 'symlink', linkname: 'passwd' },
  ]);
  const got = await entries(theirs);
  assert.deepEqual(got.map((e) => e.header.name), ['etc/', 'etc/passwd', LONG, 'etc/ln']);
  assert.equal(got[2].body.toString(), 'long');
  const ours = await write([[{ ...base, name: LONG, type: 'file', size: 4 }, Buffer.from('ours')]]);
  const ex = tarStream.extract();
  Readable.from([ours]).pipe(ex);
  for await (const e of ex) {
    assert.equal(e.header.name, LONG);
    assert.equal((await collect(e)).toString(), 'ours');
  }
});

test('global PAX records, pre-POSIX directories, unread bodies, bytes after the end', async () => {
  const g = encodePaxRecords([['SCHILY.xattr.user.g', Buffer.from('global')], ['uid', '77']]);
  const x = encodePaxRecords([['uid', '88'], ['mtime', '1700000000.5']]);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  const h = (name: string, type: TarWriteHeader['type'] | 'pax-header' | 'pax-global-header', size: number) =>
    encodeUstar({ name, type, mode: 0o644, uid: 0, gid: 0, size, mtime: 1 });
  // a pre-POSIX directory: type '0' and a trailing slash
  const v7dir = h('olddir/', 'file', 0);
  const data = Buffer.concat([
    h('g', 'pax-global-header', g.length), pad(g),
    h('a', 'file', 1000), pad(Buffer.alloc(1000, 1)),
    h('x', 'pax-header', x.length), pad(x),
    h('b', 'file', 3), pad(Buffer.from('bbb')),
    v7dir,
    Buffer.alloc(1024),
    Buffer.from('trailing bytes a writer padded with'),
  ]);
  const src = streamOf(data, 100);
  const seen: TarHeader[] = [];
  for await (const e of readTar(src)) seen.push(e.header); // bodies never read: skipped
  assert.deepEqual(seen.map((s) => s.name), ['a', 'b', 'olddir/']);
  assert.equal(seen[0].uid, 77);
  assert.equal(xattrsOfPax(seen[0].pax).get('user.g')?.toString(), 'global');
  assert.equal(seen[1].uid, 88, 'a local record wins over a global one');
  assert.equal(seen[1].mtime.getTime(), 1700000000500);
  assert.equal(xattrsOfPax(seen[1].pax).get('user.g')?.toString(), 'global');
  assert.equal(seen[2].type, 'directory');
  assert.ok(src.readableEnded, 'the source was read to its end');
});

test('corrupt and truncated archives are refused as invalid input; a large size is read from PAX', async () => {
  const good = await write([[{ ...base, name: 'f', type: 'file', size: 2000 }, Buffer.alloc(2000)]]);
  const bad = Buffer.from(good);
  bad[10] ^= 0xff; // inside the name: checksum no longer matches
  await assert.rejects(entries(bad), (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /checksum/.test(e.message));
  await assert.rejects(entries(good.subarray(0, 1200)), (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /unexpected end/.test(e.message));
  await assert.rejects(entries(good.subarray(0, 300)), /unexpected end/);
  await assert.rejects(entries(Buffer.from('not a tar at all'.repeat(40))), /invalid tar archive/);
  const badPax = Buffer.concat([encodeUstar({ name: 'p', type: 'pax-header', mode: 0, uid: 0, gid: 0, size: 9, mtime: 0 }), Buffer.from('99 x=y\n\n\n'), Buffer.alloc(503)]);
  await assert.rejects(entries(badPax), /malformed PAX record/);
  assert.deepEqual(await entries(Buffer.alloc(0)), [], 'an empty stream is an empty archive');

  // 8 GiB + 1: the writer puts the size in PAX; the reader takes it from there
  const w = new TarWriter();
  const huge = 8 * 1024 ** 3 + 1;
  const body = new PassThrough();
  body.write(Buffer.alloc(4096));
  void w.add({ ...base, name: 'huge', type: 'file', size: huge }, body).catch(() => undefined);
  const first: Buffer[] = [];
  let got = 0;
  for await (const c of w.stream) { first.push(c as Buffer); got += (c as Buffer).length; if (got >= 1536 + 4096) break; }
  const head = Buffer.concat(first);
  assert.ok(head.includes(Buffer.from(`size=${huge}\n`)));
  for await (const e of readTar(Readable.from([head]))) {
    assert.equal(e.header.size, huge);
    break;
  }
  w.destroy(new Error('done'));
  body.destroy();
});
