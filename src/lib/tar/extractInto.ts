// A tar extracted into a directory that someone else controls (docker cp's PUT into a
// container, berth cp's download to the host).
//
// The directory is opened once and becomes the root of every lookup (InRoot, openat2
// RESOLVE_IN_ROOT): an entry named `../x` or `/etc/x`, a symlink the archive planted and then
// writes through, a hard link to `/etc/shadow`, a directory the container swaps for a symlink
// while the copy runs: each resolves inside the destination, never above it, and never on the
// host. On top of that Docker's own refusals hold: names that climb out with `..`, relative
// symlinks that point above the destination and hard links to outside it are errors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError } from '../errors';
import type { InRoot } from '../sys/inroot';
import type { TarHeader } from './header';
import { readTar } from './reader';
import { carriedXattr, statIn } from './tree';
import { xattrsOfPax } from './xattrs';

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (the CLI sends true). */
  noOverwriteDirNonDir: boolean;
  /** Owner of everything extracted (copyUIDGID: the container's user); the archive's ids otherwise. */
  owner?: { uid: number; gid: number };
  /** false: leave ownership to whoever extracts (a client writing to its own disk). Default true. */
  chown?: boolean;
  /** The container path of the destination, for messages. */
  destName: string;
  /** Renames entries (and hard link targets) before they are written (the client's rebasing). */
  rename?: (name: string) => string;
  /** The ids written, from the archive's (or `owner`'s): a remapped container's host ids. */
  mapOwner?: (o: { uid: number; gid: number }) => { uid: number; gid: number };
}

function breakout(what: string): InvalidParameterError {
  return new InvalidParameterError(`invalid tar archive: ${what} is outside of the destination`);
}

/** An entry name as a path below the destination ('/' for the destination itself). */
export function entryPath(name: string): string {
  const norm = path.posix.normalize(name.replace(/^\/+/, '') || '.');
  if (norm === '..' || norm.startsWith('../')) throw breakout(JSON.stringify(name));
  return '/' + (norm === '.' || norm === './' ? '' : norm.replace(/\/+$/, ''));
}

/** Whether a relative symlink target, seen from `p`'s directory, climbs above the destination. */
function climbsOut(p: string, target: string): boolean {
  if (target.startsWith('/')) return false; // absolute: resolved inside the root it is read in
  let depth = path.posix.dirname(p).split('/').filter(Boolean).length;
  for (const part of target.split('/')) {
    if (part === '..') { if (--depth < 0) return true; } else if (part !== '' && part !== '.') depth++;
  }
  return false;
}

/** Removes what is at `p` (recursively for a directory), never following a symlink. */
async function removeTree(root: InRoot, p: string): Promise<void> {
  const st = statIn(root, p);
  if ((Number(st.mode) & fs.constants.S_IFMT) !== fs.constants.S_IFDIR) return root.unlink(p);
  for (const n of await root.readdir(p)) await removeTree(root, path.posix.join(p, n));
  await root.rmdir(p);
}

const S_TYPE: Partial<Record<TarHeader['type'], number>> = {
  'character-device': fs.constants.S_IFCHR, 'block-device': fs.constants.S_IFBLK, fifo: fs.constants.S_IFIFO,
};

/** Extracts the tar `src` into `root` (the destination directory opened as a root). */
export async function extractInto(root: InRoot, src: Readable, opts: ExtractOptions): Promise<void> {
  const dirTimes: { p: string; mtime: Date }[] = [];
  const shown = (p: string) => path.posix.join(opts.destName, p);
  try {
    for await (const { header: h, body } of readTar(src)) {
      if (opts.rename) {
        h.name = opts.rename(h.name);
        if (h.type === 'link') h.linkname = opts.rename(h.linkname);
      }
      const p = entryPath(h.name);
      if (p === '/') continue; // the destination itself is kept as it is
      if (h.type === 'unsupported' || h.type === 'gnu-long-name' || h.type === 'gnu-long-link-name') {
        throw new InvalidParameterError(`invalid tar archive: ${JSON.stringify(h.name)}: unhandled tar header type ${JSON.stringify(h.typeflag)}`);
      }
      const isDir = h.type === 'directory';
      await root.mkdirAll(path.posix.dirname(p));

      let kept = false;
      let existing: fs.BigIntStats | undefined;
      try { existing = statIn(root, p); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
      if (existing) {
        const wasDir = (Number(existing.mode) & fs.constants.S_IFMT) === fs.constants.S_IFDIR;
        if (opts.noOverwriteDirNonDir && wasDir && !isDir) {
          throw new InvalidParameterError(`cannot overwrite directory ${JSON.stringify(shown(p))} with non-directory ${JSON.stringify(h.name)}`);
        }
        if (opts.noOverwriteDirNonDir && !wasDir && isDir) {
          throw new InvalidParameterError(`cannot overwrite non-directory ${JSON.stringify(shown(p))} with directory ${JSON.stringify(h.name)}`);
        }
        if (wasDir && isDir) kept = true;
        else await removeTree(root, p);
      }

      switch (h.type) {
        case 'directory':
          if (!kept) await root.mkdir(p, { mode: 0o700 });
          break;
        case 'file':
        case 'contiguous-file':
          // exclusive and not following: whatever raced into the name meanwhile is not written through
          await pipeline(body, root.createWriteStream(p, { mode: 0o600, exclusive: true }));
          break;
        case 'symlink':
          if (climbsOut(p, h.linkname)) throw breakout(`symlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}`);
          await root.symlink(h.linkname, p);
          break;
        case 'link': {
          const target = h.linkname.replace(/^\/+/, '');
          const norm = path.posix.normalize(target || '.');
          if (norm === '..' || norm.startsWith('../') || norm === '.') throw breakout(`hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}`);
          await root.link('/' + norm, p);
          break;
        }
        default: {
          const type = S_TYPE[h.type];
          if (type === undefined) throw new InvalidParameterError(`invalid tar archive: ${JSON.stringify(h.name)}: unhandled tar header type ${h.type}`);
          await root.mknod(p, type | (h.mode & 0o7777), h.devmajor, h.devminor);
        }
      }
      if (h.type === 'link') continue; // a hard link shares its target's inode and metadata
      const given = opts.owner ?? { uid: h.uid, gid: h.gid };
      const owner = opts.mapOwner ? opts.mapOwner(given) : given;
      if (opts.chown !== false) await root.lchown(p, owner.uid, owner.gid);
      // after chown, which clears setuid/setgid; a symlink's own mode means nothing on Linux
      if (h.type !== 'symlink') await root.chmod(p, h.mode & 0o7777);
      // last: chown drops security.capability
      if (h.type === 'file' || h.type === 'contiguous-file') {
        for (const [k, v] of xattrsOfPax(h.pax)) if (carriedXattr(k)) await root.setXattr(p, k, v);
      }
      if (isDir) dirTimes.push({ p, mtime: h.mtime });
      else await root.lutimes(p, h.mtime, h.mtime);
    }
    // directories last: the entries written into them changed their times
    for (const d of dirTimes.reverse()) await root.lutimes(d.p, d.mtime, d.mtime).catch(() => undefined);
  } catch (e) {
    // the reader has stopped reading; the caller drains what is left and answers
    throw e;
  }
}
