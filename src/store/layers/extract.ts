// Safe extraction of a layer tar into a private directory, converting OCI whiteouts to
// overlayfs ones. The work is done by native/extract.c on a thread of its own (one pass:
// read, decompress, sha256 of the raw and of the uncompressed stream, write); this module
// feeds it an fd (the file under an unread fs.ReadStream) or, for any other stream, its Buffers
// (extractFromChunks). The destination is a fresh temp dir that nothing else writes to. Rules (ours,
// stricter than Docker's), each with a test in test/integration/layer-extract-safety.test.ts:
// - absolute names are made relative to the layer root; a name that climbs out with `..`
//   is refused;
// - a symlink is never followed: every parent is resolved beneath the root with
//   openat2(RESOLVE_NO_SYMLINKS), so an entry whose parent path holds a symlink is refused;
//   an existing entry at the target path is unlinked before the new one is created
//   (O_EXCL|O_NOFOLLOW);
// - hard links may only point at entries already extracted inside the layer, never at a
//   directory;
// - `.wh.<name>` -> 0/0 character device `<name>`; `.wh..wh..opq` -> trusted.overlay.opaque=y;
//   other `.wh..wh.*` are dropped (as Docker does); trusted.overlay.* xattrs are never imported;
// - device nodes, FIFOs, xattrs (PAX SCHILY.xattr.* and LIBARCHIVE.xattr.*), ownership,
//   modes (set-id and sticky bits too) and mtimes are kept.
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { Digest } from '../../lib/digest';
import { extractFromChunks, extractFromFd } from '../../lib/sys/untar';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ExtractResult {
  /** Sum of the sizes of the regular files written (hard links counted once). */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** sha256 and length of the stream as given (compressed or not). */
  rawDigest: Digest;
  rawBytes: number;
  /** Length of the uncompressed tar. */
  tarBytes: number;
  compression: 'none' | 'gzip' | 'zstd';
}

export interface ExtractOptions {
  /** The stream's raw bytes are also written to this fd, in the same pass (a layer's blob). */
  teeFd?: number;
  /** Uncompressed bytes read so far (about once per MB). */
  onProgress?: (bytes: number) => void;
  /** false: skip both sha256s (diffId and rawDigest come back as zeros): staging, not layers. */
  digests?: boolean;
  /** An unread file stream is left open after extraction (the caller destroys it). */
  keepOpen?: boolean;
}

/** The fd under `src` when it is a file stream nobody has read from yet (read directly, no copy through JS). */
function unreadFileFd(src: Readable): number | undefined {
  if (!(src instanceof fs.ReadStream)) return undefined;
  const s = src as fs.ReadStream & { fd: number | null; start?: number; end?: number; pending: boolean };
  if (typeof s.fd !== 'number' || s.bytesRead !== 0 || s.start !== undefined || (s.end !== undefined && s.end !== Infinity)) return undefined;
  if (s.readableFlowing || s.readableLength > 0 || s.destroyed) return undefined;
  return s.fd;
}

/**
 * Extracts the tar `src` (uncompressed, gzip or zstd) into `dest`, which must exist, be
 * empty and private. Reads `src` to its end (bytes after the end-of-archive blocks included:
 * the digests cover them). On failure `dest` holds a partial tree: the caller removes it.
 */
export async function extractTar(src: Readable, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const direct = unreadFileFd(src);
  const native = {
    ...(opts.teeFd !== undefined ? { teeFd: opts.teeFd } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.digests === false ? { digests: false } : {}),
  };
  const toResult = (r: Awaited<ReturnType<typeof extractFromFd>>): ExtractResult => ({
    size: r.size, diffId: `sha256:${r.diffId}` as Digest, rawDigest: `sha256:${r.rawDigest}` as Digest,
    rawBytes: r.rawBytes, tarBytes: r.tarBytes, compression: r.compression,
  });
  if (direct !== undefined) {
    try {
      return toResult(await extractFromFd(direct, dest, native));
    } finally {
      if (!opts.keepOpen) src.destroy();
    }
  }
  try {
    return toResult(await extractFromChunks(src, dest, native));
  } finally {
    src.destroy();
  }
}
