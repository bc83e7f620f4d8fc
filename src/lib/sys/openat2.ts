// openat2(2): path resolution confined to a directory. Callers use InRoot (inroot.ts), which
// holds the root's descriptor and builds the file operations on this one call.
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
