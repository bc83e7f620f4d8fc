// One 512-byte tar header block: the POSIX ustar layout (with GNU's base-256 numbers and
// magic understood on read). What a layer needs and no more; PAX records (pax.ts) carry
// whatever a ustar block cannot hold.
//
//   off len field          off len field
//     0 100 name           257   6 magic ("ustar\0" POSIX, "ustar " GNU)
//   100   8 mode           263   2 version ("00" POSIX, " \0" GNU)
//   108   8 uid            265  32 uname
//   116   8 gid            297  32 gname
//   124  12 size           329   8 devmajor
//   136  12 mtime          337   8 devminor
//   148   8 checksum       345 155 prefix (POSIX only; GNU keeps atime/ctime there)
//   156   1 typeflag
//   157 100 linkname

import { InvalidParameterError } from '../errors';

export const BLOCK = 512;

export type TarEntryType =
  | 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo'
  | 'contiguous-file' | 'pax-header' | 'pax-global-header' | 'gnu-long-name' | 'gnu-long-link-name'
  | 'unsupported';

/** A header as an archive's reader sees it once PAX and GNU long-name records are applied. */
export interface TarHeader {
  name: string;
  type: TarEntryType;
  /** Permission bits and setuid/setgid/sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow (0 for header-only types). */
  size: number;
  mtime: Date;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** The raw typeflag character (for 'unsupported'). */
  typeflag: string;
  /** PAX records that applied (global and local), values as raw bytes. */
  pax: Map<string, Buffer>;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device',
  '5': 'directory', '6': 'fifo', '7': 'contiguous-file', x: 'pax-header', g: 'pax-global-header',
  L: 'gnu-long-name', K: 'gnu-long-link-name',
};
const FLAGS: Partial<Record<TarEntryType, string>> = {
  file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5',
  fifo: '6', 'contiguous-file': '7', 'pax-header': 'x', 'pax-global-header': 'g',
};

/** Types whose size field does not announce data (as Go's archive/tar reads them). */
export function isHeaderOnly(type: TarEntryType): boolean {
  return type === 'link' || type === 'symlink' || type === 'character-device' || type === 'block-device'
    || type === 'directory' || type === 'fifo';
}

/** A header that cannot be read: the archive is not a tar, or it is corrupt (the sender's fault). */
function bad(message: string): InvalidParameterError {
  return new InvalidParameterError(`invalid tar archive: ${message}`);
}

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** An octal field, or GNU base-256 (high bit of the first byte set). */
function number(b: Buffer, off: number, len: number, field: string): number {
  if (b[off] & 0x80) {
    if (b[off] === 0xff) throw bad(`negative ${field}`);
    let v = BigInt(b[off] & 0x7f);
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(b[off + i]);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${field} too large`);
    return Number(v);
  }
  const s = b.toString('ascii', off, off + len).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw bad(`invalid ${field} ${JSON.stringify(s)} in a header`);
  return parseInt(s, 8);
}

function checksums(b: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return { unsigned, signed };
}

export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decodes one header block (not yet merged with PAX or GNU long-name records). */
export function decodeHeader(b: Buffer): TarHeader {
  const sum = number(b, 148, 8, 'checksum');
  const c = checksums(b);
  if (sum !== c.unsigned && sum !== c.signed) throw bad('header checksum mismatch (not a tar archive, or corrupt)');
  const typeflag = String.fromCharCode(b[156]);
  let type: TarEntryType = TYPES[typeflag] ?? 'unsupported';
  const magic = b.toString('latin1', 257, 263);
  let name = cstring(b, 0, 100);
  if (magic === 'ustar\0') {
    const prefix = cstring(b, 345, 155);
    if (prefix !== '') name = prefix + '/' + name;
  }
  // pre-POSIX archives mark directories by a trailing slash only
  if (type === 'file' && name.endsWith('/')) type = 'directory';
  const size = number(b, 124, 12, 'size');
  return {
    name, type, typeflag,
    mode: number(b, 100, 8, 'mode') & 0o7777,
    uid: number(b, 108, 8, 'uid'),
    gid: number(b, 116, 8, 'gid'),
    size: isHeaderOnly(type) ? 0 : size,
    mtime: new Date(number(b, 136, 12, 'mtime') * 1000),
    linkname: cstring(b, 157, 100),
    uname: magic.startsWith('ustar') ? cstring(b, 265, 32) : '',
    gname: magic.startsWith('ustar') ? cstring(b, 297, 32) : '',
    devmajor: magic.startsWith('ustar') ? number(b, 329, 8, 'devmajor') : 0,
    devminor: magic.startsWith('ustar') ? number(b, 337, 8, 'devminor') : 0,
    pax: new Map(),
  };
}

/** What a ustar block is written from; fields that do not fit go to PAX first (writer.ts). */
export interface UstarFields {
  name: string;
  prefix?: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

/** Largest value of an octal field of `len` bytes (len - 1 digits and a NUL). */
export function octalMax(len: number): number {
  return 8 ** (len - 1) - 1;
}

function putString(b: Buffer, off: number, len: number, s: string, field: string): void {
  const n = Buffer.byteLength(s);
  if (n > len) throw new Error(`tar header: ${field} does not fit: ${JSON.stringify(s)}`);
  b.write(s, off, len, 'utf8');
}

function putOctal(b: Buffer, off: number, len: number, v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > octalMax(len)) throw new Error(`tar header: ${field} ${v} does not fit`);
  b.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

/** Encodes a POSIX ustar header block. Throws if a field does not fit (the writer checks first). */
export function encodeUstar(h: UstarFields): Buffer {
  const flag = FLAGS[h.type];
  if (!flag) throw new Error(`tar header: cannot write type ${h.type}`);
  const b = Buffer.alloc(BLOCK);
  putString(b, 0, 100, h.name, 'name');
  putOctal(b, 100, 8, h.mode & 0o7777, 'mode');
  putOctal(b, 108, 8, h.uid, 'uid');
  putOctal(b, 116, 8, h.gid, 'gid');
  putOctal(b, 124, 12, h.size, 'size');
  putOctal(b, 136, 12, h.mtime, 'mtime');
  b.write(flag, 156, 1, 'ascii');
  putString(b, 157, 100, h.linkname ?? '', 'linkname');
  b.write('ustar\x0000', 257, 8, 'latin1');
  putString(b, 265, 32, h.uname ?? '', 'uname');
  putString(b, 297, 32, h.gname ?? '', 'gname');
  putOctal(b, 329, 8, h.devmajor ?? 0, 'devmajor');
  putOctal(b, 337, 8, h.devminor ?? 0, 'devminor');
  putString(b, 345, 155, h.prefix ?? '', 'prefix');
  const { unsigned } = checksums(b);
  b.write(unsigned.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return b;
}
