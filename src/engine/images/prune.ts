// POST /images/prune: dangling=true (default) removes untagged images; dangling=false ("-a")
// removes every image no container uses. label / label! / until filters narrow it.
import type { Digest } from '../../lib/digest';
import { Filters, checkFilterKeys, matchLabels, matchNotLabels } from '../../lib/filters';
import { ConflictError, isBerthError } from '../../lib/errors';
import { normalizedString } from '../../lib/reference';
import { DeleteItem, ImageDeps } from './types';
import { imageCreated, parseDangling, parseTimestamp } from './list';
import { removeImage } from './remove';

export interface PruneReport {
  ImagesDeleted: DeleteItem[] | null;
  SpaceReclaimed: number;
}

export async function pruneImages(deps: ImageDeps, filters: Filters = new Map()): Promise<PruneReport> {
  checkFilterKeys(filters, ['dangling', 'label', 'label!', 'until']);
  // With the tags file (or an image record) unreadable, a tagged image looks dangling and a
  // parent childless: pruning would delete what the user tagged. Refused rather than skipped,
  // so that the user learns why nothing is pruned and what to repair.
  const unreadable = await deps.store.unreadableRecords();
  if (unreadable.length > 0) {
    throw new ConflictError(`images cannot be pruned while image records are unreadable (tagged images would look dangling): ${unreadable.join(', ')}; repair or delete ${unreadable.length === 1 ? 'it' : 'them'} and restart the daemon (see the quarantine's README)`);
  }
  const danglingOnly = parseDangling(filters) !== false;
  let until: number | undefined;
  for (const v of filters.get('until') ?? []) until = parseTimestamp(v);
  const layerSizes = new Map(deps.layers.list().map((l) => [l.chainId as string, l.size]));
  const deleted: DeleteItem[] = [];

  let candidates = deps.store.list();
  if (danglingOnly) candidates = candidates.filter((img) => deps.store.children(img.id).length === 0);
  for (const img of candidates) {
    if (!deps.store.has(img.id)) continue;
    if (deps.containersUsing(img.id).length > 0) continue;
    const refs = deps.store.refsOf(img.id);
    if (danglingOnly && refs.length > 0) continue;
    const labels = img.config.config?.Labels ?? null;
    if (!matchLabels(labels, filters.get('label')) || !matchNotLabels(labels, filters.get('label!'))) continue;
    if (until !== undefined && imageCreated(img) > until) continue;
    try {
      if (refs.length === 0) {
        deleted.push(...(await removeImage(deps, img.id, { force: false })));
      } else {
        for (const r of refs) {
          if (!deps.store.has(img.id)) break;
          deleted.push(...(await removeImage(deps, normalizedString(r), { force: false })));
        }
      }
    } catch (e) {
      if (isBerthError(e) && (e.kind === 'Conflict' || e.kind === 'NotFound')) continue;
      throw e;
    }
  }
  let reclaimed = 0;
  for (const d of deleted) if (d.Deleted) reclaimed += layerSizes.get(d.Deleted as Digest) ?? 0;
  deps.events?.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
  return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}
