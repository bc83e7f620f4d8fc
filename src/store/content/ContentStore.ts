// Content-addressed blobs on the local file system:
//
//   <root>/content/blobs/sha256/<hex>          committed blobs, immutable
//   <root>/content/ingest/<sha256(ref)>/       a named ingest: meta.json { ref, expected, startedAt }, data
//   <root>/content/ingest/anon-<random>/data   an anonymous ingest (no meta: dropped at reconcile)
//
// Bytes become visible only after their digest and size are verified (fsync, then rename into
// blobs/). Blobs are immutable, so a second writer of the same digest renames identical bytes
// over the first: both succeed and readers see one complete file either way. A named ingest
// survives a restart: its data file is the state; the hash is rebuilt by re-reading it on resume
// (Node cannot persist a hash's internal state).
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, Hash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digest, digestHex, isDigest, sha256 } from '../../lib/digest';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../lib/errors';
import { fsyncDir, readJsonIfExists, writeJsonAtomic } from '../../lib/atomic';
import { KeyedMutex } from '../../lib/mutex';
import {
  BlobInfo, ContentExistsError, ContentStore, ContentWriter, IngestOptions, IngestStatus, ReadRange, WriteExpect,
} from './types';

export type { BlobInfo, ContentWriter, IngestStatus, ReadRange, WriteExpect } from './types';

export interface LocalContentStoreOptions {
  /** Named ingests untouched for longer than this are dropped at reconcile (default: one week, as registries purge uploads). */
  ingestLifetimeMs?: number;
}

interface IngestMeta {
  ref: string;
  expected?: Digest;
  startedAt: string;
}

const HEX64 = /^[a-f0-9]{64}$/;
const WEEK_MS = 7 * 24 * 3600 * 1000;

function notFound(e: unknown, digest: Digest): unknown {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' ? new NotFoundError(`content ${digest}: not found`) : e;
}

export class LocalContentStore implements ContentStore {
  readonly root: string;
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  private readonly ingestLifetimeMs: number;
  /** One writer per named ingest, held from open until close/commit/abort: in this process (berthd owns its data root alone). */
  private readonly refLocks = new KeyedMutex();

  constructor(dataRoot: string, opts: LocalContentStoreOptions = {}) {
    this.root = path.join(dataRoot, 'content');
    this.blobsDir = path.join(this.root, 'blobs', 'sha256');
    this.ingestDir = path.join(this.root, 'ingest');
    this.ingestLifetimeMs = opts.ingestLifetimeMs ?? WEEK_MS;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobsDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  async reconcile(): Promise<void> {
    await this.init();
    const now = Date.now();
    for (const n of await fsp.readdir(this.ingestDir)) {
      const st = HEX64.test(n) ? await this.readIngest(n) : undefined;
      if (st && now - Date.parse(st.updatedAt) <= this.ingestLifetimeMs) continue;
      await fsp.rm(path.join(this.ingestDir, n), { recursive: true, force: true });
    }
    for (const n of await fsp.readdir(this.blobsDir)) {
      if (!HEX64.test(n)) await fsp.rm(path.join(this.blobsDir, n), { recursive: true, force: true });
    }
  }

  blobPath(digest: Digest): string {
    if (!isDigest(digest)) throw new InvalidParameterError(`invalid digest: ${digest}`);
    return path.join(this.blobsDir, digestHex(digest));
  }

  async adoptFile(file: string, info: BlobInfo): Promise<BlobInfo> {
    // Content is immutable and the caller verified it: replacing an identical blob is harmless.
    await fsp.rename(file, this.blobPath(info.digest));
    await fsyncDir(this.blobsDir);
    return { digest: info.digest, size: info.size };
  }

  async exists(digest: Digest): Promise<boolean> {
    try {
      await fsp.access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await fsp.stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (e) {
      throw notFound(e, digest);
    }
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    try {
      return await fsp.readFile(this.blobPath(digest));
    } catch (e) {
      throw notFound(e, digest);
    }
  }

  async readStream(digest: Digest, range: ReadRange = {}): Promise<Readable> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.blobPath(digest), 'r');
    } catch (e) {
      throw notFound(e, digest);
    }
    try {
      const { size } = await fh.stat();
      const start = range.start ?? 0;
      if (!Number.isSafeInteger(start) || start < 0 || start > size) {
        throw new InvalidParameterError(`invalid range start ${range.start} for ${digest} of ${size} bytes`);
      }
      if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < start)) {
        throw new InvalidParameterError(`invalid range end ${range.end} (start ${start}) for ${digest}`);
      }
      const end = Math.min(range.end ?? size - 1, size - 1);
      if (end < start) {
        await fh.close();
        return Readable.from([]);
      }
      return fh.createReadStream({ start, end, autoClose: true });
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async writeBlob(data: string | Uint8Array, expect: WriteExpect = {}): Promise<BlobInfo> {
    return this.writeStream(Readable.from([typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)]), expect);
  }

  /** On a digest or size mismatch nothing becomes visible and an InvalidParameterError is thrown. */
  async writeStream(src: Readable | AsyncIterable<Uint8Array>, expect: WriteExpect = {}): Promise<BlobInfo> {
    const w = await this.openWriter();
    try {
      await pipeline(src, w.stream);
      return await w.commit(expect.size, expect.digest);
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  async openWriter(): Promise<ContentWriter> {
    const dir = path.join(this.ingestDir, `anon-${randomBytes(12).toString('hex')}`);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    return IngestWriter.create({ dir, blobsDir: this.blobsDir, ref: '', named: false, release: () => undefined })
      .catch(async (e: unknown) => { await fsp.rm(dir, { recursive: true, force: true }); throw e; });
  }

  async openIngest(ref: string, opts: IngestOptions = {}): Promise<ContentWriter> {
    if (typeof ref !== 'string' || ref === '') throw new InvalidParameterError('an ingest needs a ref');
    if (opts.expected !== undefined && !isDigest(opts.expected)) throw new InvalidParameterError(`invalid digest: ${opts.expected}`);
    const release = await this.lockRef(ref);
    try {
      const dir = this.ingestPath(ref);
      if (opts.expected && (await this.exists(opts.expected))) {
        await fsp.rm(dir, { recursive: true, force: true }); // what a crash inside commit leaves
        throw new ContentExistsError(opts.expected);
      }
      const metaFile = path.join(dir, 'meta.json');
      let meta = await readJsonIfExists<IngestMeta>(metaFile).catch(() => undefined);
      if (meta && meta.ref !== ref) meta = undefined;
      if (meta && opts.expected && meta.expected && meta.expected !== opts.expected) {
        throw new ConflictError(`ingest ${ref} expects ${meta.expected}, not ${opts.expected}`);
      }
      if (!meta || (opts.expected && !meta.expected)) {
        // Data without a (readable) meta is of unknown origin: start afresh.
        if (!meta) await fsp.rm(dir, { recursive: true, force: true });
        meta = { ref, startedAt: meta?.startedAt ?? new Date().toISOString(), ...(opts.expected ? { expected: opts.expected } : {}) };
        await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
        // Durable: the meta is what makes the ingest findable (and resumable) after a crash.
        await writeJsonAtomic(metaFile, meta, 0o600);
      }
      return await IngestWriter.create({ dir, blobsDir: this.blobsDir, ref, expected: meta.expected, named: true, release });
    } catch (e) {
      release();
      throw e;
    }
  }

  async ingestStatus(ref: string): Promise<IngestStatus> {
    const st = await this.readIngest(digestHex(sha256(ref)));
    if (!st || st.ref !== ref) throw new NotFoundError(`no such ingest: ${ref}`);
    return st;
  }

  async listIngests(): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const n of await fsp.readdir(this.ingestDir).catch(() => [] as string[])) {
      const st = HEX64.test(n) ? await this.readIngest(n) : undefined;
      if (st) out.push(st);
    }
    return out;
  }

  async abortIngest(ref: string): Promise<void> {
    const release = await this.lockRef(ref);
    try {
      await fsp.rm(this.ingestPath(ref), { recursive: true, force: true });
    } finally {
      release();
    }
  }

  async delete(digest: Digest): Promise<void> {
    await fsp.rm(this.blobPath(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await fsp.readdir(this.blobsDir).catch(() => [] as string[]);
    return names.filter((n) => HEX64.test(n)).map((n) => `sha256:${n}` as Digest);
  }

  /** Refs can be anything (URLs, upload UUIDs): the directory is named by their hash. */
  private ingestPath(ref: string): string {
    return path.join(this.ingestDir, digestHex(sha256(ref)));
  }

  /** The status of ingest directory `key`, or undefined when it is not a complete named ingest. */
  private async readIngest(key: string): Promise<IngestStatus | undefined> {
    const dir = path.join(this.ingestDir, key);
    const meta = await readJsonIfExists<IngestMeta>(path.join(dir, 'meta.json')).catch(() => undefined);
    if (!meta || typeof meta.ref !== 'string' || digestHex(sha256(meta.ref)) !== key) return undefined;
    const data = await fsp.stat(path.join(dir, 'data')).catch(() => undefined);
    return {
      ref: meta.ref, offset: data?.size ?? 0, ...(meta.expected ? { expected: meta.expected } : {}),
      startedAt: meta.startedAt, updatedAt: (data?.mtime ?? new Date(meta.startedAt)).toISOString(),
    };
  }

  /** Waits for the ref's writer lock; resolves with its release function. */
  private lockRef(ref: string): Promise<() => void> {
    return new Promise((locked) => {
      void this.refLocks.run(ref, () => new Promise<void>((release) => locked(release)));
    });
  }
}

interface WriterInit {
  dir: string;
  blobsDir: string;
  ref: string;
  expected?: Digest;
  named: boolean;
  release: () => void;
}

class IngestWriter implements ContentWriter {
  readonly ref: string;
  readonly expected?: Digest;
  private hash: Hash = createHash('sha256');
  private size = 0;
  private done = false;
  /** Writes and truncates run one after another, in call order. */
  private queue: Promise<void> = Promise.resolve();
  private writable?: Writable;

  private constructor(private readonly init: WriterInit, private readonly fh: fsp.FileHandle) {
    this.ref = init.ref;
    if (init.expected) this.expected = init.expected;
  }

  static async create(init: WriterInit): Promise<IngestWriter> {
    const file = path.join(init.dir, 'data');
    // Not O_APPEND: positional writes at the offset, and truncate, must work.
    const fh = await fsp.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    const w = new IngestWriter(init, fh);
    try {
      await w.rehash((await fh.stat()).size);
    } catch (e) {
      await fh.close();
      throw e;
    }
    return w;
  }

  get offset(): number { return this.size; }

  /** Rebuilds the hash from the first `n` bytes on disk (resume, truncate). */
  private async rehash(n: number): Promise<void> {
    this.hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    while (pos < n) {
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, n - pos), pos);
      if (bytesRead === 0) break;
      this.hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    this.size = pos;
  }

  private finishedError(): ConflictError {
    return new ConflictError(`ingest ${this.ref || '(anonymous)'} is already finished`);
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.done) return Promise.reject(this.finishedError());
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const p = this.queue.then(async () => {
      let off = 0;
      try {
        while (off < buf.length) {
          const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.size + off);
          off += bytesWritten;
        }
      } catch (e) {
        // A short write must not leave bytes that the hash has not seen.
        await this.fh.truncate(this.size).catch(() => undefined);
        throw e;
      }
      this.hash.update(buf);
      this.size += buf.length;
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  get stream(): Writable {
    if (!this.writable) {
      this.writable = new Writable({
        write: (chunk: Buffer, _enc, cb) => { this.write(chunk).then(() => cb(), cb); },
        final: (cb) => { this.queue.then(() => cb(), cb); },
      });
    }
    return this.writable;
  }

  digest(): Digest {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  truncate(offset: number): Promise<void> {
    if (this.done) return Promise.reject(this.finishedError());
    const p = this.queue.then(async () => {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.size) {
        throw new InvalidParameterError(`cannot truncate ingest of ${this.size} bytes to ${offset}`);
      }
      await this.fh.truncate(offset);
      await this.rehash(offset);
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  async commit(size?: number, digest?: Digest): Promise<BlobInfo> {
    if (this.done) throw this.finishedError();
    this.done = true;
    try {
      await this.queue;
      const got = this.digest();
      const want = digest ?? this.expected;
      if (size !== undefined && size !== this.size) {
        throw new InvalidParameterError(`unexpected blob size: got ${this.size}, expected ${size} for ${want ?? got}`);
      }
      if (want !== undefined && want !== got) throw new InvalidParameterError(`digest mismatch: got ${got}, expected ${want}`);
      if (this.expected !== undefined && this.expected !== got) throw new InvalidParameterError(`digest mismatch: got ${got}, expected ${this.expected}`);
      await this.fh.sync();
      await this.fh.close();
      // Content is immutable and verified: replacing an existing identical blob is harmless.
      await fsp.rename(path.join(this.init.dir, 'data'), path.join(this.init.blobsDir, digestHex(got)));
      await fsyncDir(this.init.blobsDir);
      await fsp.rm(this.init.dir, { recursive: true, force: true });
      return { digest: got, size: this.size };
    } catch (e) {
      await this.fh.close().catch(() => undefined);
      await fsp.rm(this.init.dir, { recursive: true, force: true });
      throw e;
    } finally {
      this.init.release();
    }
  }

  async close(): Promise<void> {
    if (!this.init.named) return this.abort();
    if (this.done) return;
    this.done = true;
    try {
      await this.queue;
      // Bytes a caller was told were written (a registry's 202 with its Range) survive a power loss.
      await this.fh.sync();
    } finally {
      await this.fh.close().catch(() => undefined);
      this.init.release();
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.writable?.destroy(); // a producer still piping in stops here
    try {
      await this.queue;
    } finally {
      await this.fh.close().catch(() => undefined);
      await fsp.rm(this.init.dir, { recursive: true, force: true });
      this.init.release();
    }
  }
}
