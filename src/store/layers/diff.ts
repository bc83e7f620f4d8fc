// What a writable layer changed against the layers below it (`docker diff`): its upper dir read
// as overlayfs leaves it. A 0/0 character device is a deletion, a directory marked opaque hides
// what the lowers had there, anything else is added (absent below) or changed (present below).
// Docker's rules: a directory that exists below is reported changed when something under it
// changed or its own mode/owner did; results are sorted by path.
import type * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readXattrs } from '../../lib/sys/xattr';
import { OPAQUE_XATTR } from './extract';

export const enum ChangeKind { Modify = 0, Add = 1, Delete = 2 }

export interface LayerChange {
  /** Absolute path inside the container (`/etc/passwd`). */
  path: string;
  kind: ChangeKind;
}

export interface ChangeOptions {
  /**
   * Paths (absolute) the runtime creates as mount points (/etc/hosts, /dev, /proc...): Docker
   * keeps them in an init layer, so they are never reported. A path here hides its subtree.
   */
  ignore?: Iterable<string>;
}

async function lstatOrNull(p: string): Promise<fs.Stats | null> {
  try { return await fsp.lstat(p); } catch { return null; }
}

/** Finds `rel` in the lowers (top first), honouring whiteouts and opaque dirs on the way. */
async function inLowers(lowerDirs: string[], rel: string): Promise<fs.Stats | null> {
  const parts = rel.split('/');
  for (const dir of lowerDirs) {
    const st = await lstatOrNull(path.join(dir, rel));
    if (st) return st.isCharacterDevice() && st.rdev === 0 ? null : st;
    // A whiteout or opaque dir on the way hides what lies below it.
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const pst = await lstatOrNull(path.join(dir, prefix));
      if (!pst) break;
      if (pst.isCharacterDevice() && pst.rdev === 0) return null;
      if (pst.isDirectory() && i < parts.length && readXattrs(path.join(dir, prefix)).get(OPAQUE_XATTR)?.equals(Buffer.from('y'))) {
        // The rest of the path was looked for in this layer already (it was absent).
        return null;
      }
    }
  }
  return null;
}

/** Names a directory holds across the lowers (for an opaque directory's deletions). */
async function lowerNames(lowerDirs: string[], rel: string): Promise<Set<string>> {
  const names = new Set<string>();
  const hidden = new Set<string>();
  for (const dir of lowerDirs) {
    let ents: fs.Dirent[];
    try { ents = await fsp.readdir(path.join(dir, rel), { withFileTypes: true }); } catch { continue; }
    for (const e of ents) {
      if (hidden.has(e.name) || names.has(e.name)) continue;
      if (e.isCharacterDevice()) {
        const st = await lstatOrNull(path.join(dir, rel, e.name));
        if (st && st.rdev === 0) { hidden.add(e.name); continue; }
      }
      names.add(e.name);
    }
    if (readXattrs(path.join(dir, rel)).get(OPAQUE_XATTR)?.equals(Buffer.from('y'))) break;
  }
  return names;
}

/** The changes in `upperDir` against `lowerDirs` (top first). */
export async function listChanges(upperDir: string, lowerDirs: string[], opts: ChangeOptions = {}): Promise<LayerChange[]> {
  const ignore = new Set(opts.ignore ?? []);
  const out = new Map<string, ChangeKind>();
  const add = (p: string, k: ChangeKind): void => {
    if (!out.has(p) || k !== ChangeKind.Modify) out.set(p, k);
  };
  /** Marks every existing parent of `abs` as changed (a child was added or deleted). */
  const touchParents = (abs: string): void => {
    for (let d = path.posix.dirname(abs); d !== '/'; d = path.posix.dirname(d)) {
      if (!out.has(d)) out.set(d, ChangeKind.Modify);
    }
  };
  const walk = async (rel: string): Promise<void> => {
    const names = (await fsp.readdir(rel === '' ? upperDir : path.join(upperDir, rel))).sort();
    for (const n of names) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const abs = `/${r}`;
      if (ignore.has(abs)) continue;
      const p = path.join(upperDir, r);
      const st = await lstatOrNull(p);
      if (!st) continue;
      const below = await inLowers(lowerDirs, r);
      if (st.isCharacterDevice() && st.rdev === 0) {
        if (below) { add(abs, ChangeKind.Delete); touchParents(abs); }
        continue;
      }
      if (!below) {
        add(abs, ChangeKind.Add);
        touchParents(abs);
        if (st.isDirectory()) await walk(r);
        continue;
      }
      if (st.isDirectory()) {
        if (!below.isDirectory()) { add(abs, ChangeKind.Modify); touchParents(abs); }
        else if (st.mode !== below.mode || st.uid !== below.uid || st.gid !== below.gid) add(abs, ChangeKind.Modify);
        if (readXattrs(p).get(OPAQUE_XATTR)?.equals(Buffer.from('y'))) {
          const mine = new Set(await fsp.readdir(p));
          for (const gone of await lowerNames(lowerDirs, r)) {
            if (!mine.has(gone)) { add(`${abs}/${gone}`, ChangeKind.Delete); touchParents(`${abs}/${gone}`); }
          }
        }
        await walk(r);
        continue;
      }
      add(abs, ChangeKind.Modify);
      touchParents(abs);
    }
  };
  await walk('');
  return [...out].map(([p, kind]) => ({ path: p, kind })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
