// What the engine (and later the registry) needs from a content store: blobs by digest,
// invisible until committed with digest and size checked, named ingests that survive a
// restart, and ranged reads. test/helpers/conformance/content.ts checks any implementation.
import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../../lib/digest';
import { ConflictError } from '../../lib/errors';

/** openIngest with an `expected` digest that is already committed: nothing left to write. */
export class ContentExistsError extends ConflictError {
  constructor(readonly digest: Digest) { super(`content ${digest}: already exists`); }
}

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface WriteExpect {
  digest?: Digest;
  size?: number;
}

/** A byte range of a blob; `end` is inclusive, as in HTTP `Range: bytes=start-end` and fs streams. */
export interface ReadRange {
  start?: number;
  end?: number;
}

export interface IngestOptions {
  /** The digest the content must have; checked at commit, and a commit to another digest fails. */
  expected?: Digest;
}

/** A named ingest as it stands on disk. */
export interface IngestStatus {
  ref: string;
  /** Bytes written so far: the offset a resumed write continues at. */
  offset: number;
  expected?: Digest;
  startedAt: string;
  updatedAt: string;
}

/**
 * A writer of one ingest. Writes are sequential from `offset`. Nothing is visible under a
 * digest until `commit` has checked it; `close` keeps a named ingest for a later resume.
 */
export interface ContentWriter {
  readonly ref: string;
  /** Bytes written so far (including those written before a restart). */
  readonly offset: number;
  readonly expected?: Digest;
  write(chunk: Uint8Array): Promise<void>;
  /** A Writable onto `write`, for pipeline(); ending it does not commit. */
  readonly stream: Writable;
  /** The digest of the bytes written so far. */
  digest(): Digest;
  /** Cuts the ingest back to `offset` bytes (e.g. a source that cannot resume a range). */
  truncate(offset: number): Promise<void>;
  /**
   * Checks the bytes against `size` and `digest` (and the ingest's `expected`) when given and
   * makes them visible under their digest; a mismatch throws InvalidParameterError and drops
   * the ingest. Committing content that is already present succeeds.
   */
  commit(size?: number, digest?: Digest): Promise<BlobInfo>;
  /** Releases the writer; a named ingest stays (flushed to disk) for a later openIngest, an anonymous one is dropped. */
  close(): Promise<void>;
  /** Drops the ingest and its data. */
  abort(): Promise<void>;
}

export interface ContentStore {
  /** Creates the store's directories. Idempotent. */
  init(): Promise<void>;
  /**
   * Daemon start, before any write: drops anonymous and unreadable ingests and those not
   * touched for longer than the store's ingest lifetime; keeps the others for resuming.
   */
  reconcile(): Promise<void>;

  exists(digest: Digest): Promise<boolean>;
  /** NotFoundError when absent. */
  info(digest: Digest): Promise<BlobInfo>;
  /** A committed blob in memory (configs, manifests). NotFoundError when absent. */
  readBlob(digest: Digest): Promise<Buffer>;
  /**
   * A stream of a committed blob or a range of it. Resolves only once the blob is open, so
   * NotFoundError (absent) and InvalidParameterError (range outside the blob) come first.
   * `end` is clamped to the last byte.
   */
  readStream(digest: Digest, range?: ReadRange): Promise<Readable>;
  list(): Promise<Digest[]>;
  delete(digest: Digest): Promise<void>;

  /** Writes a small blob held in memory. */
  writeBlob(data: string | Uint8Array, expect?: WriteExpect): Promise<BlobInfo>;
  /** Streams `src` into the store through an anonymous ingest. */
  writeStream(src: Readable | AsyncIterable<Uint8Array>, expect?: WriteExpect): Promise<BlobInfo>;
  /**
   * Optional (stores on a local file system): moves `file`, written, synced and hashed by the
   * caller in one pass (the layer store's extractor), in as the blob `info` without reading it
   * again. Throws when it cannot move it (another file system): then write it with writeStream.
   */
  adoptFile?(file: string, info: BlobInfo): Promise<BlobInfo>;
  /** Optional: the local file holding a committed blob (read by the native extractor directly). */
  blobPath?(digest: Digest): string;
  /** An anonymous ingest: dropped at reconcile, never resumed. */
  openWriter(): Promise<ContentWriter>;

  /**
   * Opens the named ingest `ref`, creating it or resuming it at its offset (after a restart
   * too). One writer per ref at a time: a second open waits until the first is closed,
   * committed or aborted. Opening with an `expected` that differs from the ingest's fails
   * with ConflictError; when `expected` is already committed it fails with ContentExistsError
   * (so a second puller of one blob waits for the first and then finds it done).
   */
  openIngest(ref: string, opts?: IngestOptions): Promise<ContentWriter>;
  /** NotFoundError when there is no such ingest. */
  ingestStatus(ref: string): Promise<IngestStatus>;
  listIngests(): Promise<IngestStatus[]>;
  /** Drops a named ingest; a no-op when absent. Waits for its writer to finish first. */
  abortIngest(ref: string): Promise<void>;
}
