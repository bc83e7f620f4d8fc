// A container's filesystem as `docker cp` sees it: its root with everything mounted in.
//
// A running container is reached through /proc/<pid>/root, a descriptor of the root of the
// container's own mount namespace: its volumes, binds and tmpfs mounts are there as its
// processes see them, and openat2(RESOLVE_IN_ROOT) against it keeps every lookup inside. The
// pid is checked to still be the container's (the root it leads to is the container's overlay
// root, same device and inode), so a pid reused by a host process never opens the host's /.
//
// A stopped container has no mount namespace: its writable layer is mounted for the copy (and
// unmounted after, unless a start took it meanwhile) and a path is matched against the mounts
// the container's start would make (`mountsOf`), longest destination first. That matching is
// lexical: a symlink in the rootfs that points into a mounted path leads to the rootfs's own
// directory under the mount point, not to the mount (a running container has no such gap).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanInRoot, InRoot } from '../../../lib/sys/inroot';
import { crashPoint } from '../../../lib/crashpoint';
import { log } from '../../../lib/log';
import { errorMessage } from '../../../lib/errors';
import type { MountSpec } from '../../../runtime/types';
import type { ContainerRecord } from '../Container';
import type { ContainerContext } from '../context';
import { containerFileMounts } from '../files';
import { rootfsMountOptions } from '../../usernsRemap';

/** A path of the container, located: the root that holds it and the path inside that root. */
export interface Located {
  root: InRoot;
  path: string;
  /** The container path of `root`'s `/` (for messages and link targets). */
  base: string;
}

export interface ContainerFs {
  /** Where a (cleaned, absolute) container path lives. */
  locate(p: string): Located;
  /** Whether the whole view is one mount namespace (running): pseudo filesystems may appear in it. */
  readonly live: boolean;
  close(): Promise<void>;
}

/**
 * The mounts of a container that is not running, as its start would make them. The one place
 * that knows them for docker cp: volume and bind mounts join here (their MountSpec list).
 */
export function mountsOf(c: ContainerRecord, containerDir: string): MountSpec[] {
  // Volumes and binds hold their data on the host while the container is stopped (a volume's
  // Source is its data directory once made); tmpfs holds nothing then.
  const userMounts: MountSpec[] = (c.MountPoints ?? [])
    .filter((mp) => mp.Type !== 'tmpfs' && mp.Source)
    .map((mp) => ({ destination: mp.Destination, type: 'bind', source: mp.Source, options: ['rbind', mp.RW ? 'rw' : 'ro'] }));
  return [...containerFileMounts(containerDir, c.HostConfig.ReadonlyRootfs), ...userMounts];
}

/** Whether `m` mounts read-only. */
export function isReadonlyMount(m: MountSpec): boolean {
  return m.options.includes('ro');
}

/**
 * The mount (if any) a container path is under, longest destination first; undefined for the
 * rootfs. A file mount only matches its own path.
 */
export function mountFor(mounts: MountSpec[], p: string): MountSpec | undefined {
  const clean = cleanInRoot(p);
  let best: MountSpec | undefined;
  for (const m of mounts) {
    if (m.type !== 'bind') continue; // tmpfs and the like hold nothing while stopped
    const dest = cleanInRoot(m.destination);
    if (clean !== dest && !clean.startsWith(dest === '/' ? '/' : dest + '/')) continue;
    if (!best || dest.length > cleanInRoot(best.destination).length) best = m;
  }
  return best;
}

/** Holds on stopped containers' writable layers, so that one copy's end does not unmount another's. */
export class RootfsHolds {
  private readonly holds = new Map<string, number>();
  take(id: string): void { this.holds.set(id, (this.holds.get(id) ?? 0) + 1); }
  /** Drops a hold; true when it was the last. */
  drop(id: string): boolean {
    const n = (this.holds.get(id) ?? 1) - 1;
    if (n <= 0) { this.holds.delete(id); return true; }
    this.holds.set(id, n);
    return false;
  }
}

export type FsContext = Pick<ContainerContext, 'store' | 'locks' | 'rootfs'> & { holds: RootfsHolds } & Partial<Pick<ContainerContext, 'config' | 'earlyStarts'>>;

/**
 * Opens the filesystem view of container `c` (running or not); close it when done. `layer`:
 * the root filesystem alone, without what is mounted in (docker export).
 */
export async function openContainerFs(ctx: FsContext, c: ContainerRecord, opts: { layer?: boolean } = {}): Promise<ContainerFs> {
  return ctx.locks.run(c.Id, async () => {
    if (!opts.layer && c.State.Running && c.State.Pid > 0) {
      const live = await openLiveRoot(c.State.Pid, (await ctx.rootfs.mountInfo(c.Id)).mergedDir);
      if (live) return liveView(live);
      // the task is exiting: its record catches up shortly; the layer is still there to read
    }
    // A start prepared ahead read the rootfs a copy may change (its account files), and the
    // copy's end unmounts it: undone, the start prepares anew.
    if (!c.State.Running) await ctx.earlyStarts?.cancelLocked(c);
    ctx.holds.take(c.Id);
    let rootfs: InRoot;
    try {
      rootfs = InRoot.open(await ctx.rootfs.mount(c.Id, rootfsMountOptions(c, ctx.config?.remap)));
      crashPoint('archive.after-mount');
    } catch (e) {
      await dropHold(ctx, c); // the lock is held here
      throw e;
    }
    return stoppedView(rootfs, opts.layer ? [] : mountsOf(c, ctx.store.dir(c.Id)), () => releaseRootfs(ctx, c));
  });
}

/** The container's own root through its pid, if that pid's root is still the container's. */
async function openLiveRoot(pid: number, mergedDir: string): Promise<InRoot | undefined> {
  let root: InRoot;
  try {
    root = InRoot.open(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
  try {
    const a = await root.stat('/');
    const b = fs.statSync(mergedDir);
    if (a.dev === b.dev && a.ino === b.ino) return root;
  } catch { /* gone */ }
  root.close();
  return undefined;
}

function liveView(root: InRoot): ContainerFs {
  return {
    live: true,
    locate: (p) => ({ root, path: cleanInRoot(p), base: '/' }),
    async close() { root.close(); },
  };
}

function stoppedView(rootfs: InRoot, mounts: MountSpec[], release: () => Promise<void>): ContainerFs {
  const opened = new Map<string, InRoot>();
  const rootOf = (dir: string): InRoot => {
    let r = opened.get(dir);
    if (!r) { r = InRoot.open(dir); opened.set(dir, r); }
    return r;
  };
  return {
    live: false,
    locate(p) {
      const clean = cleanInRoot(p);
      const m = mountFor(mounts, clean);
      if (!m) return { root: rootfs, path: clean, base: '/' };
      const dest = cleanInRoot(m.destination);
      let st: fs.Stats | undefined;
      try { st = fs.statSync(m.source); } catch { /* missing source: the rootfs's own */ }
      if (!st) return { root: rootfs, path: clean, base: '/' };
      if (st.isDirectory()) {
        return { root: rootOf(m.source), path: clean === dest ? '/' : clean.slice(dest === '/' ? 0 : dest.length), base: dest };
      }
      // a file mount (the /etc files): its directory is the root, only its own name is reachable
      return { root: rootOf(path.dirname(m.source)), path: '/' + path.basename(m.source) + clean.slice(dest.length), base: path.posix.dirname(dest) };
    },
    async close() {
      for (const r of opened.values()) r.close();
      rootfs.close();
      await release();
    },
  };
}

/** Unmounts a stopped container's layer after a copy, unless another copy or a start holds it. */
function releaseRootfs(ctx: FsContext, c: ContainerRecord): Promise<void> {
  return ctx.locks.run(c.Id, () => dropHold(ctx, c));
}

/** releaseRootfs with the container's lock already held (a start cannot be half-way). */
async function dropHold(ctx: FsContext, c: ContainerRecord): Promise<void> {
  if (!ctx.holds.drop(c.Id) || c.State.Running) return;
  await ctx.rootfs.unmount(c.Id).catch((e) => log.warn('unmount after copy failed', { id: c.Id, error: errorMessage(e) }));
}
