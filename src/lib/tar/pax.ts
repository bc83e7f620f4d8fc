// PAX extended header records (POSIX.1-2001): `"<len> <key>=<value>\n"`, where <len> counts
// the whole record in bytes, its own digits included. Values are raw bytes: the
// `SCHILY.xattr.<name>` records of GNU tar, Go's archive/tar (so Docker and containerd) carry
// binary xattrs such as security.capability, which a UTF-8 round trip would corrupt.

/** Encodes records; values are bytes (strings are UTF-8). */
export function encodePaxRecords(records: Iterable<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    if (key === '' || key.includes('=') || key.includes('\0') || key.includes('\n')) throw new Error(`invalid PAX key ${JSON.stringify(key)}`);
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), Buffer.from('\n')]);
    // The length counts its own digits.
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len), 'ascii'), body);
  }
  return Buffer.concat(parts);
}

/** Decodes records as bytes. Throws on a malformed record (a layer we cannot read right). */
export function decodePaxRecords(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    // GNU tar and others pad the last record's block with NULs
    if (buf[off] === 0) break;
    const sp = buf.indexOf(0x20, off);
    const digits = sp < 0 ? '' : buf.toString('ascii', off, sp);
    const len = /^[0-9]{1,12}$/.test(digits) ? parseInt(digits, 10) : NaN;
    if (!Number.isFinite(len) || len <= sp - off + 1 || off + len > buf.length || buf[off + len - 1] !== 0x0a) {
      throw new Error(`malformed PAX record at offset ${off}`);
    }
    const rec = buf.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new Error(`malformed PAX record at offset ${off}: no key`);
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}
