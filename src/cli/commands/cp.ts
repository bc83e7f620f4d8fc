// berth cp: files between a container and the host, both ways, as Docker's CLI copies them
// (the top entry renamed to the destination's name; `-` for a tar on stdin or stdout). What the
// daemon sends is extracted through InRoot into the destination directory, so a hostile
// archive cannot write outside it on this machine either.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { ApiError } from '../../client/errors';
import { InRoot } from '../../lib/sys/inroot';
import { extractInto } from '../../lib/tar/extractInto';
import { writeTree } from '../../lib/tar/tree';
import { TarWriter } from '../../lib/tar/writer';
import { Cli, requireArgs, StatusError } from '../cli';

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;

/** `CONTAINER:PATH` or a local path (absolute or with no colon before a slash), as Docker splits them. */
function splitArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0 || arg.slice(0, i).includes('/')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** A rename of the top entry `from` (and what is under it) to `to`. */
function rebase(from: string, to: string): (name: string) => string {
  return (name) => (name === from || name === from + '/' ? to + name.slice(from.length) : name.startsWith(from + '/') ? to + name.slice(from.length) : name);
}

const cleanHost = (p: string) => path.resolve(p);

export function register(parent: Command, cli: Cli): void {
  parent.command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('[args...]')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy')
    .action(async (args: string[], o: { archive?: boolean; followLink?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 2, 2);
      const src = splitArg(args[0]);
      const dst = splitArg(args[1]);
      if (src.container && dst.container) throw new StatusError(1, 'copying between containers is not supported');
      if (!src.container && !dst.container) throw new StatusError(1, 'must specify at least one container source');
      try {
        if (src.container) await copyFrom(cli, src.container, src.path, dst.path, !!o.followLink);
        else await copyTo(cli, src.path, dst.container!, dst.path, !!o.archive, !!o.followLink);
      } catch (e) {
        if (e instanceof ApiError || e instanceof StatusError) throw e;
        throw new StatusError(1, (e as Error).message);
      }
    });
}

async function copyFrom(cli: Cli, container: string, srcPath: string, dstPath: string, follow: boolean): Promise<void> {
  let from = srcPath;
  let rebaseName: string | undefined;
  if (follow) {
    const st = await cli.client.containerStatPath(container, srcPath);
    if (st.mode & GO_SYMLINK) { from = st.linkTarget; rebaseName = path.posix.basename(srcPath); }
  }
  const { stat, stream } = await cli.client.containerArchive(container, from);
  if (dstPath === '-') {
    await pipeline(stream, cli.out as NodeJS.WritableStream);
    return;
  }
  const isDir = (stat.mode & GO_DIR) !== 0;
  const dst = cleanHost(dstPath);
  let dstStat: fs.Stats | undefined;
  try { dstStat = fs.statSync(dst); } catch { /* missing */ }
  let dir: string;
  let newTop: string | undefined = rebaseName;
  if (dstStat?.isDirectory()) {
    dir = dst;
  } else {
    if (dstStat && isDir) throw new StatusError(1, 'cannot copy a directory to a file');
    if (!dstStat && dstPath.endsWith('/')) throw new StatusError(1, `destination directory "${dstPath}" must exist`);
    dir = path.dirname(dst);
    newTop = path.basename(dst);
  }
  const rename = newTop !== undefined && newTop !== stat.name ? rebase(stat.name, newTop) : undefined;
  await InRoot.with(dir, (root) => extractInto(root, stream, { noOverwriteDirNonDir: true, destName: dir, chown: false, rename }));
}

async function copyTo(cli: Cli, srcPath: string, container: string, dstPath: string, archive: boolean, follow: boolean): Promise<void> {
  const put = (p: string, body: NodeJS.ReadableStream) => cli.client.containerPutArchive(container, p, body as never, { copyUIDGID: archive });
  if (srcPath === '-') return put(dstPath, process.stdin);
  const src = cleanHost(srcPath);
  const st = follow ? fs.statSync(src) : fs.lstatSync(src);
  let dst: Awaited<ReturnType<Cli['client']['containerStatPath']>> | undefined;
  try {
    dst = await cli.client.containerStatPath(container, dstPath);
    // a link as the destination: what it leads to is the destination (as Docker's CLI)
    if (dst.mode & GO_SYMLINK && dst.linkTarget) {
      dstPath = dst.linkTarget;
      dst = await cli.client.containerStatPath(container, dstPath);
    }
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  let into: string;
  let name: string;
  if (dst && dst.mode & GO_DIR) {
    into = dstPath;
    name = path.basename(src);
  } else {
    if (dst && st.isDirectory()) throw new StatusError(1, 'cannot copy a directory to a file');
    if (!dst && dstPath.endsWith('/')) throw new StatusError(1, `destination directory "${container}:${dstPath}" must exist`);
    into = path.posix.dirname(dstPath) || '/';
    name = path.posix.basename(dstPath);
  }
  const out = new TarWriter();
  const root = InRoot.open(path.dirname(src));
  const source = { live: false, locate: (p: string) => ({ root, path: p }) };
  void writeTree(out, source, { path: '/' + path.basename(src), name, follow, contents: false })
    .then(() => out.finish(), (e: Error) => out.destroy(e))
    .catch(() => undefined)
    .finally(() => root.close());
  await put(into, out.stream);
}
