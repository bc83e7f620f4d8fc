// docker rmi: untag vs delete, conflicts and layer release, as Docker's ImageDelete does.
import type { Digest } from '../../lib/digest';
import { ConflictError } from '../../lib/errors';
import { shortId } from '../../lib/ids';
import { familiarString, parseNormalizedNamed, Reference } from '../../lib/reference';
import { DeleteItem, ImageDeps, publishImageEvent } from './types';

interface Conflict {
  hard: boolean;
  used: boolean;
  message: string;
}

const CONFLICT_CHILD = 1;
const CONFLICT_RUNNING = 2;
const CONFLICT_REFERENCE = 4;
const CONFLICT_STOPPED = 8;
const CONFLICT_HARD = CONFLICT_CHILD | CONFLICT_RUNNING;
const CONFLICT_SOFT = CONFLICT_REFERENCE | CONFLICT_STOPPED;

function checkConflict(deps: ImageDeps, id: Digest, mask: number): Conflict | undefined {
  if (mask & CONFLICT_CHILD && deps.store.children(id).length > 0) {
    return { hard: true, used: false, message: 'image has dependent child images' };
  }
  const users = deps.containersUsing(id);
  if (mask & CONFLICT_RUNNING) {
    const c = users.find((u) => u.running);
    if (c) return { hard: true, used: true, message: `image is being used by running container ${shortId(c.id)}` };
  }
  if (mask & CONFLICT_REFERENCE && deps.store.refsOf(id).length > 0) {
    return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
  }
  if (mask & CONFLICT_STOPPED) {
    const c = users.find((u) => !u.running);
    if (c) return { hard: false, used: true, message: `image is being used by stopped container ${shortId(c.id)}` };
  }
  return undefined;
}

function conflictError(id: Digest, c: Conflict): ConflictError {
  return new ConflictError(`conflict: unable to delete ${shortId(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`);
}

/** Tag refs and digest refs of one repository count as a single reference (Docker's isSingleReference). */
function isSingleReference(refs: Reference[]): boolean {
  let tagged = 0;
  const names = new Set<string>();
  for (const r of refs) {
    names.add(`${r.domain}/${r.path}`);
    if (r.digest === undefined) tagged++;
  }
  if (tagged > 1) return false;
  return names.size <= 1;
}

async function untag(deps: ImageDeps, id: Digest, ref: Reference, records: DeleteItem[]): Promise<void> {
  await deps.store.removeRef(ref);
  records.push({ Untagged: familiarString(ref) });
  publishImageEvent(deps, 'untag', id, id);
}

export interface RemoveOptions {
  force?: boolean;
  noprune?: boolean;
}

export async function removeImage(deps: ImageDeps, name: string, opts: RemoveOptions = {}): Promise<DeleteItem[]> {
  const force = !!opts.force;
  const prune = !opts.noprune;
  const img = deps.store.resolve(name);
  const id = img.id;
  const records: DeleteItem[] = [];
  let repoRefs = deps.store.refsOf(id);
  let removedRepositoryRef = false;

  if (!deps.store.isIdReference(name, id)) {
    // A repository reference was given: remove it first.
    if (!force && isSingleReference(repoRefs)) {
      const c = deps.containersUsing(id)[0];
      if (c) {
        throw new ConflictError(`conflict: unable to remove repository reference "${name}" (must force) - container ${shortId(c.id)} is using its referenced image ${shortId(id)}`);
      }
    }
    const parsed = parseNormalizedNamed(name);
    if (parsed.tag === undefined && parsed.digest === undefined) parsed.tag = 'latest';
    if (parsed.digest !== undefined && parsed.tag !== undefined) delete parsed.tag;
    if (deps.store.refTarget(parsed) === id) await untag(deps, id, parsed, records);
    repoRefs = deps.store.refsOf(id);
    // A removed tag takes the repository's digest references with it when no tag of that repo remains.
    if (parsed.digest === undefined) {
      const sameRepo = (r: Reference) => r.domain === parsed.domain && r.path === parsed.path;
      if (!repoRefs.some((r) => r.digest === undefined && sameRepo(r))) {
        for (const r of repoRefs.filter((r) => r.digest !== undefined && sameRepo(r))) await untag(deps, id, r, records);
        repoRefs = deps.store.refsOf(id);
      }
    }
    if (repoRefs.length > 0) return records;
    removedRepositoryRef = true;
  } else if (isSingleReference(repoRefs)) {
    // By ID with at most one tag (within one repository): remove the references, then the image.
    const mask = CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT & ~CONFLICT_REFERENCE);
    const c = checkConflict(deps, id, mask);
    if (c) throw conflictError(id, c);
    for (const r of repoRefs) await untag(deps, id, r, records);
  }

  await deleteHelper(deps, id, records, force, prune, removedRepositoryRef);
  return records;
}

async function deleteHelper(deps: ImageDeps, id: Digest, records: DeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
  const c = checkConflict(deps, id, CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT));
  if (c) {
    const dangling = deps.store.refsOf(id).length === 0;
    if (quiet && (!dangling || c.used)) return;
    throw conflictError(id, c);
  }
  const img = deps.store.get(id);
  const parent = img?.parent || '';
  for (const r of deps.store.refsOf(id)) await untag(deps, id, r, records);
  await deps.store.delete(id);
  publishImageEvent(deps, 'delete', id, id, img);
  records.push({ Deleted: id });
  for (const l of await releaseLayers(deps, img?.chainIds ?? [])) records.push({ Deleted: l });
  if (prune && parent && deps.store.has(parent as Digest)) {
    await deleteHelper(deps, parent as Digest, records, false, true, true);
  }
}

/** Removes the layers of `chainIds` that no remaining image or container needs; returns their chain IDs, top first. */
export async function releaseLayers(deps: ImageDeps, chainIds: Digest[]): Promise<Digest[]> {
  const keep = new Set<Digest>();
  for (const im of deps.store.list()) for (const c of im.chainIds) keep.add(c);
  const removed = await deps.layers.removeUnused(chainIds, keep);
  if (removed.length) await dropCompressedBlobs(deps);
  return removed.map((m) => m.chainId);
}

/**
 * Removes the compressed blobs made for pushes (distmeta's `compressed`) whose layer is gone:
 * the blob first, then the record, so a crash in between leaves a record naming a missing
 * blob (push makes it again), never a blob nothing names.
 */
export async function dropCompressedBlobs(deps: ImageDeps): Promise<void> {
  if (!deps.distMeta) return;
  const layers = deps.layers.list();
  const diffIds = new Set(layers.map((l) => l.diffId));
  const ownBlobs = new Set(layers.map((l) => l.blob?.digest));
  const gone = await deps.distMeta.compressedWithout((d) => diffIds.has(d));
  if (!gone.length) return;
  for (const { blob } of gone) if (!ownBlobs.has(blob.digest)) await deps.content.delete(blob.digest).catch(() => undefined);
  await deps.distMeta.forgetCompressed(gone.map((g) => g.diffId));
}
