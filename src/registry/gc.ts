// Garbage collection: removes blobs that no manifest of any repository references.
//
// It may run while the registry serves. What it never removes: a blob committed or linked
// (ctime of the blob, mtime/ctime of a repository's link) after `now - graceMs`, which covers
// the blobs of uploads in progress and of manifests pushed while gc runs (a manifest PUT
// refreshes the links of the blobs it references before it checks them), and anything the
// second marking, taken just before the sweep, finds referenced. Upload sessions themselves are
// ingests, not blobs: gc does not touch them. A blob is first moved aside, then the links are
// looked at again: a manifest PUT touches its blobs' links before it checks that they exist, so
// either gc sees the touch and puts the blob back, or the PUT finds it gone (MANIFEST_BLOB_UNKNOWN,
// and the client pushes it again). The aside directory is an anonymous ingest: dropped at the
// registry's next start if gc dies in between.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
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

/** The newest time at which `d` was committed, or linked into any repository (links only: `blob` false). */
async function lastTouched(storage: RegistryStorage, d: Digest, repoDirs: string[], blob = true): Promise<number> {
  let t = 0;
  const st = blob ? await fsp.stat(storage.content.blobPath(d)).catch(() => undefined) : undefined;
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
  const asideDir = path.join(storage.content.root, 'ingest', `anon-gc-${randomBytes(6).toString('hex')}`);
  if (!opts.dryRun) await fsp.mkdir(asideDir, { recursive: true, mode: 0o700 });
  for (const d of candidates) {
    if (second.has(d)) continue;
    if ((await lastTouched(storage, d, repoDirs)) >= start - grace) {
      result.keptRecent.push(d);
      continue;
    }
    const size = (await storage.content.info(d).catch(() => ({ size: 0 }))).size;
    if (!opts.dryRun) {
      const from = storage.content.blobPath(d);
      const aside = path.join(asideDir, digestHex(d));
      try { await fsp.rename(from, aside); } catch { continue; } // gone already
      if ((await lastTouched(storage, d, repoDirs, false)) >= start - grace) {
        await fsp.rename(aside, from);
        result.keptRecent.push(d);
        continue;
      }
      await fsp.rm(aside, { force: true });
    }
    log(`${opts.dryRun ? 'would remove' : 'removed'} ${d} (${size} bytes)`);
    result.removed.push(d);
    result.freedBytes += size;
  }
  await fsp.rm(asideDir, { recursive: true, force: true });
  return result;
}
