// Overlay mounts of the containers' writable layers, and the reading of /proc/self/mountinfo
// that tells whether one is mounted. Mount, unmount and whatever else reads a writable layer
// (commit, removal) are serialised per container.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { KeyedMutex } from '../../lib/mutex';
import { SystemError } from '../../lib/errors';
import { MNT_DETACH, mountOverlay, unmount } from '../../lib/sys/mount';

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

export async function isMountPoint(p: string): Promise<boolean> {
  let info: string;
  try { info = await fsp.readFile('/proc/self/mountinfo', 'utf8'); } catch { return false; }
  return parseMountInfo(info).some((m) => m.mountPoint === p);
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

  /** Mounts the overlay at `dirs.target` unless something is mounted there already; returns the target. */
  mount(key: string, dirs: () => Promise<OverlayDirs>): Promise<string> {
    return this.locked(key, async () => {
      const d = await dirs();
      if (await overlayMountedAt(d.target)) return d.target;
      try {
        mountOverlay(d.lowers, d.upper, d.work, d.target);
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
      // libuv pool's close, not the event loop's umount2. Not mounted: EINVAL, ignored.
      const held = await fsp.open(target, 'r').catch(() => undefined);
      if (!held) return;
      try {
        unmount(target, MNT_DETACH);
      } finally {
        await held.close();
      }
    });
  }
}
