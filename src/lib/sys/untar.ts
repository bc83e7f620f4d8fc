// Tar extraction in the native addon (native/extract.c): a thread of its own reads the stream
// from an fd, decompresses gzip/zstd, hashes the raw and the uncompressed bytes in the same
// pass and writes the entries under a private directory with the layer store's path rules.
import { InvalidParameterError, SystemError } from '../errors';
import { loadNative, type NativeExtractResult } from './native';

export type { NativeExtractResult } from './native';

export interface NativeExtractOptions {
  /** The raw bytes (as read, before decompression) are also written here (the layer's blob). */
  teeFd?: number;
  /** false: no digests (they come back as zeros): an archive staged only to be read. */
  digests?: boolean;
  /** Uncompressed bytes read so far; called at most about once per MB. */
  onProgress?: (tarBytes: number) => void;
}

/** Extracts the tar read from `fd` (read to its end; the caller closes it) into `dest`. */
export function extractFromFd(fd: number, dest: string, opts: NativeExtractOptions = {}): Promise<NativeExtractResult> {
  return new Promise((resolve, reject) => {
    loadNative().extractTar({ fd, dest, ...(opts.teeFd !== undefined ? { teeFd: opts.teeFd } : {}), ...(opts.digests === false ? { hash: 0 } : {}) }, (err, result, progress) => {
      if (progress !== undefined && !err && !result) { opts.onProgress?.(progress); return; }
      if (err) reject(err.kind === 'invalid' ? new InvalidParameterError(err.message) : new SystemError(err.message));
      else resolve(result!);
    });
  });
}

/** A pipe for feeding a stream to extractFromFd: [readFd, writeFd]. */
export function nativePipe(): [number, number] {
  return loadNative().pipe();
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
