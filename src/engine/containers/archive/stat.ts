// `HEAD /containers/{id}/archive`: what is at a container path, as Docker's
// X-Docker-Container-Path-Stat describes it ({name, size, mode (a Go os.FileMode), mtime
// (RFC 3339 with nanoseconds), linkTarget}), and the path rules shared with GET and PUT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidParameterError, NotFoundError } from '../../../lib/errors';
import { cleanInRoot, type InRoot } from '../../../lib/sys/inroot';
import { statIn } from '../../../lib/tar/tree';
import type { ContainerFs } from './view';


export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** A requested path as Docker reads it: cleaned, with its trailing `/` or `/.` meaning kept. */
export interface ArchivePath {
  /** The cleaned absolute path. */
  abs: string;
  /** Ends with `/` or `/.`: the last component is followed if it is a symlink. */
  followLast: boolean;
  /** Ends with `/.` (or is `/`): a directory's contents, not the directory. */
  contents: boolean;
  /** The name the top entry gets in an archive (Docker's filepath.Base of the path). */
  name: string;
}

export function archivePath(raw: string): ArchivePath {
  const abs = cleanInRoot(raw);
  const dot = raw === '.' || raw.endsWith('/.');
  const followLast = dot || raw.endsWith('/') || abs === '/';
  const contents = dot || abs === '/';
  return { abs, followLast, contents, name: dot ? '.' : abs === '/' ? '/' : path.posix.basename(abs) };
}

/** Docker's "Could not find the file ..." (the container as the client named it). */
export function notFound(raw: string, ref: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`Could not find the file ${raw} in container ${ref}`, { cause });
}

// Go's os.FileMode type bits.
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** A Unix st_mode as Go's os.FileMode. */
export function goFileMode(stMode: number): number {
  let m = stMode & 0o777;
  const fmt = stMode & fs.constants.S_IFMT;
  if (fmt === fs.constants.S_IFDIR) m += GO_DIR;
  else if (fmt === fs.constants.S_IFLNK) m += GO_SYMLINK;
  else if (fmt === fs.constants.S_IFIFO) m += GO_PIPE;
  else if (fmt === fs.constants.S_IFSOCK) m += GO_SOCKET;
  else if (fmt === fs.constants.S_IFBLK) m += GO_DEVICE;
  else if (fmt === fs.constants.S_IFCHR) m += GO_DEVICE + GO_CHARDEV;
  if (stMode & 0o4000) m += GO_SETUID;
  if (stMode & 0o2000) m += GO_SETGID;
  if (stMode & 0o1000) m += GO_STICKY;
  return m;
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
export function rfc3339Nano(sec: bigint, nsec: bigint): string {
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const frac = nsec === 0n ? '' : '.' + nsec.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac}Z`;
}

export interface Resolved {
  /** What the path leads to (the last component not followed unless the path asks). */
  st: fs.BigIntStats;
  root: InRoot;
  /** The path inside `root`. */
  inner: string;
  /** The container path of the root's `/`. */
  base: string;
}

/** Finds what a requested path names in the container; NotFound (Docker's text) if nothing. */
export function resolveArchivePath(fsv: ContainerFs, ap: ArchivePath, raw: string, ref: string): Resolved {
  const loc = fsv.locate(ap.abs);
  let st: fs.BigIntStats;
  try {
    st = statIn(loc.root, loc.path, ap.followLast);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw notFound(raw, ref, e);
    // the client's path, not the daemon's fault (and the kernel's message names the host path)
    if (code === 'ENAMETOOLONG') throw new InvalidParameterError(`invalid path ${raw.slice(0, 64)}...: file name too long`, { cause: e });
    throw e;
  }
  // `file/`: Docker's lstat of it fails (not a directory)
  if (raw.endsWith('/') && (Number(st.mode) & fs.constants.S_IFMT) !== fs.constants.S_IFDIR) throw notFound(raw, ref);
  return { st, root: loc.root, inner: loc.path, base: loc.base };
}

/** The stat header's value for a resolved path. */
export async function pathStat(r: Resolved, ap: ArchivePath): Promise<PathStat> {
  const mode = Number(r.st.mode);
  let linkTarget = '';
  if ((mode & fs.constants.S_IFMT) === fs.constants.S_IFLNK) linkTarget = await linkTargetOf(r);
  return {
    name: ap.name,
    size: Number(r.st.size),
    mode: goFileMode(mode),
    mtime: rfc3339Nano(r.st.mtimeNs / 1_000_000_000n, r.st.mtimeNs % 1_000_000_000n),
    linkTarget,
  };
}

/** Where a symlink leads inside the container, fully resolved (a dangling one: as far as it goes). */
async function linkTargetOf(r: Resolved): Promise<string> {
  const join = (p: string) => cleanInRoot(r.base === '/' ? p : r.base + p);
  try {
    return join(await r.root.realpath(r.inner));
  } catch {
    const target = await r.root.readlink(r.inner);
    return join(target.startsWith('/') ? target : path.posix.join(path.posix.dirname(r.inner), target));
  }
}
