// Safe extraction of a layer tar into a private directory, converting OCI whiteouts to
// overlayfs ones. The destination is a fresh temp dir that nothing else writes to, so
// lstat-based checks cannot be raced. Rules (ours, stricter than Docker's):
// - absolute names are made relative to the layer root; a name that climbs out with `..`
//   is refused;
// - a symlink is never followed: an entry whose parent path contains a symlink is refused,
//   and an existing entry at the target path is unlinked before the new one is created
//   (O_EXCL|O_NOFOLLOW);
// - hard links may only point at entries already extracted inside the layer;
// - `.wh.<name>` -> 0/0 character device `<name>`; `.wh..wh..opq` -> trusted.overlay.opaque=y.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { InvalidParameterError, SystemError } from '../../lib/errors';
import { readTar } from '../../lib/tar/reader';
import { xattrsOfPax } from '../../lib/tar/xattrs';
import { applyFsOps, FsOp } from './fsops';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ExtractResult {
  /** Sum of the sizes of the regular files written (hard links counted once). */
  size: number;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** Cleans a tar entry name to a relative path inside the root ('' is the root itself). */
export function cleanEntryPath(name: string): string {
  const stripped = name.replace(/^\/+/, '');
  const norm = path.posix.normalize(stripped === '' ? '.' : stripped);
  if (norm === '..' || norm.startsWith('../')) {
    throw new InvalidParameterError(`invalid tar entry ${JSON.stringify(name)}: path escapes the layer root`);
  }
  if (norm === '.' || norm === './') return '';
  return norm.replace(/\/+$/, '');
}

interface PendingMeta { rel: string; uid: number; gid: number; mode: number; mtime: Date }

/**
 * Extracts the (uncompressed) tar `src` into `dest`, which must exist and be empty and private.
 * Streams: nothing is buffered beyond one chunk.
 */
export async function extractTar(src: Readable, dest: string): Promise<ExtractResult> {
  try {
    return await consumeEntries(src, dest);
  } catch (e) {
    src.destroy();
    throw e;
  }
}

async function consumeEntries(src: Readable, dest: string): Promise<ExtractResult> {
  const knownDirs = new Set<string>(['']);
  const dirMeta: PendingMeta[] = [];
  const lateMeta: PendingMeta[] = [];
  const ops: FsOp[] = [];
  const opaqueDirs: string[] = [];
  let size = 0;
  let rootMeta: PendingMeta | undefined;

  const abs = (rel: string) => (rel === '' ? dest : path.join(dest, rel));

  /** Makes sure every parent of `rel` is a real directory (creating missing ones), never a symlink. */
  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split('/');
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur === '' ? parts[i] : cur + '/' + parts[i];
      if (knownDirs.has(cur)) continue;
      let st: fs.Stats | undefined;
      try { st = await fsp.lstat(abs(cur)); } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (!st) {
        await fsp.mkdir(abs(cur), { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw new InvalidParameterError(`invalid tar entry ${JSON.stringify(rel)}: refusing to extract through symlink ${JSON.stringify(cur)}`);
      } else if (!st.isDirectory()) {
        throw new InvalidParameterError(`invalid tar entry ${JSON.stringify(rel)}: parent ${JSON.stringify(cur)} is not a directory`);
      }
      knownDirs.add(cur);
    }
  };

  /** Removes whatever is at `rel` unless both it and the new entry are directories. */
  const clearTarget = async (rel: string, newIsDir: boolean): Promise<boolean /* existing dir kept */> => {
    let st: fs.Stats;
    try { st = await fsp.lstat(abs(rel)); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    if (st.isDirectory() && newIsDir) return true;
    if (st.isDirectory()) {
      await fsp.rm(abs(rel), { recursive: true, force: true });
      for (const d of [...knownDirs]) if (d === rel || d.startsWith(rel + '/')) knownDirs.delete(d);
    } else {
      await fsp.unlink(abs(rel));
    }
    return false;
  };

  for await (const entry of readTar(src)) {
    const h = entry.header;
    const rel = cleanEntryPath(h.name);
    const base = path.posix.basename(rel);
    const meta: PendingMeta = {
      rel, uid: h.uid, gid: h.gid, mode: h.mode & 0o7777,
      mtime: h.mtime,
    };

    if (rel === '') {
      if (h.type === 'directory') rootMeta = meta;
      continue;
    }

    // Whiteouts.
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dirRel = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
      await ensureParents(rel);
      if (base === WHITEOUT_OPAQUE) {
        opaqueDirs.push(dirRel);
      } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
        const target = base.slice(WHITEOUT_PREFIX.length);
        if (target === '' || target === '.' || target === '..') {
          throw new InvalidParameterError(`invalid whiteout entry ${JSON.stringify(h.name)}`);
        }
        const targetRel = dirRel === '' ? target : dirRel + '/' + target;
        ops.push({ op: 'mknod', path: abs(targetRel), kind: 'c', mode: 0, major: 0, minor: 0 });
        lateMeta.push({ ...meta, rel: targetRel, mode: 0 });
      }
      // other .wh..wh.* (aufs hard-link dirs and the like) are dropped, as Docker does
      continue;
    }

    await ensureParents(rel);
    switch (h.type) {
      case 'directory': {
        const kept = await clearTarget(rel, true);
        if (!kept) await fsp.mkdir(abs(rel), { mode: 0o700 });
        knownDirs.add(rel);
        await fsp.lchown(abs(rel), meta.uid, meta.gid);
        await fsp.chmod(abs(rel), meta.mode);
        dirMeta.push(meta);
        break;
      }
      case 'file':
      case 'contiguous-file': {
        await clearTarget(rel, false);
        const fh = await fsp.open(abs(rel), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
          for await (const buf of entry.body) {
            let off = 0;
            while (off < buf.length) {
              const { bytesWritten } = await fh.write(buf, off, buf.length - off);
              off += bytesWritten;
            }
          }
          await fh.chown(meta.uid, meta.gid);
          await fh.chmod(meta.mode);
          await fh.utimes(meta.mtime, meta.mtime);
        } finally {
          await fh.close();
        }
        size += h.size;
        break;
      }
      case 'symlink': {
        await clearTarget(rel, false);
        await fsp.symlink(h.linkname, abs(rel));
        await fsp.lchown(abs(rel), meta.uid, meta.gid);
        await fsp.lutimes(abs(rel), meta.mtime, meta.mtime);
        break;
      }
      case 'link': {
        const targetRel = cleanEntryPath(h.linkname);
        if (targetRel === '') throw new InvalidParameterError(`invalid hard link ${JSON.stringify(h.name)}: target is the layer root`);
        // The target's parents must be real directories inside the layer, and the target must exist.
        const parts = targetRel.split('/');
        let cur = '';
        for (let i = 0; i < parts.length - 1; i++) {
          cur = cur === '' ? parts[i] : cur + '/' + parts[i];
          const st = await fsp.lstat(abs(cur)).catch(() => undefined);
          if (!st || !st.isDirectory()) {
            throw new InvalidParameterError(`invalid hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: target is not inside the layer`);
          }
        }
        const tst = await fsp.lstat(abs(targetRel)).catch(() => undefined);
        if (!tst) throw new InvalidParameterError(`invalid hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: target is not inside the layer`);
        if (tst.isDirectory()) throw new InvalidParameterError(`invalid hard link ${JSON.stringify(h.name)}: target is a directory`);
        if (targetRel === rel) break;
        await clearTarget(rel, false);
        await fsp.link(abs(targetRel), abs(rel));
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await clearTarget(rel, false);
        ops.push({
          op: 'mknod', path: abs(rel), kind: h.type === 'fifo' ? 'p' : h.type === 'character-device' ? 'c' : 'b',
          mode: meta.mode, major: h.devmajor, minor: h.devminor,
        });
        lateMeta.push(meta);
        break;
      }
      default:
        // GNU sparse files, volume headers and the like: not something a layer holds
        throw new InvalidParameterError(`invalid tar entry ${JSON.stringify(h.name)}: unsupported type ${JSON.stringify(h.typeflag)}`);
    }
    for (const [name, value] of xattrsOfPax(h.pax)) {
      if (name.startsWith('trusted.overlay.')) continue; // never import overlay internals
      ops.push({ op: 'setxattr', path: abs(rel), name, value });
    }
  }

  for (const d of opaqueDirs) {
    if (d !== '' && !knownDirs.has(d)) {
      const st = await fsp.lstat(abs(d)).catch(() => undefined);
      if (!st) { await fsp.mkdir(abs(d), { mode: 0o755 }); knownDirs.add(d); }
      else if (!st.isDirectory()) continue;
    }
    ops.push({ op: 'setxattr', path: abs(d), name: OPAQUE_XATTR, value: Buffer.from('y') });
  }

  // Later entries may have replaced a parent directory by a symlink: re-check every deferred
  // path before touching it, so that nothing is created or changed outside the layer.
  const safeCache = new Map<string, boolean>();
  const parentsSafe = async (absPath: string): Promise<boolean> => {
    const rel = path.relative(dest, absPath);
    if (rel === '') return true;
    if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
    const parts = rel.split('/');
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur === '' ? parts[i] : cur + '/' + parts[i];
      let ok = safeCache.get(cur);
      if (ok === undefined) {
        const st = await fsp.lstat(abs(cur)).catch(() => undefined);
        ok = !!st && st.isDirectory();
        safeCache.set(cur, ok);
      }
      if (!ok) return false;
    }
    return true;
  };
  for (const op of ops) {
    if (!(await parentsSafe(op.path))) {
      throw new InvalidParameterError(`invalid tar entry ${JSON.stringify(path.relative(dest, op.path))}: refusing to extract through symlink`);
    }
  }
  for (const list of [lateMeta, dirMeta]) {
    for (let i = list.length - 1; i >= 0; i--) if (!(await parentsSafe(abs(list[i].rel)))) list.splice(i, 1);
  }

  const errs = await applyFsOps(ops);
  for (const e of errs) {
    // A missing xattr namespace (e.g. security.selinux on this fs) is tolerated; devices,
    // whiteouts and the opaque marker are not.
    if (e.op === 'setxattr' && e.name !== OPAQUE_XATTR) continue;
    throw new SystemError(`extracting layer: ${e.op} ${e.name ?? ''} ${e.path}: ${e.msg}`);
  }
  for (const m of lateMeta) {
    await fsp.lchown(abs(m.rel), m.uid, m.gid);
    if (m.mode) await fsp.chmod(abs(m.rel), m.mode);
    await fsp.lutimes(abs(m.rel), m.mtime, m.mtime);
  }
  // Directory times last, deepest first, after all their children were written.
  dirMeta.sort((a, b) => b.rel.split('/').length - a.rel.split('/').length);
  for (const m of dirMeta) {
    const st = await fsp.lstat(abs(m.rel)).catch(() => undefined);
    if (st?.isDirectory()) await fsp.lutimes(abs(m.rel), m.mtime, m.mtime);
  }
  if (rootMeta) {
    await fsp.lchown(dest, rootMeta.uid, rootMeta.gid);
    await fsp.chmod(dest, rootMeta.mode);
    await fsp.lutimes(dest, rootMeta.mtime, rootMeta.mtime);
  }
  return { size };
}
