// A tree of files as tar entries (docker cp's GET, docker export, berth cp's upload).
// Every lookup goes through the source's InRoot (openat2 RESOLVE_IN_ROOT): a symlink met in the
// tree is archived as a symlink, never followed, and a path swapped for a symlink during the
// walk still resolves inside the container. A file is opened without following its last
// component and checked to still be a regular file (a FIFO swapped in would block the daemon).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { O_PATH } from '../sys/openat2';
import type { InRoot } from '../sys/inroot';
import type { TarWriter, TarWriteHeader } from './writer';
import { paxOfXattrs } from './xattrs';

/** The extended attributes a copy carries (Docker's: file capabilities), and user.* ones. */
export function carriedXattr(name: string): boolean {
  return name === 'security.capability' || name.startsWith('user.');
}

/** Where the tree's paths are: one root, or several (a container's mounts). */
export interface TreeSource {
  locate(p: string): { root: InRoot; path: string };
  /** A running container's whole view: pseudo filesystems (proc, sysfs...) may be mounted in it. */
  readonly live: boolean;
}

/** lstat (or stat with `follow`) with nanosecond times, through a descriptor opened in the root. */
export function statIn(root: InRoot, p: string, follow = false): fs.BigIntStats {
  const fd = root.openFd(p, O_PATH | (follow ? 0 : O_NOFOLLOW));
  try {
    return fs.fstatSync(fd, { bigint: true });
  } finally {
    fs.closeSync(fd);
  }
}

const { O_NOFOLLOW, O_RDONLY, O_NONBLOCK } = fs.constants;

// Filesystems of a running container whose contents are the kernel's, not files: their
// mount point is archived as a directory, not what is in it (reading /sys or /proc as files
// gives short reads and endless ones).
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x1cd1, 0x19800202, 0x64626720, 0x73636673, 0x74726163, 0xcafe4a11]);

function major(rdev: bigint): number { return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)); }
function minor(rdev: bigint): number { return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)); }

export interface TreeTop {
  /** Container path of the top of the tree. */
  path: string;
  /** Its name in the archive; ignored with `contents`. */
  name: string;
  /** Follow the top if it is a symlink. */
  follow: boolean;
  /** Archive the top directory's contents under their own names, not the directory. */
  contents: boolean;
  /** With `contents`: the prefix of every name ('./' for docker cp's `dir/.`, whose client rebases on '.'). */
  prefix?: string;
  /** The ids archived, from the files' (a remapped container's host ids back to its own). */
  mapOwner?: (o: { uid: number; gid: number }) => { uid: number; gid: number };
}

/** Writes the tree at `top` to `out` (not finished: the caller finishes or destroys it). */
export async function writeTree(out: TarWriter, fsv: TreeSource, top: TreeTop): Promise<void> {
  const links = new Map<string, string>();

  const walk = async (cpath: string, name: string, follow: boolean, self: boolean, parentDev?: bigint): Promise<void> => {
    const loc = fsv.locate(cpath);
    let st: fs.BigIntStats;
    try {
      st = statIn(loc.root, loc.path, follow);
    } catch (e) {
      // gone since its directory was read (a running container changes under the walk)
      const code = (e as NodeJS.ErrnoException).code;
      if (self && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      throw e;
    }
    const ids = { uid: Number(st.uid), gid: Number(st.gid) };
    const { uid, gid } = top.mapOwner ? top.mapOwner(ids) : ids;
    const base: Omit<TarWriteHeader, 'name' | 'type'> = {
      mode: Number(st.mode & 0o7777n), uid, gid, mtime: new Date(Number(st.mtimeMs)),
    };
    const fmt = Number(st.mode) & fs.constants.S_IFMT;
    if (fmt === fs.constants.S_IFDIR) {
      if (self) await out.add({ name: name + '/', type: 'directory', ...base });
      if (fsv.live && (parentDev === undefined || st.dev !== parentDev) && isPseudoFs(loc.root, loc.path)) return;
      let names: string[];
      try {
        names = (await loc.root.readdir(loc.path)).sort();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return; // replaced since it was looked at
        throw e;
      }
      for (const n of names) {
        await walk(path.posix.join(cpath, n), self ? `${name}/${n}` : n, false, true, st.dev);
      }
      return;
    }
    if (!self) return; // contents of something that is not a directory: nothing
    if (fmt === fs.constants.S_IFREG) {
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          await out.add({ name, type: 'link', linkname: first, ...base });
          return;
        }
        links.set(key, name);
      }
      const size = Number(st.size);
      if (size === 0) {
        await out.add({ name, type: 'file', size: 0, ...base });
        return;
      }
      let fd: number;
      try {
        fd = openRegular(loc.root, loc.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone (or moved) since it was looked at
        throw e;
      }
      let pax: Map<string, Buffer> | undefined;
      try {
        const kept = [...(await loc.root.readXattrs(loc.path))].filter(([k]) => carriedXattr(k));
        if (kept.length > 0) pax = paxOfXattrs(kept);
      } catch { /* a file system without xattrs */ }
      await out.add({ name, type: 'file', size, ...base, ...(pax ? { pax } : {}) }, fs.createReadStream('', { fd, autoClose: true }));
    } else if (fmt === fs.constants.S_IFLNK) {
      await out.add({ name, type: 'symlink', linkname: await loc.root.readlink(loc.path), ...base });
    } else if (fmt === fs.constants.S_IFCHR || fmt === fs.constants.S_IFBLK) {
      await out.add({
        name, type: fmt === fs.constants.S_IFCHR ? 'character-device' : 'block-device',
        devmajor: major(st.rdev), devminor: minor(st.rdev), ...base,
      });
    } else if (fmt === fs.constants.S_IFIFO) {
      await out.add({ name, type: 'fifo', ...base });
    }
    // sockets are not archived (as Docker)
  };

  if (top.contents && top.prefix) await walk(top.path, top.prefix.replace(/\/$/, ''), top.follow, true);
  else await walk(top.path, top.name, top.follow, !top.contents);
}

/** A read descriptor of the regular file at `p` (last component not followed). */
function openRegular(root: { openFd(p: string, flags: number): number }, p: string): number {
  const pfd = root.openFd(p, O_PATH | O_NOFOLLOW);
  try {
    if (!fs.fstatSync(pfd).isFile()) throw Object.assign(new Error(`${p}: changed while archived (no longer a regular file)`), { code: 'EINVAL' });
    return fs.openSync(`/proc/self/fd/${pfd}`, O_RDONLY | O_NONBLOCK);
  } finally {
    fs.closeSync(pfd);
  }
}

function isPseudoFs(root: { openFd(p: string, flags: number): number }, p: string): boolean {
  const fd = root.openFd(p, O_PATH);
  try {
    return PSEUDO_FS.has(Number(fs.statfsSync(`/proc/self/fd/${fd}`).type));
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
