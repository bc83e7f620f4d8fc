// docker cp's three calls on a container's filesystem (running or stopped): stat a path, get
// a path as a tar, put a tar into a directory. Paths and errors as Docker's daemon gives them.
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { errorMessage, InvalidParameterError } from '../../../lib/errors';
import { log } from '../../../lib/log';
import { InRoot } from '../../../lib/sys/inroot';
import { O_PATH } from '../../../lib/sys/openat2';
import { extractInto } from '../../../lib/tar/extractInto';
import { writeTree } from '../../../lib/tar/tree';
import { TarWriter } from '../../../lib/tar/writer';
import { resolveUser } from '../user';
import { archivePath, pathStat, resolveArchivePath, type PathStat } from './stat';
import { isReadonlyMount, mountFor, mountsOf, openContainerFs, type ContainerFs, type FsContext } from './view';
import { ownerMapsOf } from '../../usernsRemap';

export type { PathStat } from './stat';
export { RootfsHolds } from './view';
export type ArchiveContext = FsContext;

async function withFs<T>(ctx: ArchiveContext, ref: string, fn: (fsv: ContainerFs) => Promise<T>): Promise<T> {
  const c = ctx.store.get(ref);
  const fsv = await openContainerFs(ctx, c);
  try { return await fn(fsv); } finally { await fsv.close(); }
}

function requirePath(raw: string | null): string {
  if (!raw) throw new InvalidParameterError('path is required');
  // no file has one in its name: the kernel would refuse it (Node throws, which is no client's fault)
  if (raw.includes('\0')) throw new InvalidParameterError(`invalid path ${JSON.stringify(raw)}: a path cannot contain a NUL byte`);
  return raw;
}

/** `HEAD .../archive?path=`: what is at the path (a symlink described, not followed). */
export function statContainerPath(ctx: ArchiveContext, ref: string, raw: string | null): Promise<PathStat> {
  const p = requirePath(raw);
  return withFs(ctx, ref, async (fsv) => {
    const ap = archivePath(p);
    return pathStat(resolveArchivePath(fsv, ap, p, ref), ap);
  });
}

/**
 * `GET .../archive?path=`: the path as a tar whose top entry is the path's base name (a
 * directory's contents under their own names for `dir/.`). Errors before the first byte throw
 * here; later ones end the stream with that error.
 */
export async function getArchive(ctx: ArchiveContext, ref: string, raw: string | null): Promise<{ stat: PathStat; stream: Readable }> {
  const p = requirePath(raw);
  const c = ctx.store.get(ref);
  const fsv = await openContainerFs(ctx, c);
  try {
    const ap = archivePath(p);
    const r = resolveArchivePath(fsv, ap, p, ref);
    const stat = await pathStat(r, ap);
    const out = new TarWriter();
    const mapOwner = ownerMapsOf(c, ctx.config?.remap)?.toContainer;
    void writeTree(out, fsv, { path: ap.abs, name: ap.name, follow: ap.followLast, contents: ap.contents, prefix: ap.name === '.' ? './' : undefined, mapOwner })
      // released before the stream ends: a client that has the whole archive finds the layer unmounted
      .then(async () => { await fsv.close(); await out.finish(); }, async (e: Error) => {
        log.warn('archive cut short', { id: c.Id, path: p, error: errorMessage(e) });
        await fsv.close();
        out.destroy(e);
      })
      .catch((e: Error) => out.destroy(e));
    return { stat, stream: out.stream };
  } catch (e) {
    await fsv.close();
    throw e;
  }
}

export interface PutOptions { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }

/** `PUT .../archive?path=`: extracts the tar `body` into the directory at the path. */
export async function putArchive(ctx: ArchiveContext, ref: string, raw: string | null, body: Readable, opts: PutOptions): Promise<void> {
  const p = requirePath(raw);
  const c = ctx.store.get(ref);
  await withFs(ctx, ref, async (fsv) => {
    const ap = { ...archivePath(p), followLast: true };
    const r = resolveArchivePath(fsv, ap, p, ref);
    if (!r.st.isDirectory()) throw new InvalidParameterError('extraction point is not a directory');
    // Docker's rules: a read-only rootfs takes copies only into its (writable) mounts
    const mount = mountFor(mountsOf(c, ctx.store.dir(c.Id)), ap.abs);
    if (mount && isReadonlyMount(mount)) throw new InvalidParameterError('mounted volume is marked read-only');
    if (!mount && c.HostConfig.ReadonlyRootfs) throw new InvalidParameterError('container rootfs is marked read-only');
    let owner: { uid: number; gid: number } | undefined;
    if (opts.copyUIDGID && c.Config.User) {
      const u = await resolveUser(fsv.locate('/').root.dir, c.Config.User, []);
      owner = { uid: u.uid, gid: u.gid };
    }
    // the destination, opened once, is the root of everything the archive writes
    const fd = r.root.openFd(r.inner, O_PATH | fs.constants.O_DIRECTORY);
    let dest: InRoot;
    try { dest = InRoot.open(`/proc/self/fd/${fd}`); } finally { fs.closeSync(fd); }
    try {
      const mapOwner = ownerMapsOf(c, ctx.config?.remap)?.toHost;
      await extractInto(dest, body, { noOverwriteDirNonDir: opts.noOverwriteDirNonDir, owner, destName: ap.abs, mapOwner });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EROFS') throw new InvalidParameterError(`${ap.abs} is on a read-only file system`, { cause: e });
      throw e;
    } finally {
      dest.close();
    }
  });
}
