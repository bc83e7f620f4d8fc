// gzip in the native addon (native/gzip.c): a file to a file on a thread of its own, with the
// output's sha256 and size; incompressible stretches are stored, not deflated.
import { SystemError } from '../errors';
import type { Digest } from '../digest';
import { loadNative } from './native';

export interface GzipResult {
  digest: Digest;
  size: number;
  /** Bytes read from the source. */
  inBytes: number;
}

/** gzips what `srcFd` holds (read from its offset to the end) into `dstFd` (fdatasync'ed). The caller closes both. */
export function gzipFd(srcFd: number, dstFd: number, level: number): Promise<GzipResult> {
  return new Promise((resolve, reject) => {
    loadNative().gzipFile(srcFd, dstFd, level, (err, r) => {
      if (err || !r) reject(new SystemError(`gzip: ${err?.message ?? 'no result'}`));
      else resolve({ digest: `sha256:${r.digest}` as Digest, size: r.size, inBytes: r.inBytes });
    });
  });
}
