// File-system operations Node lacks (mknod, mkfifo, setxattr, listxattr/getxattr), through the
// native addon (lib/sys). Each is one fast syscall done synchronously; long batches yield to the
// event loop now and then. xattr values are raw bytes (Buffers) end to end.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { mknod, mkfifo, S_IFBLK, S_IFCHR } from '../../lib/sys/fsnode';
import { isNativeError } from '../../lib/sys/native';
import { readXattrs, setXattr } from '../../lib/sys/xattr';

export type FsOp =
  | { op: 'mknod'; path: string; kind: 'c' | 'b' | 'p'; mode: number; major: number; minor: number }
  | { op: 'setxattr'; path: string; name: string; value: Buffer };

export interface FsOpError { path: string; op: string; name?: string; errno: number; code: string; msg: string }

/** Ops done between two turns of the event loop. */
const BATCH = 256;

async function removeExisting(p: string): Promise<void> {
  let st;
  try { st = await fsp.lstat(p); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory()) await fsp.rm(p, { recursive: true, force: true });
  else await fsp.unlink(p);
}

/** Applies the ops in order; returns per-op failures (the caller decides which are fatal). */
export async function applyFsOps(ops: FsOp[]): Promise<FsOpError[]> {
  const errs: FsOpError[] = [];
  for (let i = 0; i < ops.length; i++) {
    if (i > 0 && i % BATCH === 0) await yieldLoop();
    const op = ops[i];
    try {
      if (op.op === 'mknod') {
        await removeExisting(op.path);
        if (op.kind === 'p') mkfifo(op.path, op.mode);
        else mknod(op.path, (op.kind === 'c' ? S_IFCHR : S_IFBLK) | (op.mode & 0o7777), op.major, op.minor);
      } else {
        setXattr(op.path, op.name, op.value);
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (!isNativeError(e) && typeof err.code !== 'string') throw e; // a bug, not an fs failure
      errs.push({
        path: op.path, op: op.op, ...(op.op === 'setxattr' ? { name: op.name } : {}),
        errno: Math.abs(err.errno ?? 0), code: err.code ?? 'EUNKNOWN', msg: err.message,
      });
    }
  }
  return errs;
}

/**
 * All extended attributes under `root` (symlinks not followed): relative path ('' = root) ->
 * name -> raw value. Entries without attributes are left out.
 */
export async function readXattrTreeRaw(root: string): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  let n = 0;
  const one = (p: string, rel: string) => {
    let x: Map<string, Buffer>;
    try { x = readXattrs(p); } catch { return; } // vanished meanwhile: as the walk below
    if (x.size > 0) out.set(rel, x);
  };
  one(root, '');
  const walk = async (relDir: string): Promise<void> => {
    let ents;
    try { ents = await fsp.readdir(relDir === '' ? root : path.join(root, relDir), { withFileTypes: true }); } catch { return; }
    for (const d of ents) {
      if (++n % BATCH === 0) await yieldLoop();
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      one(path.join(root, rel), rel);
      if (d.isDirectory()) await walk(rel);
    }
  };
  await walk('');
  return out;
}

/** As readXattrTreeRaw, with values in base64 (for JSON and tests). */
export async function readXattrTree(root: string): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [rel, x] of await readXattrTreeRaw(root)) {
    const d: Record<string, string> = {};
    for (const [k, v] of x) d[k] = v.toString('base64');
    out[rel] = d;
  }
  return out;
}
