// `GET /system/df`: what images, containers, volumes and the build cache take on disk.
// Images carry their shared size and container count; containers their sizes; volumes their
// sizes and users. The build cache does not exist yet: an empty list, as a daemon that has none.
// The wire shape is api/views/system.ts's.
import type { Digest } from '../../lib/digest';
import { InvalidParameterError } from '../../lib/errors';
import type { ContainerService } from '../containers/ContainerService';
import { listContainers, type ListedContainer } from '../containers/list';
import type { ImageService } from '../images/ImageService';
import type { VolumeRecord } from '../volumes/types';
import type { VolumeService, VolumeUsage } from '../volumes/VolumeService';

export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache';
const TYPES: DiskUsageType[] = ['container', 'image', 'volume', 'build-cache'];

/** What was asked for, by type; a type not asked for is absent. */
export interface DiskUsage {
  /** Each layer counted once, however many images share it: its diff and its blobs. */
  layersSize?: number;
  /** Image summaries with SharedSize and Containers filled in. */
  images?: Record<string, unknown>[];
  containers?: ListedContainer[];
  volumes?: { volume: VolumeRecord; mountpoint: string; usage: VolumeUsage }[];
  buildCache?: unknown[];
}

export function parseDiskUsageTypes(values: string[]): Set<DiskUsageType> {
  for (const v of values) if (!TYPES.includes(v as DiskUsageType)) throw new InvalidParameterError(`unknown object type: ${v}`);
  return new Set((values.length ? values : TYPES) as DiskUsageType[]);
}

export async function diskUsage(images: ImageService, containers: ContainerService, types: Set<DiskUsageType>, volumes?: VolumeService): Promise<DiskUsage> {
  const out: DiskUsage = {};
  if (types.has('image')) {
    // Diffs and blobs both (images/diskUsage.ts): what the images really take.
    const du = await images.diskUsage();
    out.layersSize = du.layersSize;
    out.images = images.list({ sharedSize: true, containerCount: true }).map((s) => {
      const sizes = du.images.get(s.Id as Digest);
      return sizes ? { ...s, Size: sizes.size, SharedSize: sizes.sharedSize } : s;
    });
  }
  if (types.has('container')) {
    out.containers = await listContainers(containers, {
      all: true, size: true, filters: new Map(),
      imageId: async (ref) => (await images.resolve(ref).catch(() => undefined))?.id,
    });
  }
  if (types.has('volume')) {
    out.volumes = (await volumes?.usage() ?? []).map((u) => ({ ...u, mountpoint: volumes!.mountpoint(u.volume.Name) }));
  }
  if (types.has('build-cache')) out.buildCache = [];
  return out;
}
