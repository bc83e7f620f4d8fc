// RUN --mount (BuildKit's syntax, through the classic protocol): the parsing of each flag's
// `key=value,...` list, the cache mounts' directories kept between builds under
// <data-root>/builder/mounts/, and the removal of the mount points a RUN's container had to
// create (BuildKit's "mount stubs"), so a step's layer holds none of what was mounted.
// The mounts themselves are HostConfig.Mounts of the RUN container (bind and tmpfs).
import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from '../../lib/errors';
import type { InRoot } from '../../lib/sys/inroot';

export type RunMountType = 'cache' | 'bind' | 'tmpfs';
export type CacheSharing = 'shared' | 'locked' | 'private';

export interface RunMount {
  type: RunMountType;
  /** Absolute, normalised. */
  target: string;
  readonly: boolean;
  /** bind (and refused for cache): a stage name or index, or an image; none: the context. */
  from?: string;
  /** bind: the path inside `from` (or the context); default its root. */
  source: string;
  /** cache: the key of the directory (default: the target). */
  id: string;
  sharing: CacheSharing;
  uid: number;
  gid: number;
  mode: number;
  /** tmpfs: bytes, 0 for the kernel's default. */
  size: number;
}

const TYPES = ['cache', 'bind', 'tmpfs', 'secret', 'ssh'];

function parseNumber(key: string, v: string, octal = false): number {
  if (!(octal ? /^0?[0-7]{1,4}$/ : /^\d+$/).test(v)) throw new InvalidParameterError(`invalid value for ${key}: ${v}`);
  return parseInt(v, octal ? 8 : 10);
}

function parseBool(key: string, v: string | undefined): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidParameterError(`invalid value for ${key}: ${v}`);
}

/**
 * One `--mount` value: `type=cache,target=/root/.cache,id=x,sharing=locked,uid=0,gid=0,mode=0755`,
 * `type=bind,target=/src[,from=stage][,source=dir][,rw]`, `type=tmpfs,target=/t[,size=N]`.
 * Keys as BuildKit spells them (target|dst|destination, source|src, readonly|ro, rw|readwrite).
 * `expand` substitutes the build's variables in each value.
 */
export function parseRunMount(raw: string, line: number, expand: (s: string) => string): RunMount {
  const fields = new Map<string, string | undefined>();
  for (const part of raw.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : expand(part.slice(eq + 1).trim());
    fields.set(key, value);
  }
  const type = fields.get('type') ?? 'bind';
  if (!TYPES.includes(type)) throw new InvalidParameterError(`unsupported mount type "${type}" (line ${line})`);
  if (type === 'secret' || type === 'ssh') {
    throw new InvalidParameterError(`RUN --mount=type=${type} is not supported by berth's builder (line ${line}): the classic build protocol carries no ${type === 'secret' ? 'secrets' : 'SSH agent'}`);
  }
  const m: RunMount = {
    type: type as RunMountType, target: '', readonly: type === 'bind', source: '/', id: '', sharing: 'shared',
    uid: 0, gid: 0, mode: 0o755, size: 0,
  };
  const allowed: Record<RunMountType, string[]> = {
    bind: ['type', 'target', 'from', 'source', 'readonly', 'rw'],
    cache: ['type', 'target', 'id', 'sharing', 'uid', 'gid', 'mode', 'readonly', 'rw'],
    tmpfs: ['type', 'target', 'size'],
  };
  const alias: Record<string, string> = { dst: 'target', destination: 'target', src: 'source', ro: 'readonly', readwrite: 'rw' };
  for (const [k0, v] of fields) {
    const k = alias[k0] ?? k0;
    if ((k === 'from' || k === 'source') && m.type === 'cache') {
      throw new InvalidParameterError(`RUN --mount=type=cache,${k0}= is not supported by berth's builder yet (line ${line}): a cache mount starts empty`);
    }
    if (!allowed[m.type].includes(k)) throw new InvalidParameterError(`unexpected key '${k0}' in '${raw}' for mount type ${m.type} (line ${line})`);
    const need = (): string => {
      if (v === undefined || v === '') throw new InvalidParameterError(`invalid value for ${k0}: empty (line ${line})`);
      return v;
    };
    switch (k) {
      case 'type': break;
      case 'target': m.target = need(); break;
      case 'from': m.from = need(); break;
      case 'source': m.source = need(); break;
      case 'id': m.id = need(); break;
      case 'readonly': m.readonly = parseBool(k0, v); break;
      case 'rw': m.readonly = !parseBool(k0, v); break;
      case 'sharing': {
        const s = need();
        if (s !== 'shared' && s !== 'locked' && s !== 'private') throw new InvalidParameterError(`unsupported sharing value "${s}" (line ${line})`);
        m.sharing = s;
        break;
      }
      case 'uid': m.uid = parseNumber(k0, need()); break;
      case 'gid': m.gid = parseNumber(k0, need()); break;
      case 'mode': m.mode = parseNumber(k0, need(), true); break;
      case 'size': m.size = parseSize(need()); break;
    }
  }
  if (!m.target) throw new InvalidParameterError(`mount ${raw}: target is required (line ${line})`);
  return m;
}

/** Docker's sizes: plain bytes or with k/m/g (binary). */
function parseSize(v: string): number {
  const s = /^(\d+)([kmg]?)b?$/i.exec(v);
  if (!s) throw new InvalidParameterError(`invalid size: ${v}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[s[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(s[1]) * mult;
}

/** The target made absolute against the step's working directory, as BuildKit does. */
export function resolveTarget(m: RunMount, workdir: string): void {
  const t = path.posix.resolve(workdir || '/', m.target);
  if (t === '/') throw new InvalidParameterError(`RUN --mount: target can't be '/'`);
  m.target = t;
  if (m.type === 'cache' && !m.id) m.id = t;
}

/**
 * The cache mounts' directories: <root>/<sha256 of the id>/data, made on first use with the
 * mount's uid, gid and mode (later uses keep what is there, as BuildKit). `sharing=locked`
 * waits for other users of the id (in this daemon); `sharing=private` gets a scratch directory
 * of its own when the id is in use (thrown away after the step).
 */
export class CacheMounts {
  private readonly users = new Map<string, number>();
  private readonly locks = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  private dirOf(id: string): string {
    return path.join(this.root, createHash('sha256').update(id).digest('hex'));
  }

  /** The directory for one use of mount `m`, and what to call when the step is done. */
  async acquire(m: RunMount, scratch: string): Promise<{ dir: string; release: () => Promise<void> }> {
    if (m.sharing === 'private' && (this.users.get(m.id) ?? 0) > 0) {
      const dir = path.join(scratch, `cache-${randomBytes(6).toString('hex')}`);
      await this.make(dir, m);
      return { dir, release: () => fsp.rm(dir, { recursive: true, force: true }) };
    }
    let unlock = (): void => undefined;
    if (m.sharing === 'locked') {
      const prev = this.locks.get(m.id) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((r) => { done = r; });
      const chained = prev.then(() => mine);
      this.locks.set(m.id, chained);
      await prev;
      unlock = () => {
        done();
        if (this.locks.get(m.id) === chained) this.locks.delete(m.id);
      };
    }
    this.users.set(m.id, (this.users.get(m.id) ?? 0) + 1);
    try {
      const base = this.dirOf(m.id);
      const dir = path.join(base, 'data');
      if (!(await fsp.stat(dir).catch(() => undefined))) {
        // Made aside and renamed: a crash leaves no half-made cache directory in use.
        await fsp.mkdir(base, { recursive: true, mode: 0o700 });
        const tmp = path.join(base, `.new-${randomBytes(6).toString('hex')}`);
        await this.make(tmp, m);
        await fsp.writeFile(path.join(base, 'id'), m.id);
        await fsp.rename(tmp, dir).catch(async (e) => {
          await fsp.rm(tmp, { recursive: true, force: true });
          if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        });
      }
      return {
        dir,
        release: async () => {
          this.users.set(m.id, (this.users.get(m.id) ?? 1) - 1);
          if (!this.users.get(m.id)) this.users.delete(m.id);
          unlock();
        },
      };
    } catch (e) {
      this.users.set(m.id, (this.users.get(m.id) ?? 1) - 1);
      unlock();
      throw e;
    }
  }

  private async make(dir: string, m: RunMount): Promise<void> {
    await fsp.mkdir(dir, { mode: 0o700 });
    await fsp.chown(dir, m.uid, m.gid);
    await fsp.chmod(dir, m.mode);
  }

  /** Daemon start: directories a crash left half-made go. */
  async reconcile(): Promise<void> {
    for (const d of await fsp.readdir(this.root).catch(() => [] as string[])) {
      for (const n of await fsp.readdir(path.join(this.root, d)).catch(() => [] as string[])) {
        if (n.startsWith('.new-')) await fsp.rm(path.join(this.root, d, n), { recursive: true, force: true });
      }
    }
  }
}

/** What the image has on the way to a mount's target: the first missing path and its parent's times. */
export interface MountStub {
  /** The topmost path the runtime will have made (missing in the image). */
  created: string;
  parent: string;
  parentTimes?: { atime: Date; mtime: Date };
}

/** Finds which part of `target` the image lacks (undefined: the image has it all). */
export async function findStub(image: InRoot, target: string): Promise<MountStub | undefined> {
  let have = '/';
  for (const seg of target.split('/').filter(Boolean)) {
    const next = path.posix.join(have, seg);
    if (!(await image.exists(next))) {
      const st = await image.stat(have).catch(() => undefined);
      return { created: next, parent: have, ...(st ? { parentTimes: { atime: st.atime, mtime: st.mtime } } : {}) };
    }
    have = await image.realpath(next);
  }
  return undefined;
}

/**
 * After the RUN: the mount points the runtime made in the writable layer (its upper dir) are
 * removed when they are still empty directories or files, and the parent's times put back, so
 * the step's layer does not show them (BuildKit's behaviour).
 */
export async function removeStubs(upper: InRoot, stubs: MountStub[]): Promise<void> {
  // Deepest first: a stub inside another's created tree goes before its parent.
  for (const s of [...stubs].sort((a, b) => b.created.length - a.created.length)) {
    await removeEmptyTree(upper, s.created);
    if (s.parentTimes && await upper.exists(s.parent)) {
      await upper.lutimes(s.parent, s.parentTimes.atime, s.parentTimes.mtime).catch(() => undefined);
    }
  }
}

/** Removes `p` if it is an empty file or a tree of empty directories; keeps anything with content. */
async function removeEmptyTree(root: InRoot, p: string): Promise<boolean> {
  const st = await root.lstat(p).catch(() => undefined);
  if (!st) return true;
  if (st.isFile()) {
    if (st.size !== 0) return false;
    await root.unlink(p);
    return true;
  }
  if (!st.isDirectory()) return false;
  let empty = true;
  for (const n of await root.readdir(p)) {
    if (!(await removeEmptyTree(root, path.posix.join(p, n)))) empty = false;
  }
  if (!empty) return false;
  await root.rmdir(p);
  return true;
}
