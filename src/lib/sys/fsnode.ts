// mknod(2) and mkfifo(3): device nodes, overlayfs whiteouts (0/0 character devices) and FIFOs
// from image layers. Synchronous: each is one fast syscall on a local file system.
import { loadNative } from './native';

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** mknod(path, mode, makedev(major, minor)); `mode` includes the type (S_IFCHR, ...). Throws Error with .code. */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  loadNative().mknod(path, mode, major, minor);
}

/** An overlayfs whiteout: a 0/0 character device. */
export function mkWhiteout(path: string): void {
  mknod(path, S_IFCHR, 0, 0);
}

export function mkfifo(path: string, mode = 0o644): void {
  loadNative().mkfifo(path, mode & 0o7777);
}
