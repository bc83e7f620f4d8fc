// What the container engine needs from the image side, as narrow interfaces, so the
// container code depends on behaviour rather than on the image store's classes.

import type { MountOwner } from '../../store/layers/types';

export interface ImageInfo {
  id: string;
  /** Bytes of the image's layers. */
  size?: number;
  config: {
    config?: {
      User?: string; Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | null;
      WorkingDir?: string; Labels?: Record<string, string> | null; ExposedPorts?: Record<string, object> | null;
      Volumes?: Record<string, object> | null; StopSignal?: string; Healthcheck?: unknown; OnBuild?: string[] | null;
    };
  };
  topChainId: string | null;
}

export interface ImageLookup {
  resolve(ref: string): Promise<ImageInfo>;
}

export interface MountInfo { lowerDirs: string[]; upperDir: string; workDir: string; mergedDir: string }

export interface RootfsStore {
  createMount(id: string, parentChainId: string | null): Promise<unknown>;
  mount(id: string, opts?: import('../../store/layers/types').MountOptions): Promise<string>;
  unmount(id: string): Promise<void>;
  /** The IDs whose writable layer is mounted now. */
  mountedIds(): Promise<Set<string>>;
  removeMount(id: string): Promise<void>;
  /** The IDs whose writable layer is there once done. */
  reconcileMounts(ownerOf: (id: string) => MountOwner): Promise<Set<string>>;
  mountInfo(id: string): MountInfo | Promise<MountInfo>;
  diffSize(id: string): Promise<number>;
}
