// What the engine (pull, load, import, commit, build) needs from a layer store: read-only
// layers keyed by chain ID, each created whole or not at all, plus the containers' writable
// layers on top of them. test/helpers/conformance/layers.ts checks any implementation.
import type { Readable } from 'node:stream';
import type { Digest } from '../../lib/digest';

/** How a writable layer is mounted. */
export interface MountOptions {
  /** The container's user-namespace mappings: files stored as container ids appear as host ids. */
  idmap?: import('../../lib/sys/idmap').IdMapping;
}

export interface LayerBlob {
  digest: Digest;
  size: number;
  mediaType: string;
}

export interface LayerMeta {
  chainId: Digest;
  diffId: Digest;
  parent: Digest | null;
  /** Bytes of regular files in the layer (Docker's layer size). */
  size: number;
  /** Bytes of the uncompressed tar (its sha256 is diffId). */
  tarSize: number;
  /** The layer's tar as kept in the ContentStore (compressed), if any. */
  blob: LayerBlob | null;
  /** Short name under layers/l/. */
  link: string;
  created: string;
}

export interface CreateLayerOptions {
  /**
   * The diff ID the uncompressed stream must have (load, pull); verified. With it the layer's
   * chain ID is known from the start, so a second creator of the same layer waits for the
   * first, and layers created at the same time on top of this one find it as their parent.
   */
  expectDiffId?: Digest;
  /** The digest/size the stream as given must have (pull: the manifest's descriptor); verified. */
  expectBlob?: { digest: Digest; size?: number };
  /** Called with the number of uncompressed bytes read so far. */
  onProgress?: (bytes: number) => void;
  /**
   * `src` is an unread file stream over a private file that the store may keep as the
   * layer's blob (hard-linked, not copied): load's staged layer files.
   */
  adoptSource?: boolean;
}

/**
 * A layer extracted and hashed, not yet visible (LayerStore.prepareLayer): `commit` makes it
 * the layer on a parent once its expected diff ID (and blob digest) are known and match, or
 * returns the existing layer of that chain (discarding this one); `discard` removes it.
 */
export interface PreparedLayer {
  readonly diffId: Digest;
  /** sha256 of the stream as it was given. */
  readonly rawDigest: Digest;
  /** Pinned once for the caller, as createLayer's result. Verifies before anything is visible. */
  commit(parent: Digest | null, opts?: { expectDiffId?: Digest; expectBlob?: { digest: Digest; size?: number } }): Promise<LayerMeta>;
  /** Idempotent; a no-op after commit. */
  discard(): Promise<void>;
}

export interface CreateFromBlobOptions {
  /** As in CreateLayerOptions. */
  expectDiffId?: Digest;
  onProgress?: (bytes: number) => void;
}

export interface CommitOptions {
  onProgress?: (bytes: number) => void;
}

export interface MountInfo {
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  mergedDir: string;
}

/** A container's writable layer record. */
export interface MountRecord {
  id: string;
  parent: Digest | null;
  created: string;
}

/**
 * What the container records say about writable layer `id` at daemon start: a readable
 * container record (the source of truth for the layer's parent chain), a record in the
 * quarantine ('held': the layer is kept as it is), or nothing (an orphan).
 */
export type MountOwner = { parent: Digest | null; created: string } | 'held' | undefined;

export interface LayerStore {
  /** Creates the directories and loads the records. Idempotent. */
  init(): Promise<void>;
  /** Daemon start: drops half-made layers and what a crash left behind. */
  reconcile(): Promise<void>;

  get(chainId: Digest): LayerMeta | undefined;
  has(chainId: Digest): boolean;
  list(): LayerMeta[];
  /** The layers of a chain, bottom first. NotFoundError when one is missing. */
  chain(chainId: Digest | null): LayerMeta[];
  /** Where a layer lives (inspect's GraphDriver.Data). */
  layerDir(chainId: Digest): string;
  diffDir(chainId: Digest): string;

  /** Keeps layers from removal while an operation that uses them is in flight. */
  pin(chainIds: Iterable<Digest>): void;
  unpin(chainIds: Iterable<Digest>): void;

  /**
   * Creates a layer on `parent` from a tar stream (uncompressed, gzip or zstd; kept as a blob
   * in the content store) and returns its record; returns the existing record when the layer
   * is already there. The parent must exist or be in creation (then this waits for it before
   * the layer becomes visible, and fails if it fails). The result is pinned once for the
   * caller: unpin it after registering the image that uses it.
   */
  createLayer(parent: Digest | null, src: Readable, opts?: CreateLayerOptions): Promise<LayerMeta>;
  /**
   * As createLayer, from a blob already committed in the content store (a pull's download),
   * which becomes the layer's blob as it is. Several can run at once, each naming its parent.
   */
  createLayerFromBlob(digest: Digest, parent: Digest | null, opts?: CreateFromBlobOptions): Promise<LayerMeta>;
  /**
   * Extracts a tar stream (as createLayer) into a layer that is not visible until committed
   * on its parent: for streams whose place in a chain is known only later (docker load).
   * What a crash leaves of it is removed at the next start.
   */
  prepareLayer(src: Readable, opts?: { onProgress?: (bytes: number) => void }): Promise<PreparedLayer>;
  /** The layer's uncompressed tar: byte for byte the one whose digest is its diff ID. */
  exportLayer(chainId: Digest): Promise<Readable>;
  /**
   * Removes the layers in `chainIds` that nothing else needs (not pinned, not the parent of a
   * remaining layer, not under a container mount, not in `keep`). Returns the removed records.
   */
  removeUnused(chainIds: Digest[], keep: Set<Digest>): Promise<LayerMeta[]>;

  // ---- container writable layers

  /** Creates the writable layer of container `id` on `parent` (a chain ID, or null for none). */
  createMount(id: string, parent: string | null): Promise<MountInfo>;
  listMounts(): Promise<MountRecord[]>;
  /**
   * Daemon start, once the container records are loaded and before any container starts:
   * removes orphans, rebuilds an unreadable or missing mount record from its container's,
   * quarantines an unreadable one that nothing claims, keeps those a quarantined record claims.
   * Returns the IDs whose writable layer is there now (a record's that has none is not in it).
   */
  reconcileMounts(ownerOf: (id: string) => MountOwner): Promise<Set<string>>;
  /** Paths of the writable layer; lowerDirs are the layers' diff dirs, top first. */
  mountInfo(id: string): Promise<MountInfo>;
  /** Mounts the overlay (idempotent); returns the merged path. `idmap`: made of idmapped layers (userns-remap). */
  mount(id: string, opts?: MountOptions): Promise<string>;
  /** Unmounts the overlay; a no-op when it is not mounted. */
  unmount(id: string): Promise<void>;
  /** Unmounts and deletes the writable layer. Idempotent. */
  removeMount(id: string): Promise<void>;
  /** Bytes in the writable layer (SizeRw). */
  diffSize(id: string): Promise<number>;
  /**
   * Turns the writable layer's changes (its upper dir: files, whiteouts, opaque dirs) into a
   * new layer on the mount's parent, its tar kept as a blob: what commit and each build step
   * need. The result is pinned once for the caller, as with createLayer.
   */
  commitMount(id: string, opts?: CommitOptions): Promise<LayerMeta>;
}
