// Each container's /etc/passwd and /etc/group for exec's user resolution, read again only when
// either changed: every exec resolves its user, and the two reads through the container's root
// are most of the ~1.3 ms that takes. Whether they changed is asked of the files themselves
// (device, inode, size, mtime, ctime, through the same in-root lookup as the reads), so an
// edit in the container, a replaced file or a new symlink is seen at the next exec.
import * as fs from 'node:fs';
import { InRoot } from '../../lib/sys/inroot';
import { O_PATH } from '../../lib/sys/openat2';
import { readAccountFiles, type AccountFiles } from '../containers/user';

const FILES = ['/etc/passwd', '/etc/group'];

/**
 * A file changed within this long before it was read is not kept: timestamps tick by the
 * kernel's clock (a few ms), so a same-size rewrite that soon could keep its stamp.
 */
const SETTLED_MS = 1000;

interface Entry { stamp: string; files: AccountFiles }

export class AccountFilesCache {
  private readonly byContainer = new Map<string, Entry>();

  async get(containerId: string, rootfs: string): Promise<AccountFiles> {
    const before = stampOf(rootfs);
    const hit = this.byContainer.get(containerId);
    if (hit && before !== undefined && hit.stamp === before.stamp) return hit.files;
    const files = await readAccountFiles(rootfs);
    // the stamp from before the read: a change during it makes the next stamp differ
    if (before !== undefined && before.settled) this.byContainer.set(containerId, { stamp: before.stamp, files });
    else this.byContainer.delete(containerId);
    return files;
  }

  forget(containerId: string): void {
    this.byContainer.delete(containerId);
  }
}

/** What identifies the two files' present contents; undefined when they cannot be looked at. */
function stampOf(rootfs: string): { stamp: string; settled: boolean } | undefined {
  let root: InRoot;
  try {
    root = InRoot.open(rootfs);
  } catch {
    return undefined;
  }
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    let settled = true;
    const parts = FILES.map((p) => {
      let fd: number;
      try {
        fd = root.openFd(p, O_PATH);
      } catch (e) {
        return `-${(e as NodeJS.ErrnoException).code}`;
      }
      try {
        const st = fs.fstatSync(fd, { bigint: true });
        const changed = st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs;
        if (now - changed < BigInt(SETTLED_MS) * 1_000_000n) settled = false;
        return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.mode}`;
      } finally {
        fs.closeSync(fd);
      }
    });
    return { stamp: parts.join('/'), settled };
  } catch {
    return undefined;
  } finally {
    root.close();
  }
}
