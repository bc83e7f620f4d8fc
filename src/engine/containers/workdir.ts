// The container's working directory, made before the runtime creates the container (Docker's
// SetupWorkingDirectory): through InRoot, so that a WorkingDir that is, or passes, a symlink
// out of the root, or climbs with `..`, makes its directories inside the container's root and
// never on the host. runc would make a missing one itself, but fails on a dangling symlink.
import { InvalidParameterError } from '../../lib/errors';
import { InRoot } from '../../lib/sys/inroot';

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
