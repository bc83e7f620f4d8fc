// Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP) and the user namespaces that carry their
// mappings. One namespace fd per distinct mapping, opened once and kept for the daemon's life.
import * as fs from 'node:fs';
import { loadNative } from './native';

/** One line of a uid_map / gid_map: container ids [containerId, containerId+size) are host ids [hostId, ...). */
export interface IdMapEntry { containerId: number; hostId: number; size: number }

export function idMapText(entries: readonly IdMapEntry[]): string {
  return entries.map((e) => `${e.containerId} ${e.hostId} ${e.size}\n`).join('');
}

/** A container's uid and gid mappings (OCI linux.uidMappings / gidMappings). */
export interface IdMapping { uids: IdMapEntry[]; gids: IdMapEntry[] }

/** The stored id of what host root makes through an idmapped upper dir (overlayfs's whiteouts, work dir). */
export const MOUNTER_STORED_ID = 4294967294;

/** The host id of container id `id` under `entries`; undefined when it is not mapped. */
export function toHostId(entries: readonly IdMapEntry[], id: number): number | undefined {
  const e = entries.find((m) => id >= m.containerId && id < m.containerId + m.size);
  return e ? e.hostId + (id - e.containerId) : undefined;
}

/** The container id of host id `id` under `entries`; undefined when it is not mapped. */
export function toContainerId(entries: readonly IdMapEntry[], id: number): number | undefined {
  const e = entries.find((m) => id >= m.hostId && id < m.hostId + m.size);
  return e ? e.containerId + (id - e.hostId) : undefined;
}

const usernsFds = new Map<string, number>();

/** The fd of a user namespace with these mappings (cached per mapping). */
export function usernsFdFor(uids: readonly IdMapEntry[], gids: readonly IdMapEntry[]): number {
  const uidMap = idMapText(uids);
  const gidMap = idMapText(gids);
  const key = `${uidMap}|${gidMap}`;
  let fd = usernsFds.get(key);
  if (fd === undefined) {
    fd = loadNative().usernsOpen(uidMap, gidMap);
    usernsFds.set(key, fd);
  }
  return fd;
}

/** Closes the cached namespace fds (the namespaces go with the last reference). */
export function closeUsernsFds(): void {
  for (const fd of usernsFds.values()) fs.closeSync(fd);
  usernsFds.clear();
}

/** Mounts at `dst` the mount at `src` as seen through the mappings of the namespace `usernsFd`. */
export function idmapMount(src: string, dst: string, usernsFd: number): void {
  loadNative().idmapMount(src, dst, usernsFd);
}

/** Makes a user namespace with `m` and a network namespace it owns, bound at the two (existing, empty) files. */
export function bindUsernsNetns(m: IdMapping, usernsFile: string, netnsFile: string): void {
  loadNative().usernsNetns(idMapText(m.uids), idMapText(m.gids), usernsFile, netnsFile);
}
