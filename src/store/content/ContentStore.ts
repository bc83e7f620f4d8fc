// Content-addressed blobs: <root>/content/blobs/sha256/<hex>. Writes go to
// <root>/content/ingest/<random> and become visible only after their digest and size are
// verified (then fsync + rename). Blobs are immutable; a second writer of the same digest
// simply finds it present.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digest, digestHex, isDigest } from '../../lib/digest';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { fsyncDir } from '../../lib/atomic';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface WriteExpect {
  digest?: Digest;
  size?: number;
}

export class ContentStore {
  readonly root: string;
  private readonly blobsDir: string;
  private readonly ingestDir: string;

  constructor(dataRoot: string) {
    this.root = path.join(dataRoot, 'content');
    this.blobsDir = path.join(this.root, 'blobs', 'sha256');
    this.ingestDir = path.join(this.root, 'ingest');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobsDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  /** Drops partial ingests left by a crash. Call once at daemon start, before any writes. */
  async reconcile(): Promise<void> {
    await this.init();
    for (const n of await fsp.readdir(this.ingestDir)) {
      await fsp.rm(path.join(this.ingestDir, n), { recursive: true, force: true });
    }
    for (const n of await fsp.readdir(this.blobsDir)) {
      if (!/^[a-f0-9]{64}$/.test(n)) await fsp.rm(path.join(this.blobsDir, n), { recursive: true, force: true });
    }
  }

  blobPath(digest: Digest): string {
    if (!isDigest(digest)) throw new InvalidParameterError(`invalid digest: ${digest}`);
    return path.join(this.blobsDir, digestHex(digest));
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
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw e;
    }
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    try {
      return await fsp.readFile(this.blobPath(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw e;
    }
  }

  /** A read stream of a committed blob. */
  createReadStream(digest: Digest): fs.ReadStream {
    return fs.createReadStream(this.blobPath(digest));
  }

  /** Writes a small blob held in memory; returns its digest. */
  async writeBlob(data: string | Uint8Array, expect: WriteExpect = {}): Promise<BlobInfo> {
    return this.writeStream(Readable.from([typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)]), expect);
  }

  /**
   * Streams `src` into the store. Verifies `expect.digest`/`expect.size` when given; on a
   * mismatch nothing becomes visible and an InvalidParameterError is thrown.
   */
  async writeStream(src: Readable | AsyncIterable<Uint8Array>, expect: WriteExpect = {}): Promise<BlobInfo> {
    const w = await this.openWriter();
    try {
      await pipeline(src, w.stream);
      return await w.commit(expect);
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /**
   * A low-level writer: write into `stream`, then `commit()` (verify + rename) or `abort()`.
   * Lets callers tee a stream into the store while consuming it elsewhere.
   */
  async openWriter(): Promise<BlobWriter> {
    await fsp.mkdir(this.ingestDir, { recursive: true });
    const tmp = path.join(this.ingestDir, randomBytes(12).toString('hex'));
    return new BlobWriter(tmp, this.blobsDir);
  }

  async delete(digest: Digest): Promise<void> {
    await fsp.rm(this.blobPath(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await fsp.readdir(this.blobsDir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}` as Digest);
  }
}

export class BlobWriter {
  private readonly hash = createHash('sha256');
  private size = 0;
  private readonly file: fs.WriteStream;
  /** Write the blob bytes here. */
  readonly stream: Writable;
  private done = false;

  constructor(private readonly tmp: string, private readonly blobsDir: string) {
    this.file = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
    const self = this;
    this.stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        self.hash.update(chunk);
        self.size += chunk.length;
        if (!self.file.write(chunk)) self.file.once('drain', () => cb());
        else cb();
      },
      final(cb) {
        self.file.end(() => cb());
      },
      destroy(err, cb) {
        if (!self.file.destroyed) self.file.destroy();
        cb(err);
      },
    });
    this.file.on('error', (e) => this.stream.destroy(e));
  }

  get bytesWritten(): number { return this.size; }

  async commit(expect: WriteExpect = {}): Promise<BlobInfo> {
    if (this.done) throw new Error('blob writer already finished');
    this.done = true;
    const digest = `sha256:${this.hash.digest('hex')}` as Digest;
    try {
      if (expect.size !== undefined && expect.size !== this.size) {
        throw new InvalidParameterError(`unexpected blob size: got ${this.size}, expected ${expect.size} for ${expect.digest ?? digest}`);
      }
      if (expect.digest !== undefined && expect.digest !== digest) {
        throw new InvalidParameterError(`digest mismatch: got ${digest}, expected ${expect.digest}`);
      }
      const fh = await fsp.open(this.tmp, 'r');
      try { await fh.sync(); } finally { await fh.close(); }
      const final = path.join(this.blobsDir, digestHex(digest));
      // Content is immutable and verified: replacing an existing identical blob is harmless.
      await fsp.rename(this.tmp, final);
      await fsyncDir(this.blobsDir);
      return { digest, size: this.size };
    } catch (e) {
      await fsp.rm(this.tmp, { force: true });
      throw e;
    }
  }

  async abort(): Promise<void> {
    this.done = true;
    if (!this.file.destroyed) this.file.destroy();
    await fsp.rm(this.tmp, { force: true });
  }
}
