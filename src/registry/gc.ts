// Garbage collection: removes blobs that no manifest of any repository references.
//
// It may run while the registry serves. What it never removes: a blob committed or linked
// (ctime of the blob, mtime/ctime of a repository's link) after `now - graceMs`, which covers
// the blobs of uploads in progress and of manifests pushed while gc runs (a manifest PUT
// refreshes the links of the blobs it references before it checks them), and anything the
// second marking, taken just before the sweep, finds referenced. Upload sessions themselves are
// ingests, not blobs: gc does not touch them.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Digest } from '../lib/digest';
import { digestHex } from '../lib/digest';
import { manifestReferences, RegistryStorage } from './storage';

export interface GcOptions {
  dryRun?: boolean;
  /** Blobs younger than this are kept (default 10 minutes). */
  graceMs?: number;
  log?: (line: string) => void;
}

export interface GcResult {
  marked: number;
  removed: Digest[];
  keptRecent: Digest[];
  freedBytes: number;
}

async function mark(storage: RegistryStorage): Promise<Set<Digest>> {
  const live = new Set<Digest>();
  for (const { name } of await storage.repositoryDirs()) {
    for (const rec of await storage.manifests(name)) {
      live.add(rec.digest);
      let doc: unknown;
      try {
        doc = JSON.parse((await storage.content.readBlob(rec.digest)).toString('utf8'));
      } catch {
        continue; // a manifest whose bytes are gone references nothing readable
      }
      const refs = manifestReferences(rec.mediaType, doc);
      refs.blobs.forEach((d) => live.add(d));
      refs.manifests.forEach((d) => live.add(d));
    }
  }
  return live;
}

/** The newest time at which `d` was committed, or linked into any repository. */
async function lastTouched(storage: RegistryStorage, d: Digest, repoDirs: string[]): Promise<number> {
  let t = 0;
  const st = await fsp.stat(storage.content.blobPath(d)).catch(() => undefined);
  if (st) t = Math.max(t, st.ctimeMs, st.mtimeMs);
  for (const dir of repoDirs) {
    const l = await fsp.stat(path.join(dir, 'layers', digestHex(d))).catch(() => undefined);
    if (l) t = Math.max(t, l.ctimeMs, l.mtimeMs);
  }
  return t;
}

export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcResult> {
  const start = Date.now();
  const grace = opts.graceMs ?? 10 * 60_000;
  const log = opts.log ?? (() => undefined);
  const storage = new RegistryStorage(root);
  const first = await mark(storage);
  const candidates = (await storage.content.list()).filter((d) => !first.has(d));
  const repoDirs = (await storage.repositoryDirs()).map((r) => r.dir);
  // Manifests pushed since the first mark reference blobs too: mark again, just before sweeping.
  const second = await mark(storage);
  const result: GcResult = { marked: second.size, removed: [], keptRecent: [], freedBytes: 0 };
  for (const d of candidates) {
    if (second.has(d)) continue;
    if ((await lastTouched(storage, d, repoDirs)) >= start - grace) {
      result.keptRecent.push(d);
      continue;
    }
    const size = (await storage.content.info(d).catch(() => ({ size: 0 }))).size;
    log(`${opts.dryRun ? 'would remove' : 'removing'} ${d} (${size} bytes)`);
    if (!opts.dryRun) await storage.content.delete(d);
    result.removed.push(d);
    result.freedBytes += size;
  }
  return result;
}
