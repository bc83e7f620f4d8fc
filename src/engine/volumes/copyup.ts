// Docker's copy-up: the first time an empty volume is mounted over a directory that the
// container's image fills, that content is copied into the volume, owners, modes, times,
// symlinks, hard links and xattrs kept, and the volume's root takes the directory's owner and
// mode. Both trees are walked through InRoot: a symlink in the image (or one a container
// planted in a shared volume meanwhile) is resolved inside its own tree, never on the host.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InRoot, isMissing } from '../../lib/sys/inroot';
import { log } from '../../lib/log';
import { fsyncDir } from '../../lib/atomic';
import { crashPoint } from '../../lib/crashpoint';

/**
 * Copies `rootfs`'s `dest` into the volume directory `volumeDir` if the volume is empty. With
 * `staging` (an absent directory on the same filesystem) the copy is made there and renamed
 * over the empty `volumeDir` once whole, so a crash never leaves a half-filled volume.
 */
export async function copyUp(rootfs: string, dest: string, volumeDir: string, staging?: string): Promise<boolean> {
  return InRoot.with(rootfs, async (src) => {
    let st: fs.Stats;
    try { st = await src.stat(dest); } catch (e) { if (isMissing(e)) return false; throw e; }
    if (!st.isDirectory()) return false;
    if ((await fsp.readdir(volumeDir)).length > 0) return false;
    const top = await src.realpath(dest);
    const into = staging ?? volumeDir;
    if (staging) {
      await fsp.rm(staging, { recursive: true, force: true });
      await fsp.mkdir(staging, { mode: 0o700 });
    }
    await InRoot.with(into, (dst) => copyTree(src, top, dst, '/', new Map()));
    // The volume's root as the image's directory (ours, a plain host path).
    await fsp.chown(into, st.uid, st.gid);
    await fsp.chmod(into, st.mode & 0o7777);
    if (staging) {
      crashPoint('volume.copyup.before-rename');
      // rename(2) replaces an empty directory in one step.
      await fsp.rename(staging, volumeDir);
      await fsyncDir(path.dirname(volumeDir));
    }
    return true;
  });
}

async function copyTree(src: InRoot, from: string, dst: InRoot, to: string, links: Map<string, string>): Promise<void> {
  for (const name of await src.readdir(from)) {
    const p = path.posix.join(from, name);
    const q = path.posix.join(to, name);
    const st = await src.lstat(p);
    const key = `${st.dev}:${st.ino}`;
    if (!st.isDirectory() && st.nlink > 1 && links.has(key)) {
      await dst.link(links.get(key)!, q);
      continue;
    }
    if (st.isDirectory()) {
      await dst.mkdir(q, { mode: 0o700 });
      await copyTree(src, p, dst, q, links);
    } else if (st.isFile()) {
      await pipeline(src.createReadStream(p), dst.createWriteStream(q, { mode: 0o600, exclusive: true }));
    } else if (st.isSymbolicLink()) {
      await dst.symlink(await src.readlink(p), q);
    } else {
      // Devices, FIFOs and sockets in a VOLUME path are rare; Docker makes device nodes, berth leaves them out.
      log.warn('copy-up skipped a special file', { path: p });
      continue;
    }
    if (st.nlink > 1 && !st.isDirectory()) links.set(key, q);
    await dst.lchown(q, st.uid, st.gid);
    if (!st.isSymbolicLink()) await dst.chmod(q, st.mode & 0o7777);
    for (const [k, v] of await src.readXattrs(p).catch(() => new Map<string, Buffer>())) await dst.setXattr(q, k, v).catch(() => undefined);
    await dst.lutimes(q, st.atime, st.mtime);
  }
}
