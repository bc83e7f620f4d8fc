// `docker build --cache-from`: local images whose history continues the step's parent become
// cache sources, as the classic builder matches them. A step is a hit on a source when the
// parent's history and layers are a prefix of the source's and the source's next history entry
// has the step's created_by; if that entry is the source's last, the hit is the source itself
// (so a full rebuild yields the source's ID), otherwise an image is made of the parent plus
// that entry (and its layer, which the source's layers already hold). After a hit below the
// top, only that source is followed. Names that are not local images are skipped (dockerd
// logs them and goes on); nothing is pulled for them.
import { isDeepStrictEqual } from 'node:util';
import type { Digest } from '../../lib/digest';
import type { ImageService } from '../images/ImageService';
import type { HistoryEntry, ImageConfig, ImageRecord, ImageRunConfig } from '../../store/images/types';

export class CacheFromSources {
  private constructor(private readonly images: ImageService, private sources: ImageRecord[], readonly missing: string[]) {}

  /** The sources named by `refs` that this daemon has. */
  static async open(images: ImageService, refs: string[]): Promise<CacheFromSources> {
    const found: ImageRecord[] = [];
    const missing: string[] = [];
    for (const r of refs) {
      try {
        const img = await images.resolve(r);
        if (!found.some((f) => f.id === img.id)) found.push(img);
      } catch {
        missing.push(r);
      }
    }
    return new CacheFromSources(images, found, missing);
  }

  /**
   * With --cache-from, a hit of the daemon's own cache counts only when that image is in the
   * ancestry of a source (dockerd's rule: the build follows the images it was pointed at).
   */
  acceptsLocalHit(id: Digest): boolean {
    return this.sources.some((s) => this.isAncestor(id, s));
  }

  /** The image a source gives for the step (`createdBy` on top of `parent`), if any. */
  async match(parent: ImageRecord | null, createdBy: string, config: ImageRunConfig): Promise<ImageRecord | undefined> {
    const depth = parent?.config.history?.length ?? 0;
    for (const src of this.sources) {
      const history = src.config.history ?? [];
      if (!continues(src.config, parent?.config) || history[depth]?.created_by !== createdBy) continue;
      // A history that names more layers than the image has is not one to build on.
      if (!history[depth].empty_layer && layerIndex(history, depth) >= src.config.rootfs.diff_ids.length) continue;
      if (history.length - 1 === depth) return src;
      const img = await this.restore(parent, src, depth, config);
      this.sources = [src];
      return img;
    }
    return undefined;
  }

  /** The parent plus the source's history entry `index` (and its layer): the step's image. */
  private async restore(parent: ImageRecord | null, src: ImageRecord, index: number, config: ImageRunConfig): Promise<ImageRecord> {
    const entry = src.config.history![index];
    const diffIds = [...(parent?.config.rootfs.diff_ids ?? [])];
    if (!entry.empty_layer) diffIds.push(src.config.rootfs.diff_ids[layerIndex(src.config.history!, index)]);
    const out: ImageConfig = {
      architecture: src.config.architecture,
      ...(src.config.variant ? { variant: src.config.variant } : {}),
      os: src.config.os,
      ...(src.config.author ? { author: src.config.author } : {}),
      config,
      ...(entry.created ? { created: entry.created } : {}),
      docker_version: 'berth',
      history: [...(parent?.config.history ?? []), entry],
      rootfs: { type: 'layers', diff_ids: diffIds },
    };
    return this.images.registerImage(Buffer.from(JSON.stringify(out)), parent ? { parent: parent.id } : {});
  }

  private isAncestor(id: Digest, of: ImageRecord): boolean {
    const seen = new Set<Digest>();
    for (let p = of.parent; p && !seen.has(p); p = this.images.store.get(p)?.parent ?? '') {
      if (p === id) return true;
      seen.add(p);
    }
    return false;
  }
}

/** True when `img` continues `parent`: parent's history and layers are a prefix of its own. */
function continues(img: ImageConfig, parent: ImageConfig | undefined): boolean {
  const history = img.history ?? [];
  if (!history.length) return false;
  const ph = parent?.history ?? [];
  const pd = parent?.rootfs.diff_ids ?? [];
  if (!parent || (!ph.length && !pd.length)) return true;
  if (ph.length >= history.length || pd.length > img.rootfs.diff_ids.length) return false;
  return ph.every((h, i) => isDeepStrictEqual(h, history[i])) && pd.every((d, i) => d === img.rootfs.diff_ids[i]);
}

/** The index in rootfs.diff_ids of the layer history entry `index` made. */
function layerIndex(history: HistoryEntry[], index: number): number {
  return history.slice(0, index).filter((h) => !h.empty_layer).length;
}
