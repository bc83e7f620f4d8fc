// Packs a layer directory (an extracted diff or a container's upper dir) into a tar stream,
// converting overlayfs whiteouts back to OCI ones: a 0/0 character device `<name>` becomes an
// empty file `.wh.<name>`; a directory with trusted.overlay.opaque=y gets `.wh..wh..opq`.
// Ownership, modes, mtimes, hard links and xattrs (as PAX SCHILY.xattr.*, raw bytes) are
// preserved. Entries are sorted by name, so the same tree gives the same bytes.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { readXattrs } from '../../lib/sys/xattr';
import { TarWriter, TarWriteHeader } from '../../lib/tar/writer';
import { paxOfXattrs } from '../../lib/tar/xattrs';
import { OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './extract';

function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

export interface ExportOptions {
  /** Skip reading xattrs. Opaque dirs are then lost. */
  noXattrs?: boolean;
}

/** Returns a tar stream of `dir`'s contents (entries relative, no leading `./`). */
export function exportDir(dir: string, opts: ExportOptions = {}): Readable {
  const out = new TarWriter();
  void (async () => {
    const links = new Map<string, string>();
    const entry = (h: TarWriteHeader, body?: Readable): Promise<void> => out.add(h, body);
    /** The entry's xattrs (without overlay internals) as PAX SCHILY.xattr records, raw bytes. */
    const paxFor = (x: Map<string, Buffer>): { pax?: Map<string, Buffer> } => {
      const kept = [...x].filter(([k]) => !k.startsWith('trusted.overlay.'));
      return kept.length ? { pax: paxOfXattrs(kept) } : {};
    };
    const walk = async (relDir: string): Promise<void> => {
      const names = (await fsp.readdir(relDir === '' ? dir : path.join(dir, relDir))).sort();
      for (const n of names) {
        const rel = relDir === '' ? n : `${relDir}/${n}`;
        const p = path.join(dir, rel);
        const st = await fsp.lstat(p);
        const base = {
          uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: st.mtime,
        };
        const x = opts.noXattrs ? new Map<string, Buffer>() : readXattrs(p);
        const pax = paxFor(x);
        if (st.isCharacterDevice() && st.rdev === 0) {
          const wh = relDir === '' ? WHITEOUT_PREFIX + n : `${relDir}/${WHITEOUT_PREFIX}${n}`;
          await entry({ name: wh, type: 'file', size: 0, ...base, mode: 0o644 });
          continue;
        }
        if (st.isDirectory()) {
          await entry({ name: rel + '/', type: 'directory', ...base, ...pax });
          if (x.get(OPAQUE_XATTR)?.equals(Buffer.from('y'))) {
            await entry({ name: `${rel}/${WHITEOUT_OPAQUE}`, type: 'file', size: 0, ...base, mode: 0o644 });
          }
          await walk(rel);
          continue;
        }
        if (st.isFile()) {
          if (st.nlink > 1) {
            const key = `${st.dev}:${st.ino}`;
            const first = links.get(key);
            if (first) {
              await entry({ name: rel, type: 'link', linkname: first, size: 0, ...base });
              continue;
            }
            links.set(key, rel);
          }
          await entry({ name: rel, type: 'file', size: st.size, ...base, ...pax }, fs.createReadStream(p));
        } else if (st.isSymbolicLink()) {
          await entry({ name: rel, type: 'symlink', linkname: await fsp.readlink(p), ...base, ...pax });
        } else if (st.isCharacterDevice() || st.isBlockDevice()) {
          await entry({
            name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device',
            devmajor: major(st.rdev), devminor: minor(st.rdev), ...base,
          });
        } else if (st.isFIFO()) {
          await entry({ name: rel, type: 'fifo', ...base });
        }
        // sockets are not archived (as Docker)
      }
    };
    await walk('');
    await out.finish();
  })().catch((e) => out.destroy(e as Error));
  return out.stream;
}
