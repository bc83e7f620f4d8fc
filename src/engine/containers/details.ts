// What the engine knows of a container beyond its record, for inspect and list: the paths of
// its files, its writable layer, its running execs, what it masks, its sizes. The wire shapes
// built from these (and any per-API-version difference) are in api/views/containers.ts.
import type { EventEmitter } from 'node:events';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../runtime/defaults';
import type { ContainerRecord } from './Container';
import { containerFiles, type ContainerFiles } from './files';
import type { ContainerService } from './ContainerService';
import type { ContainerNetworkView } from './context';
import type { RootfsStore } from './ports';

/** Docker's sizes: `rw` is the writable layer, `rootFs` that plus the image's layers. */
export interface ContainerSizes { rw: number; rootFs: number }

/** The overlay directories of a container's root filesystem. */
export interface ContainerLayer { lowerDirs: string[]; upperDir: string; workDir: string; mergedDir: string }

export interface ContainerDetails {
  record: ContainerRecord;
  files: ContainerFiles;
  logPath: string;
  layer: ContainerLayer;
  /** The running exec sessions, null when none (Docker's ExecIDs). */
  execIds: string[] | null;
  /** The paths the container's spec masks and makes read-only: none when privileged. */
  maskedPaths: readonly string[];
  readonlyPaths: readonly string[];
  sizes?: ContainerSizes;
  /** Live endpoints and published ports (none when stopped or without networks). */
  network?: ContainerNetworkView;
  /** The network namespace's path (Docker's SandboxKey), while running. */
  sandboxKey?: string;
}

/**
 * Each container's overlay dirs, read from the layer store once: they are fixed from the
 * container's create to its removal (its writable layer's parent chain never changes), and
 * inspect (before every CLI exec) and exec ask for them on every call. The layer store's
 * record stays the source; an entry goes with its container.
 */
export class ContainerLayers {
  private readonly byId = new Map<string, ContainerLayer>();

  constructor(private readonly rootfs: Pick<RootfsStore, 'mountInfo'>, lifecycle: EventEmitter) {
    lifecycle.on('removed', (c: ContainerRecord) => this.byId.delete(c.Id));
  }

  /** The container's dirs: from memory after the first call (a missing layer throws, as the store). */
  of(id: string): ContainerLayer | Promise<ContainerLayer> {
    return this.byId.get(id) ?? Promise.resolve(this.rootfs.mountInfo(id)).then((m) => {
      const layer = { lowerDirs: m.lowerDirs, upperDir: m.upperDir, workDir: m.workDir, mergedDir: m.mergedDir };
      this.byId.set(id, layer);
      return layer;
    });
  }
}

export async function containerDetails(svc: ContainerService, c: ContainerRecord, withSize: boolean): Promise<ContainerDetails> {
  const layer = await svc.layers.of(c.Id);
  const h = c.HostConfig;
  const network = svc.deps.networks?.view(c.Id);
  return {
    record: c,
    files: containerFiles(svc.store.dir(c.Id)),
    logPath: svc.logPath(c.Id),
    layer,
    execIds: svc.runningExecs.ids(c.Id),
    maskedPaths: h.Privileged ? [] : h.MaskedPaths ?? DEFAULT_MASKED_PATHS,
    readonlyPaths: h.Privileged ? [] : h.ReadonlyPaths ?? DEFAULT_READONLY_PATHS,
    ...(withSize ? { sizes: await containerSizes(svc, c) } : {}),
    ...(network ? { network, sandboxKey: network.netns } : {}),
  };
}

export async function containerSizes(svc: ContainerService, c: ContainerRecord): Promise<ContainerSizes> {
  const rw = await svc.rootfs.diffSize(c.Id).catch(() => 0);
  const image = await svc.deps.images.resolve(c.Image).then((i) => i.size ?? 0, () => 0);
  return { rw, rootFs: rw + image };
}
