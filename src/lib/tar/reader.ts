// Streaming tar reader: ustar, PAX (local and global records, raw byte values), GNU long
// names and base-256 numbers, pre-POSIX archives. Each entry's body streams from the source
// without buffering more than the chunk at hand; an entry whose body is not read is skipped
// when the next one is asked for. Bytes after the end-of-archive block are read and dropped
// (the caller may be hashing the whole stream), so the source always ends.
import type { Readable } from 'node:stream';
import { InvalidParameterError } from '../errors';
import { BLOCK, decodeHeader, isHeaderOnly, isZeroBlock, TarHeader } from './header';
import { decodePaxRecords } from './pax';

export interface TarEntry {
  header: TarHeader;
  /** The entry's data, `header.size` bytes. Read it before asking for the next entry, or not at all. */
  body: AsyncIterable<Buffer>;
}

/** Upper bound of a PAX or GNU long-name body held in memory. */
const MAX_META_BODY = 16 << 20;

const EMPTY = Buffer.alloc(0);
const padOf = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;
const truncated = () => new InvalidParameterError('invalid tar archive: unexpected end of data');

/** Reads exact byte counts from a stream's chunks. */
class ByteSource {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(src: Readable) {
    this.it = (src as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Makes `buf` non-empty unless the source has ended. */
  private async fill(): Promise<boolean> {
    while (this.buf.length === 0) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) { this.ended = true; return false; }
      this.buf = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
    return true;
  }

  /** Up to `n` bytes: fewer only at the end of the source. */
  async read(n: number): Promise<Buffer> {
    if (this.buf.length >= n) {
      const out = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = this.buf.subarray(0, n - got);
      this.buf = this.buf.subarray(take.length);
      parts.push(take);
      got += take.length;
    }
    return Buffer.concat(parts, got);
  }

  /** `n` bytes as the chunks come; throws if the source ends first. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (!(await this.fill())) throw truncated();
      const take = this.buf.subarray(0, Math.min(n, this.buf.length));
      this.buf = this.buf.subarray(take.length);
      n -= take.length;
      yield take;
    }
  }

  /** Drops `n` bytes (an entry nobody reads: docker load's layers already stored), chunk by chunk. */
  async skip(n: number): Promise<void> {
    while (n > this.buf.length) {
      n -= this.buf.length;
      this.buf = EMPTY;
      if (!(await this.fill())) throw truncated();
    }
    this.buf = this.buf.subarray(n);
  }

  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }

  /** Stops reading: a Readable's iterator destroys the stream. */
  async abort(): Promise<void> {
    if (!this.ended) await this.it.return?.();
  }
}

function applyRecords(h: TarHeader, recs: Map<string, Buffer>): void {
  const num = (k: string): number | undefined => {
    const v = recs.get(k);
    if (v === undefined) return undefined;
    const s = v.toString('ascii');
    if (!/^[0-9]+$/.test(s)) throw new InvalidParameterError(`invalid tar archive: PAX ${k}=${JSON.stringify(s)}`);
    return Number(s);
  };
  for (const [k, v] of recs) h.pax.set(k, v);
  const p = recs.get('path');
  if (p !== undefined) h.name = p.toString('utf8');
  const l = recs.get('linkpath');
  if (l !== undefined) h.linkname = l.toString('utf8');
  const size = num('size');
  if (size !== undefined && !isHeaderOnly(h.type)) h.size = size;
  h.uid = num('uid') ?? h.uid;
  h.gid = num('gid') ?? h.gid;
  const mtime = recs.get('mtime')?.toString('ascii');
  if (mtime !== undefined) {
    if (!/^-?[0-9]+(\.[0-9]*)?$/.test(mtime)) throw new InvalidParameterError(`invalid tar archive: PAX mtime=${JSON.stringify(mtime)}`);
    h.mtime = new Date(Math.round(parseFloat(mtime) * 1000));
  }
  const un = recs.get('uname');
  if (un !== undefined) h.uname = un.toString('utf8');
  const gn = recs.get('gname');
  if (gn !== undefined) h.gname = gn.toString('utf8');
}

/** The entries of the (uncompressed) tar stream `src`. */
export async function* readTar(src: Readable): AsyncGenerator<TarEntry> {
  const s = new ByteSource(src);
  let global = new Map<string, Buffer>();
  let finished = false;
  try {
    let local: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const block = await s.read(BLOCK);
      if (block.length === 0) break; // ended without the end-of-archive blocks: accepted, as tar does
      if (block.length < BLOCK) throw truncated();
      if (isZeroBlock(block)) break;
      const h = decodeHeader(block);
      const meta = async (): Promise<Buffer> => {
        if (h.size > MAX_META_BODY) throw new InvalidParameterError(`invalid tar archive: ${h.type} of ${h.size} bytes`);
        const body = await s.read(h.size);
        if (body.length < h.size) throw truncated();
        await s.skip(padOf(h.size));
        return body;
      };
      const cstr = (b: Buffer) => { const z = b.indexOf(0); return b.toString('utf8', 0, z < 0 ? b.length : z); };
      switch (h.type) {
        case 'pax-header': local = decodePaxOrThrow(await meta()); continue;
        case 'pax-global-header': global = new Map([...global, ...decodePaxOrThrow(await meta())]); continue;
        case 'gnu-long-name': longName = cstr(await meta()); continue;
        case 'gnu-long-link-name': longLink = cstr(await meta()); continue;
        default: break;
      }
      if (longName !== undefined) h.name = longName;
      if (longLink !== undefined) h.linkname = longLink;
      applyRecords(h, new Map([...global, ...(local ?? [])]));
      local = longName = longLink = undefined;

      let left = h.size;
      let current = true;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: async function* () {
          if (!current) throw new Error('tar entry body read after the next entry was asked for');
          for await (const chunk of s.chunks(left)) {
            left -= chunk.length;
            yield chunk;
          }
        },
      };
      yield { header: h, body };
      current = false;
      await s.skip(left + padOf(h.size));
    }
    await s.drain();
    finished = true;
  } finally {
    if (!finished) await s.abort();
  }
}

function decodePaxOrThrow(b: Buffer): Map<string, Buffer> {
  try {
    return decodePaxRecords(b);
  } catch (e) {
    throw new InvalidParameterError(`invalid tar archive: ${(e as Error).message}`);
  }
}
