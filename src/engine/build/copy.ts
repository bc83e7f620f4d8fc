// COPY and ADD: sources (the build context, another stage's or an image's root, an archive
// ADD extracts) resolved with Docker's rules (globs per path segment, a directory's contents,
// a trailing `/` or several sources meaning a directory) and written into the step's root.
// Both sides are InRoot handles: a symlink in the context or in the image never leads out.
// The checksum of what is copied (content and metadata, not mtimes) is the step's cache key.
import { createHash } from 'node:crypto';
import type * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { cleanInRoot, InRoot, isMissing } from '../../lib/sys/inroot';

export interface CopyOptions {
  /** Owner of everything written; by default the source's (0:0 for the context). */
  chown?: { uid: number; gid: number };
  chmod?: number;
  /** Context files are owned by root in the image whatever the tar said (as Docker). */
  rootOwned?: boolean;
  /** mtime of directories the copy creates and the upper bound of every mtime (SOURCE_DATE_EPOCH). */
  fixedTime: Date;
  clampTime?: Date;
}

const GLOB = /[*?[]/;

function globRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) throw new InvalidParameterError(`syntax error in pattern: ${seg}`);
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replace(/\\/g, '\\\\') + ']';
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += '\\' + seg[++i];
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The paths (absolute in `root`) a source names: itself, or the glob's matches, sorted. */
export async function matchSources(root: InRoot, src: string, what: string): Promise<string[]> {
  const norm = path.posix.normalize(src);
  if (norm === '..' || norm.startsWith('../')) throw new InvalidParameterError(`forbidden path outside the build context: ${src} ()`);
  const clean = cleanInRoot(norm);
  if (!GLOB.test(clean)) {
    if (!(await root.exists(clean).catch(() => false))) {
      throw new NotFoundError(`COPY failed: file not found in ${what}: stat ${clean.slice(1) || '.'}: file does not exist`);
    }
    return [clean];
  }
  let found = ['/'];
  for (const seg of clean.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of found) {
      if (!GLOB.test(seg)) {
        const p = path.posix.join(dir, seg);
        if (await root.exists(p).catch(() => false)) next.push(p);
        continue;
      }
      const re = globRegex(seg);
      let names: string[];
      try { names = await root.readdir(dir); } catch { continue; }
      for (const n of names.sort()) if (re.test(n)) next.push(path.posix.join(dir, n));
    }
    found = next;
  }
  if (!found.length) throw new NotFoundError(`COPY failed: no source files were specified`);
  return found;
}

/** sha256 over the entries under the sources: names, types, modes, owners, sizes, content, link targets. */
export async function checksumSources(root: InRoot, sources: string[], withOwners: boolean): Promise<string> {
  const h = createHash('sha256');
  const walk = async (p: string, rel: string): Promise<void> => {
    const st = await root.lstat(p);
    const own = withOwners ? `${st.uid}:${st.gid}` : '';
    if (st.isDirectory()) {
      h.update(`d ${rel} ${st.mode & 0o7777} ${own}\n`);
      for (const n of (await root.readdir(p)).sort()) await walk(path.posix.join(p, n), `${rel}/${n}`);
    } else if (st.isFile()) {
      const fh = createHash('sha256');
      await pipeline(root.createReadStream(p), fh);
      h.update(`f ${rel} ${st.mode & 0o7777} ${own} ${st.size} ${fh.digest('hex')}\n`);
    } else if (st.isSymbolicLink()) {
      h.update(`l ${rel} ${own} ${await root.readlink(p)}\n`);
    } else {
      h.update(`o ${rel} ${st.mode} ${own}\n`);
    }
  };
  for (const s of sources) await walk(s, s);
  return h.digest('hex');
}

async function lstatIn(root: InRoot, p: string): Promise<fs.Stats | undefined> {
  try { return await root.lstat(p); } catch (e) { if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined; throw e; }
}

/** What a copy changed in the destination's directories, to put their mtimes back afterwards. */
class DirTimes {
  private readonly before = new Map<string, Date | null>();
  constructor(private readonly dst: InRoot, private readonly opts: CopyOptions) {}
  /** Notes `dir` and its parents before anything is written under them. */
  async note(dir: string): Promise<void> {
    // The root's own times are not part of a layer.
    for (let d = cleanInRoot(dir); d !== '/'; d = path.posix.dirname(d)) {
      if (this.before.has(d)) break;
      const st = await lstatIn(this.dst, d);
      this.before.set(d, st && st.isDirectory() ? st.mtime : null);
    }
  }
  /** Existing directories get their mtime back, the ones the copy made get the fixed time. */
  async restore(): Promise<void> {
    for (const [d, t] of [...this.before].sort((a, b) => b[0].length - a[0].length)) {
      const st = await lstatIn(this.dst, d);
      if (!st || !st.isDirectory()) continue;
      const when = t ?? this.opts.fixedTime;
      await this.dst.lutimes(d, when, when);
    }
  }
}

function clamp(t: Date, opts: CopyOptions): Date {
  return opts.clampTime && t > opts.clampTime ? opts.clampTime : t;
}

async function copyEntry(src: InRoot, from: string, dst: InRoot, to: string, opts: CopyOptions, dirs: DirTimes): Promise<void> {
  const st = await src.lstat(from);
  const owner = opts.chown ?? (opts.rootOwned ? { uid: 0, gid: 0 } : { uid: st.uid, gid: st.gid });
  const mode = opts.chmod ?? (st.mode & 0o7777);
  const time = clamp(st.mtime, opts);
  const existing = await lstatIn(dst, to);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) await dst.unlink(to);
    if (!existing || !existing.isDirectory()) {
      await dst.mkdir(to, { mode: 0o700 });
    }
    await dst.lchown(to, owner.uid, owner.gid);
    await dst.chmod(to, mode);
    for (const n of (await src.readdir(from)).sort()) {
      await copyEntry(src, path.posix.join(from, n), dst, path.posix.join(to, n), opts, dirs);
    }
    await dst.lutimes(to, time, time);
    return;
  }
  if (existing?.isDirectory()) throw new InvalidParameterError(`cannot overwrite directory ${to} with non-directory ${from}`);
  if (existing && (existing.isSymbolicLink() || !existing.isFile())) await dst.unlink(to);
  if (st.isFile()) {
    await pipeline(src.createReadStream(from), dst.createWriteStream(to, { mode: 0o600 }));
    await dst.lchown(to, owner.uid, owner.gid);
    await dst.chmod(to, mode);
    await dst.lutimes(to, time, time);
  } else if (st.isSymbolicLink()) {
    await dst.symlink(await src.readlink(from), to, owner);
    await dst.lutimes(to, time, time);
  }
  // devices, fifos, sockets are not copied
}

/**
 * Copies `sources` (absolute in `src`) to `dest` (absolute in `dst`) with Docker's rules.
 * `forceDir` says the destination is a directory (several sources, or a trailing slash).
 */
export async function copyInto(src: InRoot, sources: string[], dst: InRoot, dest: string, forceDir: boolean, opts: CopyOptions): Promise<void> {
  const dirs = new DirTimes(dst, opts);
  const destClean = cleanInRoot(dest);
  const destStat = await lstatIn(dst, destClean);
  const destIsDir = forceDir || (destStat?.isDirectory() ?? false);
  const mk = { mode: 0o755, ...(opts.chown ? { uid: opts.chown.uid, gid: opts.chown.gid } : {}) };
  for (const s of sources) {
    const st = await src.lstat(s);
    if (st.isDirectory()) {
      // A directory's contents go into the destination, which becomes a directory.
      await dirs.note(destClean);
      await dst.mkdirAll(destClean, mk);
      for (const n of (await src.readdir(s)).sort()) {
        await copyEntry(src, path.posix.join(s, n), dst, path.posix.join(destClean, n), opts, dirs);
      }
      continue;
    }
    const target = destIsDir ? path.posix.join(destClean, path.posix.basename(s)) : destClean;
    await dirs.note(path.posix.dirname(target));
    await dst.mkdirAll(path.posix.dirname(target), mk);
    await copyEntry(src, s, dst, target, opts, dirs);
  }
  await dirs.restore();
}

/** A heredoc source (COPY <<EOF): one file with the given content. */
export async function writeHeredoc(dst: InRoot, dest: string, name: string, content: string, forceDir: boolean, opts: CopyOptions): Promise<void> {
  const dirs = new DirTimes(dst, opts);
  const destClean = cleanInRoot(dest);
  const destStat = await lstatIn(dst, destClean);
  const target = forceDir || destStat?.isDirectory() ? path.posix.join(destClean, name) : destClean;
  await dirs.note(path.posix.dirname(target));
  await dst.mkdirAll(path.posix.dirname(target), { mode: 0o755 });
  const owner = opts.chown ?? { uid: 0, gid: 0 };
  await dst.writeFile(target, content, { mode: 0o600 });
  await dst.lchown(target, owner.uid, owner.gid);
  await dst.chmod(target, opts.chmod ?? 0o644);
  await dst.lutimes(target, opts.fixedTime, opts.fixedTime);
  await dirs.restore();
}
