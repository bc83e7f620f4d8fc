// Overlay mounts of the containers' writable layers, and the reading of /proc/self/mountinfo
// that tells whether one is mounted. Mount, unmount and whatever else reads a writable layer
// (commit, removal) are serialised per container.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { KeyedMutex } from '../../lib/mutex';
import { SystemError } from '../../lib/errors';
import { MNT_DETACH, mountOverlay, mountOverlayAsync, unmount } from '../../lib/sys/mount';
import { unmountHeld } from '../../lib/sys/fsbatch';
import { type IdMapping, idmapMount, usernsFdFor, MOUNTER_STORED_ID } from '../../lib/sys/idmap';

export interface MountInfoLine {
  mountId: number;
  parentId: number;
  /** Where it is mounted (unescaped). */
  mountPoint: string;
  fsType: string;
  source: string;
}

/** `\040` and friends, as the kernel escapes spaces, tabs, newlines and backslashes. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/<pid>/mountinfo (proc(5)): `id parent maj:min root mountpoint opts [tags] - fstype source superopts`. */
export function parseMountInfo(text: string): MountInfoLine[] {
  const out: MountInfoLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const sep = f.indexOf('-', 6);
    out.push({
      mountId: Number(f[0]), parentId: Number(f[1]), mountPoint: unescapeMountPath(f[4]),
      fsType: sep > 0 ? f[sep + 1] ?? '' : '', source: sep > 0 ? unescapeMountPath(f[sep + 2] ?? '') : '',
    });
  }
  return out;
}

/** Every mount point of this process's mount namespace (one read of /proc/self/mountinfo). */
export async function mountPoints(): Promise<Set<string>> {
  let info: string;
  try { info = await fsp.readFile('/proc/self/mountinfo', 'utf8'); } catch { return new Set(); }
  return new Set(parseMountInfo(info).map((m) => m.mountPoint));
}

export async function isMountPoint(p: string): Promise<boolean> {
  return (await mountPoints()).has(p);
}

/**
 * Whether an overlay is mounted at `p`: an overlay has a device of its own, so it differs from
 * its parent directory's. Two stats instead of reading and parsing the whole mount table, which
 * grows with every running container. (Not for bind mounts: those keep the source's device.)
 */
async function overlayMountedAt(p: string): Promise<boolean> {
  const [here, parent] = await Promise.all([fsp.stat(p), fsp.stat(path.dirname(p))]).catch(() => [undefined, undefined]);
  return !!here && !!parent && here.dev !== parent.dev;
}

export interface OverlayDirs {
  /** Lower directories, top first. */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

export class OverlayMounts {
  private readonly locks = new KeyedMutex();

  /** Runs `fn` exclusively with mount, unmount and other `locked` calls for `key`. */
  locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }

  /**
   * Mounts the overlay at `dirs.target` unless something is mounted there already; returns the
   * target. With `idmap`, the overlay is made of idmapped layers (see mountIdmappedOverlay).
   */
  mount(key: string, dirs: () => Promise<OverlayDirs>, idmap?: IdMapping): Promise<string> {
    return this.locked(key, async () => {
      const d = await dirs();
      if (await overlayMountedAt(d.target)) return d.target;
      try {
        if (idmap) await mountIdmappedOverlay(d, idmap);
        else await mountOverlayAsync(d.lowers, d.upper, d.work, d.target);
      } catch (e) {
        throw new SystemError(`mounting overlay for ${key}: ${(e as Error).message}`, { cause: e });
      }
      return d.target;
    });
  }

  /** Unmounts `target`; a no-op when nothing is mounted there. */
  unmount(key: string, target: string): Promise<void> {
    return this.locked(key, async () => {
      // Detached: the container's processes are gone, so nothing can be left writing. The
      // teardown of the last reference (overlay syncs its whole upper filesystem then) runs in
      // the thread that drops it: a directory handle held across the detach makes that the
      // libuv pool's close, not the event loop's umount2: open, umount2 and close are one pool
      // job. Not mounted: EINVAL, ignored.
      await unmountHeld(target, MNT_DETACH);
    });
  }
}

/**
 * User-namespace remapping without chowning a layer: overlayfs cannot itself be idmapped, but
 * its layers can. Each lower dir and the dir holding upper/ and work/ get an idmapped clone
 * (open_tree + mount_setattr) under <upper's parent>/idmap/, the overlay is mounted on those,
 * and the clones are detached at once (overlayfs keeps private clones of its layers). Files
 * stored as uid 0 appear as the remapped root's host uid; what that uid writes is stored as 0,
 * so the upper dir (commit, diff) stays in container ids whatever the mapping.
 *
 * The upper dir's mapping also maps host root (the mounter: overlayfs makes its work dir and
 * whiteouts with the mounter's credentials) to a stored id no container id reaches.
 */
async function mountIdmappedOverlay(d: OverlayDirs, idmap: IdMapping): Promise<void> {
  const holder = path.dirname(d.upper);
  if (path.dirname(d.work) !== holder) throw new Error('idmapped overlay: upper and work dirs must share a parent');
  const base = path.join(holder, 'idmap');
  await fsp.rm(base, { recursive: true, force: true });
  await fsp.mkdir(base, { mode: 0o700 });
  const mounter = { containerId: MOUNTER_STORED_ID, hostId: 0, size: 1 };
  const lowerNs = usernsFdFor(idmap.uids, idmap.gids);
  const upperNs = usernsFdFor([...idmap.uids, mounter], [...idmap.gids, mounter]);
  const made: string[] = [];
  try {
    const lowers: string[] = [];
    for (const [i, lower] of d.lowers.entries()) {
      const at = path.join(base, String(i));
      await fsp.mkdir(at);
      idmapMount(lower, at, lowerNs);
      made.push(at);
      lowers.push(at);
    }
    const upperAt = path.join(base, 'u');
    await fsp.mkdir(upperAt);
    idmapMount(holder, upperAt, upperNs);
    made.push(upperAt);
    mountOverlay(lowers, path.join(upperAt, path.basename(d.upper)), path.join(upperAt, path.basename(d.work)), d.target);
  } finally {
    for (const at of made.reverse()) unmount(at, MNT_DETACH);
    await fsp.rm(base, { recursive: true, force: true }).catch(() => undefined);
  }
}
