// Byte-exact PAX records for extended attributes.
//
// Layers carry xattrs as PAX records `SCHILY.xattr.<name>=<raw bytes>` (the convention of GNU
// tar, Go's archive/tar and so Docker and containerd). The value is raw bytes, not UTF-8:
// security.capability, for one, is a binary struct. tar-stream decodes PAX records as UTF-8
// strings (invalid sequences become U+FFFD) and encodes them from strings, so binary values
// would be corrupted both ways. This module keeps them intact:
//
//  - on read, hookExtractRawPax() also decodes each PAX header's records as bytes and hangs
//    them on the entry's header as `paxRaw` (a Map of key -> Buffer);
//  - on write, hookPackRawPax() lets an entry carry `paxRaw`: the PAX header is then written
//    from bytes (path, linkpath, then the raw records), followed by a plain ustar header.
//
// Both hooks wrap one method of the tar-stream instance (`_decodeLongHeader`/`_applyLongHeaders`
// on Extract, `_encode` on Pack: tar-stream 3.1.x, pinned in package.json). If a future
// version lacks them, the hooks report false and the callers fall back to tar-stream's strings,
// where a value that is not valid UTF-8 is dropped rather than corrupted.
//
// Also read (not written): libarchive's `LIBARCHIVE.xattr.<url-encoded name>=<base64>`.
import * as tar from 'tar-stream';

export const SCHILY_XATTR = 'SCHILY.xattr.';
export const LIBARCHIVE_XATTR = 'LIBARCHIVE.xattr.';

/** A header as read by a hooked extract, or to be written by a hooked pack. */
export type RawPaxHeaders = tar.Headers & {
  pax?: Record<string, string> | null;
  /** PAX records as bytes (read), or extra records to write byte-exactly (write). */
  paxRaw?: Map<string, Buffer>;
};

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function isValidUtf8(b: Buffer): boolean {
  try { utf8Strict.decode(b); return true; } catch { return false; }
}

/** Encodes PAX records `"<len> <key>=<value>\n"`; values are bytes. */
export function encodePaxRecords(records: Iterable<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    if (key === '' || key.includes('=') || key.includes('\0')) throw new Error(`invalid PAX key ${JSON.stringify(key)}`);
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), Buffer.from('\n')]);
    // The length counts its own digits.
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len), 'ascii'), body);
  }
  return Buffer.concat(parts);
}

/** Decodes PAX records as bytes. Malformed input ends the decoding (as tar-stream does). */
export function decodePaxRecords(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(buf.toString('ascii', off, sp), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > buf.length || buf[off + len - 1] !== 0x0a) break;
    const rec = buf.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) break;
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

interface ExtractInternals {
  _header: RawPaxHeaders | null;
  _decodeLongHeader(buf: Buffer): void;
  _applyLongHeaders(): void;
}

/** Makes `ex` attach `paxRaw` to every entry header that had PAX records. Returns false if it cannot. */
export function hookExtractRawPax(ex: tar.Extract): boolean {
  const x = ex as unknown as ExtractInternals;
  if (typeof x._decodeLongHeader !== 'function' || typeof x._applyLongHeaders !== 'function') return false;
  const decode = x._decodeLongHeader;
  const apply = x._applyLongHeaders;
  let global: Map<string, Buffer> | null = null;
  let pending: Map<string, Buffer> | null = null;
  x._decodeLongHeader = function (this: ExtractInternals, buf: Buffer): void {
    const type = this._header?.type;
    decode.call(this, buf);
    if (type === 'pax-global-header') global = decodePaxRecords(buf);
    else if (type === 'pax-header') pending = new Map([...(global ?? []), ...decodePaxRecords(buf)]);
  };
  x._applyLongHeaders = function (this: ExtractInternals): void {
    apply.call(this);
    const raw = pending ?? global;
    pending = null;
    if (raw && this._header) this._header.paxRaw = raw;
  };
  return true;
}

function decodeLibarchiveName(enc: string): string | undefined {
  try { return decodeURIComponent(enc); } catch { return undefined; }
}

/**
 * The xattrs of an entry read by a hooked extract, as name -> raw value. SCHILY.xattr wins
 * over LIBARCHIVE.xattr for the same name. Without raw records (unhooked), tar-stream's strings
 * are used and values that did not decode cleanly are dropped.
 */
export function xattrsOfEntry(h: RawPaxHeaders): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const schily = new Map<string, Buffer>();
  if (h.paxRaw) {
    for (const [k, v] of h.paxRaw) {
      if (k.startsWith(SCHILY_XATTR)) schily.set(k.slice(SCHILY_XATTR.length), v);
      else if (k.startsWith(LIBARCHIVE_XATTR)) {
        const name = decodeLibarchiveName(k.slice(LIBARCHIVE_XATTR.length));
        if (name) out.set(name, Buffer.from(v.toString('ascii'), 'base64'));
      }
    }
  } else if (h.pax) {
    for (const [k, v] of Object.entries(h.pax)) {
      if (k.startsWith(SCHILY_XATTR)) {
        if (!v.includes('\uFFFD')) schily.set(k.slice(SCHILY_XATTR.length), Buffer.from(v, 'utf8'));
      } else if (k.startsWith(LIBARCHIVE_XATTR)) {
        const name = decodeLibarchiveName(k.slice(LIBARCHIVE_XATTR.length));
        if (name) out.set(name, Buffer.from(v, 'base64'));
      }
    }
  }
  for (const [k, v] of schily) out.set(k, v);
  return out;
}

interface PackInternals {
  _encode(header: RawPaxHeaders): void;
  push(chunk: Buffer): boolean;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A name a ustar header can hold (the real one is in the PAX `path`/`linkpath` record). */
function ustarSafe(name: string, max: number): string {
  if (PRINTABLE_ASCII.test(name) && name.length <= max) return name;
  const dirSlash = name.endsWith('/') ? '/' : '';
  const ascii = name.replace(/\/+$/, '').replace(/[^\x20-\x7e]/g, '_');
  return ascii.slice(Math.max(0, ascii.length - (max - dirSlash.length))) + dirSlash;
}

/**
 * Makes `pack` write an entry whose header has `paxRaw` with a PAX header built from bytes:
 * `path`, `linkpath`, the string records of `pax`, then `paxRaw`. Returns false if it cannot
 * (then use paxRecordsAsStrings()).
 */
export function hookPackRawPax(pack: tar.Pack): boolean {
  const p = pack as unknown as PackInternals;
  if (typeof p._encode !== 'function' || typeof p.push !== 'function') return false;
  const encode = p._encode;
  p._encode = function (this: PackInternals, header: RawPaxHeaders): void {
    if (!header.paxRaw || header.paxRaw.size === 0) {
      encode.call(this, header);
      return;
    }
    const records: [string, Buffer | string][] = [['path', header.name]];
    if (header.linkname) records.push(['linkpath', header.linkname]);
    for (const [k, v] of Object.entries(header.pax ?? {})) records.push([k, v]);
    for (const [k, v] of header.paxRaw) records.push([k, v]);
    const body = encodePaxRecords(records);
    encode.call(this, {
      name: 'PaxHeader', type: 'pax-header', size: body.length, mode: header.mode, uid: header.uid, gid: header.gid,
      mtime: header.mtime, linkname: header.linkname ? 'PaxHeader' : undefined,
    } as RawPaxHeaders);
    this.push(body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) this.push(Buffer.alloc(pad));
    // Mutate in place: the pack's Sink holds this object (its size drives the padding).
    header.name = ustarSafe(header.name, 99);
    if (header.linkname) header.linkname = ustarSafe(header.linkname, 100);
    delete header.pax;
    encode.call(this, header);
  };
  return true;
}

/** Fallback for an unhooked pack: records as tar-stream strings; values that are not UTF-8 are dropped. */
export function paxRecordsAsStrings(raw: Map<string, Buffer>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of raw) if (isValidUtf8(v)) out[k] = v.toString('utf8');
  return out;
}
