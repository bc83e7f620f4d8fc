// The container's working directory, made before the runtime creates the container (Docker's
// SetupWorkingDirectory): through InRoot, so that a WorkingDir that is, or passes, a symlink
// out of the root, or climbs with `..`, makes its directories inside the container's root and
// never on the host. runc would make a missing one itself, but fails on a dangling symlink.
import * as fs from 'node:fs';
import { InvalidParameterError } from '../../lib/errors';
import { InRoot } from '../../lib/sys/inroot';
import type { MountPoint } from './mountpoints';

/**
 * Makes `workingDir` (and its parents) in `rootfs`, owned by root (`root`: container root's
 * host ids, `owner`, for a remapped container's idmapped rootfs), 0755. '' does nothing.
 */
export async function makeWorkingDir(rootfs: string, workingDir: string, owner = { uid: 0, gid: 0 }): Promise<void> {
  if (!workingDir) return;
  await InRoot.with(rootfs, async (root) => {
    try {
      await root.mkdirAll(workingDir, { mode: 0o755, uid: owner.uid, gid: owner.gid });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST') throw new InvalidParameterError(`Cannot mkdir: ${workingDir} is not a directory`);
      if (code === 'ELOOP') throw new InvalidParameterError(`Cannot mkdir: ${workingDir}: too many levels of symbolic links`);
      throw e;
    }
  });
}

/**
 * Directory mount targets that are dangling symlinks (an image's VOLUME at a link to nowhere),
 * made inside the root where the link leads, as runc does when it mounts; crun refuses them
 * (its openat2 lookup ends at ENOENT). What still fails is the runtime's to report.
 */
export async function makeDanglingMountTargets(rootfs: string, mounts: readonly MountPoint[], owner = { uid: 0, gid: 0 }): Promise<void> {
  const dirs = mounts.filter((m) => m.Type === 'volume' || m.Type === 'tmpfs' || (m.Type === 'bind' && isDir(m.Source)));
  if (dirs.length === 0) return;
  await InRoot.with(rootfs, async (root) => {
    for (const m of dirs) {
      if (!(await root.lstat(m.Destination).then((s) => s.isSymbolicLink(), () => false))) continue;
      if (await root.stat(m.Destination).then(() => true, () => false)) continue;
      await root.mkdirAll(m.Destination, { mode: 0o755, uid: owner.uid, gid: owner.gid }).catch(() => undefined);
    }
  });
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
