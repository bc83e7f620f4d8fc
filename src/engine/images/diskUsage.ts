// What images take on disk, for `docker system df`: each layer is its extracted diff and its
// blob (the stream it came as: a pull's compressed download, a load's tar; see
// store/layers/LayerStore.ts for why both are kept), plus the gzip blob made for its pushes
// when it is kept uncompressed (distmeta's `compressed`). A blob several layers name counts
// once. An image's size and shared size are its layers' bytes counted this way.
import type { Digest } from '../../lib/digest';
import type { ImageDeps } from './types';

export interface ImagesDiskUsage {
  /** Every layer's bytes, each layer once. */
  layersSize: number;
  /** Per image: its layers' bytes, and those of them another image uses too. */
  images: Map<Digest, { size: number; sharedSize: number }>;
}

async function layerBytes(deps: ImageDeps): Promise<Map<Digest, number>> {
  const out = new Map<Digest, number>();
  const counted = new Set<string>();
  for (const l of deps.layers.list()) {
    let n = l.size;
    if (l.blob && !counted.has(l.blob.digest)) { counted.add(l.blob.digest); n += l.blob.size; }
    const gz = await deps.distMeta?.compressedOf(l.diffId);
    if (gz && !counted.has(gz.digest) && await deps.content.exists(gz.digest)) { counted.add(gz.digest); n += gz.size; }
    out.set(l.chainId, n);
  }
  return out;
}

export async function imagesDiskUsage(deps: ImageDeps): Promise<ImagesDiskUsage> {
  const bytes = await layerBytes(deps);
  const images = deps.store.list();
  const users = new Map<Digest, number>();
  for (const img of images) for (const c of new Set(img.chainIds)) users.set(c, (users.get(c) ?? 0) + 1);
  const out: ImagesDiskUsage = { layersSize: [...bytes.values()].reduce((a, b) => a + b, 0), images: new Map() };
  for (const img of images) {
    let size = 0;
    let sharedSize = 0;
    for (const c of img.chainIds) {
      const n = bytes.get(c) ?? 0;
      size += n;
      if ((users.get(c) ?? 0) > 1) sharedSize += n;
    }
    out.images.set(img.id, { size, sharedSize });
  }
  return out;
}
