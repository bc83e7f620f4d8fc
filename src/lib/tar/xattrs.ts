// Extended attributes as PAX records: `SCHILY.xattr.<name>=<raw bytes>` (GNU tar, Go, Docker:
// read and written), and libarchive's `LIBARCHIVE.xattr.<url-encoded name>=<base64>` (read).
export const SCHILY_XATTR = 'SCHILY.xattr.';
export const LIBARCHIVE_XATTR = 'LIBARCHIVE.xattr.';

function decodeLibarchiveName(enc: string): string | undefined {
  try { return decodeURIComponent(enc); } catch { return undefined; }
}

/** name -> raw value from an entry's PAX records; SCHILY wins over LIBARCHIVE for one name. */
export function xattrsOfPax(pax: Map<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const schily = new Map<string, Buffer>();
  for (const [k, v] of pax) {
    if (k.startsWith(SCHILY_XATTR)) schily.set(k.slice(SCHILY_XATTR.length), v);
    else if (k.startsWith(LIBARCHIVE_XATTR)) {
      const name = decodeLibarchiveName(k.slice(LIBARCHIVE_XATTR.length));
      if (name) out.set(name, Buffer.from(v.toString('ascii'), 'base64'));
    }
  }
  for (const [k, v] of schily) out.set(k, v);
  return out;
}

/** The PAX records (SCHILY.xattr.*) for `xattrs`, in the given order. */
export function paxOfXattrs(xattrs: Iterable<[string, Buffer]>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of xattrs) out.set(SCHILY_XATTR + k, v);
  return out;
}
