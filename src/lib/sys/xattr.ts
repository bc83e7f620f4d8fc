// Extended attributes: [l]setxattr(2), [l]listxattr(2), [l]getxattr(2). Values are raw bytes
// (Buffers) end to end: security.capability and the like are binary. By default symlinks are
// not followed (the l* calls): the layer store works on the entries themselves.
import { isNativeError, loadNative } from './native';

export const XATTR_CREATE = 0x1;
export const XATTR_REPLACE = 0x2;

export interface XattrOptions {
  /** Follow a symlink at `path` (setxattr/listxattr/getxattr instead of the l* calls). */
  follow?: boolean;
}

/** Sets `name` to `value` (raw bytes). Throws Error with .code ('ENOTSUP', 'EPERM', ...). */
export function setXattr(path: string, name: string, value: Buffer | Uint8Array, flags = 0, opts: XattrOptions = {}): void {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  loadNative().setxattr(path, name, buf, flags, opts.follow ?? false);
}

/** Names of the attributes of `path` (those the caller may see). */
export function listXattrs(path: string, opts: XattrOptions = {}): string[] {
  return loadNative().listxattr(path, opts.follow ?? false);
}

/** The raw value of `name`; throws ENODATA if it is not set. */
export function getXattr(path: string, name: string, opts: XattrOptions = {}): Buffer {
  return loadNative().getxattr(path, name, opts.follow ?? false);
}

/**
 * Every attribute of `path` as name -> value, or an empty map if the file system has none
 * (ENOTSUP) or an attribute vanished meanwhile (ENODATA).
 */
export function readXattrs(path: string, opts: XattrOptions = {}): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = listXattrs(path, opts);
  } catch (e) {
    if (isNativeError(e) && (e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP')) return out;
    throw e;
  }
  for (const n of names) {
    try {
      out.set(n, getXattr(path, n, opts));
    } catch (e) {
      if (isNativeError(e) && (e.code === 'ENODATA' || e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP')) continue;
      throw e;
    }
  }
  return out;
}
