// openat2(2): path resolution confined to a directory (for tar extraction and `docker cp`).
import * as fs from 'node:fs';
import { loadNative } from './native';

export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const O_PATH = 0o10000000;

/** openat2(dirfd, path, flags, mode, resolve): a new fd (always O_CLOEXEC). Throws Error with .code. */
export function openat2(dirfd: number, path: string, flags: number, mode = 0, resolve = RESOLVE_IN_ROOT): number {
  return loadNative().openat2(dirfd, path, flags, mode, resolve);
}

/**
 * Opens `path` as if `rootDir` were `/`: symlinks and `..` cannot leave it.
 * `flags` are fs.constants.O_* (e.g. O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW).
 */
export function openInRoot(rootDir: string, path: string, flags: number, mode = 0o644): number {
  const dirfd = fs.openSync(rootDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return openat2(dirfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  } finally {
    fs.closeSync(dirfd);
  }
}
