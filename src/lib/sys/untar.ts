// Tar extraction in the native addon (native/extract.c): a thread of its own reads the stream
// from an fd, decompresses gzip/zstd, hashes the raw and the uncompressed bytes in the same
// pass and writes the entries under a private directory with the layer store's path rules.
import { InvalidParameterError, SystemError } from '../errors';
import { loadNative, type NativeExtractCallback, type NativeExtractResult, type NativeFeedHandle } from './native';

export type { NativeExtractResult } from './native';

export interface NativeExtractOptions {
  /** The raw bytes (as read, before decompression) are also written here (the layer's blob). */
  teeFd?: number;
  /** false: no digests (they come back as zeros): an archive staged only to be read. */
  digests?: boolean;
  /** Uncompressed bytes read so far; called at most about once per MB. */
  onProgress?: (tarBytes: number) => void;
}

function nativeOpts(opts: NativeExtractOptions): { teeFd?: number; hash?: number } {
  return { ...(opts.teeFd !== undefined ? { teeFd: opts.teeFd } : {}), ...(opts.digests === false ? { hash: 0 } : {}) };
}

/** The extraction's callback: progress to onProgress, drains to onDrain, the end to the promise. */
function settleOn(resolve: (r: NativeExtractResult) => void, reject: (e: Error) => void, opts: NativeExtractOptions, onDrain?: () => void): NativeExtractCallback {
  return (err, result, progress, drained) => {
    if (drained) { onDrain?.(); return; }
    if (progress !== undefined && !err && !result) { opts.onProgress?.(progress); return; }
    if (err) reject(err.kind === 'invalid' ? new InvalidParameterError(err.message) : new SystemError(err.message));
    else resolve(result!);
  };
}

/** Extracts the tar read from `fd` (read to its end; the caller closes it) into `dest`. */
export function extractFromFd(fd: number, dest: string, opts: NativeExtractOptions = {}): Promise<NativeExtractResult> {
  return new Promise((resolve, reject) => {
    loadNative().extractTar({ fd, dest, ...nativeOpts(opts) }, settleOn(resolve, reject, opts));
  });
}

/**
 * Extracts the tar whose Buffers `src` yields into `dest`: each chunk is handed to the thread
 * (no pipe, no write(2) per chunk on the main thread), at most a few MB ahead of it. The
 * chunks must not change once yielded (as with a stream's write). `src` is read to its end
 * unless the extraction ends first; its own error is thrown as it is.
 */
export async function extractFromChunks(src: AsyncIterable<Buffer>, dest: string, opts: NativeExtractOptions = {}): Promise<NativeExtractResult> {
  const native = loadNative();
  let wake: (() => void) | undefined;
  let ended = false;
  const woken = () => { const w = wake; wake = undefined; w?.(); };
  let feed!: NativeFeedHandle;
  const done = new Promise<NativeExtractResult>((resolve, reject) => {
    feed = native.extractTar({ feed: 1, dest, ...nativeOpts(opts) }, settleOn(resolve, reject, opts, woken));
  }).finally(() => { ended = true; woken(); });
  done.catch(() => undefined); // awaited below, after the source
  let srcErr: unknown;
  try {
    for await (const chunk of src) {
      if (ended) break;
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (!native.extractFeed(feed, b) && !ended) await new Promise<void>((r) => { wake = r; });
    }
  } catch (e) {
    srcErr = e;
  } finally {
    native.extractFeed(feed, null);
  }
  try {
    const r = await done;
    if (srcErr !== undefined) throw srcErr;
    return r;
  } catch (e) {
    // The source's own failure explains a truncated stream better than the extractor can.
    throw srcErr ?? e;
  }
}

/** Hard-links the file open as `fd` at `path` (no copy) and syncs its data. */
export function linkFd(fd: number, path: string): void {
  loadNative().linkFd(fd, path);
}

/**
 * Marks `dir` (where extractions are made) as a top of directory hierarchies (chattr +T): on
 * ext4 each directory made in it starts in an inode group of its own (see native/extract.c
 * spreadDirs for why that matters). Best effort: false where the filesystem has no such flag.
 */
export function spreadDirs(dir: string): boolean {
  return loadNative().spreadDirs(dir);
}
