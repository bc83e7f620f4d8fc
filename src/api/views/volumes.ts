// The JSON shapes of the volume endpoints and of `system df`'s Volumes, as Docker's.
import type { VolumeRecord } from '../../engine/volumes/types';
import type { VolumeUsage } from '../../engine/volumes/VolumeService';

/** A volume (create's 201, inspect, each item of the list). */
export function volumeView(v: VolumeRecord, mountpoint: string, usage?: VolumeUsage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    CreatedAt: v.CreatedAt,
    Driver: v.Driver,
    Labels: v.Labels,
    Mountpoint: mountpoint,
    Name: v.Name,
    Options: v.Options,
    Scope: 'local',
  };
  if (usage) out.UsageData = { Size: usage.Size, RefCount: usage.RefCount };
  return out;
}

export function volumeListView(items: Record<string, unknown>[]): Record<string, unknown> {
  return { Volumes: items, Warnings: null };
}
