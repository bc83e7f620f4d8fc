// What the engine needs from an image store: image records keyed by the digest of their
// config (kept in the content store), and the references that name them.
// test/helpers/conformance/images.ts checks any implementation.
import type { Digest } from '../../lib/digest';
import type { Reference } from '../../lib/reference';

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` part of an OCI/Docker image config. */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig | null;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  [k: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** OCI image config (application/vnd.oci.image.config.v1+json), with Docker's extra fields tolerated. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: ImageRunConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  comment?: string;
  docker_version?: string;
  container?: string;
  container_config?: ImageRunConfig;
  [k: string]: unknown;
}

export interface ImageRecord {
  /** `sha256:<hex>`: the digest of the config JSON. */
  id: Digest;
  config: ImageConfig;
  configSize: number;
  /** Chain IDs of the layers, bottom first. */
  chainIds: Digest[];
  /** The top layer's chain ID (the parent of a container's writable layer), null without layers. */
  topChainId: Digest | null;
  /** Familiar tag references (`busybox:latest`). */
  repoTags: string[];
  /** Familiar digest references (`host/repo@sha256:…`). */
  repoDigests: string[];
  parent: Digest | '';
  lastTagTime: string | null;
  /** Sum of the layers' sizes. */
  size: number;
  /** When this daemon first stored the image. */
  added: string;
}

export interface ImageStore {
  /** Loads the records. Idempotent. */
  init(): Promise<void>;
  /** Daemon start: drops temp files, records whose config or layers are gone, and dangling refs. */
  reconcile(): Promise<void>;

  /**
   * Paths of this store's records that could not be read (quarantined, or left in place): while
   * there is one, an image may have tags or children the store does not know (prune refuses).
   */
  unreadableRecords(): Promise<string[]>;

  get(id: Digest): ImageRecord | undefined;
  has(id: Digest): boolean;
  list(): ImageRecord[];
  /**
   * Stores an image whose layers are already in the layer store: config blob, then record.
   * Idempotent: an existing image is returned unchanged. InvalidParameterError for a config
   * that is not an image config, NotFoundError when a layer is missing.
   */
  add(configBytes: Buffer, opts?: { parent?: Digest }): Promise<ImageRecord>;
  /** Deletes an image record and all its references (and its config blob). Layers are the caller's business. */
  delete(id: Digest): Promise<void>;
  /** Images whose parent is `id` (builder lineage). */
  children(id: Digest): Digest[];

  /** Points `ref` (any form; normalised) at image `id`; returns the image it pointed at before. NotFoundError for an unknown image. */
  setRef(ref: Reference | string, id: Digest): Promise<Digest | undefined>;
  /** Removes a reference; returns the image it pointed at. */
  removeRef(ref: Reference | string): Promise<Digest | undefined>;
  refTarget(ref: Reference): Digest | undefined;
  /** Normalised references of an image (tags and digests). */
  refsOf(id: Digest): Reference[];

  /**
   * Resolves what a user typed: full ID, `sha256:<id>`, `name`, `name:tag`, `name@digest`,
   * or a unique ID prefix. NotFoundError(`No such image: <ref>`).
   */
  resolve(s: string): ImageRecord;
  resolveId(s: string): Digest | undefined;
  /** True when `s` names the image by (a prefix of) its ID rather than by a reference. */
  isIdReference(s: string, id: Digest): boolean;
}
