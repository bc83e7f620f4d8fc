// Streaming tar writer: POSIX ustar blocks, with a PAX extended header before an entry when
// something does not fit ustar (a long or non-ASCII name or link target, a size of 8 GiB or
// more, large ids, times before 1970) and for extra records such as SCHILY.xattr.*, whose
// values are written as the raw bytes they are. Output is deterministic: the same entries give
// the same bytes. Backpressure: add() resolves once the consumer has taken the bytes.
import { PassThrough, Readable } from 'node:stream';
import { BLOCK, encodeUstar, octalMax, TarEntryType } from './header';
import { encodePaxRecords } from './pax';

export interface TarWriteHeader {
  name: string;
  type: Exclude<TarEntryType, 'pax-header' | 'pax-global-header' | 'gnu-long-name' | 'gnu-long-link-name' | 'unsupported'>;
  mode: number;
  uid?: number;
  gid?: number;
  /** Bytes of the body (regular files); 0 for everything else. */
  size?: number;
  mtime?: Date;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records (e.g. SCHILY.xattr.security.capability), raw values. */
  pax?: Map<string, Buffer>;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const END = Buffer.alloc(BLOCK * 2);

/** `name` split into ustar's prefix (<= 155) and name (<= 100) at a slash, if it can be. */
function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (!PRINTABLE_ASCII.test(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest !== '') return { prefix, name: rest };
    if (prefix.length <= 155) return undefined; // the rest only gets longer going left
  }
  return undefined;
}

/** A stand-in name a ustar field can hold when the real one is in a PAX record. */
function ustarStandIn(name: string, max: number): string {
  const dirSlash = name.endsWith('/') ? '/' : '';
  const ascii = name.replace(/\/+$/, '').replace(/[^\x20-\x7e]/g, '_');
  return ascii.slice(Math.max(0, ascii.length - (max - dirSlash.length))) + dirSlash;
}

export class TarWriter {
  /** The archive's bytes. */
  readonly stream: PassThrough = new PassThrough({ highWaterMark: 64 << 10 });
  private closed = false;

  /** Writes one entry; `body` (a Buffer or a stream) must be exactly `size` bytes. */
  async add(h: TarWriteHeader, body?: Buffer | Readable): Promise<void> {
    if (this.closed) throw new Error('tar writer: add after finish');
    const size = h.size ?? 0;
    const records = new Map<string, Buffer>();
    const mtimeMs = (h.mtime ?? new Date(0)).getTime();
    let mtime = Math.floor(mtimeMs / 1000);
    if (mtime < 0 || mtime > octalMax(12)) {
      records.set('mtime', Buffer.from(String(mtime)));
      mtime = 0;
    }
    const split = splitUstar(h.name);
    if (!split) records.set('path', Buffer.from(h.name, 'utf8'));
    let linkname = h.linkname ?? '';
    if (linkname !== '' && !(PRINTABLE_ASCII.test(linkname) && linkname.length <= 100)) {
      records.set('linkpath', Buffer.from(linkname, 'utf8'));
      linkname = ustarStandIn(linkname, 100);
    }
    const big = (k: 'size' | 'uid' | 'gid', v: number, len: number): number => {
      if (v <= octalMax(len)) return v;
      records.set(k, Buffer.from(String(v)));
      return 0;
    };
    const fields = {
      ...(split ?? { prefix: '', name: ustarStandIn(h.name, 100) }),
      type: h.type, mode: h.mode, mtime, linkname,
      size: big('size', size, 12), uid: big('uid', h.uid ?? 0, 8), gid: big('gid', h.gid ?? 0, 8),
      uname: h.uname && Buffer.byteLength(h.uname) <= 32 ? h.uname : '',
      gname: h.gname && Buffer.byteLength(h.gname) <= 32 ? h.gname : '',
      devmajor: h.devmajor, devminor: h.devminor,
    };
    for (const [k, v] of h.pax ?? []) records.set(k, v);
    if (records.size > 0) {
      const pax = encodePaxRecords(records);
      const base = ustarStandIn(h.name.replace(/\/+$/, '').split('/').pop() || 'root', 90);
      await this.write(encodeUstar({ name: `PaxHeader/${base}`, type: 'pax-header', mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime }));
      await this.write(pax);
      await this.pad(pax.length);
    }
    await this.write(encodeUstar(fields));
    if (size === 0) {
      if (body instanceof Readable) body.resume();
      return;
    }
    let n = 0;
    if (Buffer.isBuffer(body)) {
      n = body.length;
      if (n === size) await this.write(body);
    } else if (body) {
      for await (const chunk of body) {
        const b = chunk as Buffer;
        n += b.length;
        if (n > size) break;
        await this.write(b);
      }
    }
    if (n !== size) {
      const e = new Error(`tar writer: ${h.name}: body has ${n} bytes, header says ${size} (file changed while read?)`);
      this.stream.destroy(e);
      throw e;
    }
    await this.pad(size);
  }

  /** Writes the end-of-archive blocks and ends the stream. */
  async finish(): Promise<void> {
    this.closed = true;
    await this.write(END);
    this.stream.end();
  }

  /** Ends the stream with an error (the consumer sees it). */
  destroy(e: Error): void {
    this.closed = true;
    this.stream.destroy(e);
  }

  private async pad(n: number): Promise<void> {
    const p = (BLOCK - (n % BLOCK)) % BLOCK;
    if (p) await this.write(Buffer.alloc(p));
  }

  private write(b: Buffer): Promise<void> {
    if (this.stream.destroyed) return Promise.reject(new Error('tar writer: the stream was destroyed'));
    if (this.stream.write(b)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (e?: Error) => { this.stream.off('drain', ok); this.stream.off('close', closed); if (e) reject(e); else resolve(); };
      const ok = () => done();
      const closed = () => done(new Error('tar writer: the stream was closed'));
      this.stream.once('drain', ok);
      this.stream.once('close', closed);
    });
  }
}
