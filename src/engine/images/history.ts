// GET /images/{name}/history: newest first; only the top entry carries the image ID and tags.
import { ImageDeps, unixSeconds } from './types';

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export function imageHistory(deps: ImageDeps, name: string): HistoryItem[] {
  const img = deps.store.resolve(name);
  const hist = img.config.history ?? [];
  const items: HistoryItem[] = [];
  let layerIdx = 0;
  for (const h of hist) {
    let size = 0;
    if (!h.empty_layer) {
      const chainId = img.chainIds[layerIdx++];
      size = chainId ? deps.layers.get(chainId)?.size ?? 0 : 0;
    }
    items.push({ Id: '<missing>', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  items.reverse();
  if (items.length) {
    items[0].Id = img.id;
    items[0].Tags = img.repoTags.length ? img.repoTags : null;
  }
  return items;
}
