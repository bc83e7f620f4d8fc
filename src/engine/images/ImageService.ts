// The image service: the daemon's one entry point for images. Operations live one per file
// (import, load, save, remove, tag, list, inspect, history, prune); this ties them to the stores.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../../lib/digest';
import type { Filters } from '../../lib/filters';
import type { EventBus } from '../events/EventBus';
import type { ContentStore } from '../../store/content/types';
import type { LayerStore, MountInfo } from '../../store/layers/types';
import type { ImageRecord, ImageStore } from '../../store/images/types';
import { LocalContentStore } from '../../store/content/ContentStore';
import { LocalLayerStore } from '../../store/layers/LayerStore';
import { LocalImageStore } from '../../store/images/ImageStore';
import { familiarName } from '../../lib/reference';
import { ContainersUsingImage, ContainerUse, DeleteItem, ImageDeps, ProgressMessage } from './types';
import { importImage, ImportOptions } from './import';
import { loadImages, LoadResult } from './load';
import { saveImages } from './save';
import { imagesDiskUsage, type ImagesDiskUsage } from './diskUsage';
import { dropCompressedBlobs, removeImage, RemoveOptions, releaseLayers } from './remove';
import { tag } from './tag';
import { listImages, ListOptions } from './list';
import { inspectImage } from './inspect';
import { HistoryItem, imageHistory } from './history';
import { pruneImages, PruneReport } from './prune';
import { pushImage, PushOptions, recordPulled } from './push';
import { log } from '../../lib/log';
import { errorMessage } from '../../lib/errors';
import { DistributionMetadata } from './distmeta';
import { RegistryPusher } from '../../distribution/push';
import { Distribution } from '../../distribution/Distribution';
import type { AuthConfig } from '../../distribution/auth';
import type { Reference } from '../../lib/reference';
import { preparePull, PreparedPull, PullOptions } from './pull';
import { distributionInspect, DistributionInspect } from './distributionInspect';

export type { ImageRecord } from '../../store/images/types';
export type { DeleteItem, ContainerUse, ContainersUsingImage } from './types';

export interface ImageServiceOptions {
  /** The data root (`/var/lib/berth`). `dataRoot` is accepted as a synonym. */
  root?: string;
  dataRoot?: string;
  events?: EventBus;
  /** Stores to share with other services; created here when absent. */
  content?: ContentStore;
  layers?: LayerStore;
  /** The registry client (mirrors, insecure registries); one with defaults when absent. */
  distribution?: Distribution;
}

export class ImageService {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  readonly store: ImageStore;
  readonly distribution: Distribution;
  private readonly deps: ImageDeps;
  private usingFn: ContainersUsingImage = () => [];
  /** What registries hold of our blobs and images (push: mounts, unchanged manifests). */
  readonly distMeta: DistributionMetadata;

  constructor(opts: ImageServiceOptions) {
    const root = opts.root ?? opts.dataRoot;
    if (!root) throw new Error('ImageService: root is required');
    this.content = opts.content ?? new LocalContentStore(root);
    this.layers = opts.layers ?? new LocalLayerStore(root, this.content);
    this.store = new LocalImageStore(root, this.content, this.layers);
    this.distribution = opts.distribution ?? new Distribution(this.content);
    this.distMeta = new DistributionMetadata(root);
    const self = this;
    this.deps = {
      content: this.content,
      layers: this.layers,
      store: this.store,
      events: opts.events,
      root,
      distMeta: this.distMeta,
      containersUsing(imageId: string): ContainerUse[] {
        return self.usingFn(imageId).map((u) => (typeof u === 'string' ? { id: u, running: true } : u));
      },
    };
  }

  /**
   * Crash recovery and loading, once at daemon start: drops partial ingests, half-made layers,
   * load staging dirs, stale temp files, and records whose data is gone.
   */
  async reconcile(): Promise<void> {
    await this.content.reconcile();
    await this.layers.reconcile();
    await fsp.rm(path.join(this.deps.root, 'images', 'tmp'), { recursive: true, force: true });
    await this.store.reconcile();
    // Compressed blobs of layers removed before they were swept with them (a crash, an older berth).
    await dropCompressedBlobs(this.deps);
  }

  /** Creates the service and runs reconcile() (daemon start). */
  static async open(opts: ImageServiceOptions): Promise<ImageService> {
    const s = new ImageService(opts);
    await s.reconcile();
    return s;
  }

  /** Number of images (for /info). */
  async count(): Promise<number> {
    return this.store.list().length;
  }

  /** Loads the stores without the clean-up of reconcile (tests, tools). */
  async init(): Promise<void> {
    await this.content.init();
    await this.layers.init();
    await this.store.init();
  }

  /** Registered by the container engine: the containers that use an image (ID `sha256:…`). */
  setContainersUsingImage(fn: ContainersUsingImage): void {
    this.usingFn = fn;
  }

  /** Resolves a user's string (name, name:tag, ID, `sha256:ID`, ID prefix); NotFoundError(`No such image: …`). */
  async resolve(nameOrId: string): Promise<ImageRecord> {
    return this.store.resolve(nameOrId);
  }

  /** `docker.io/library/busybox:latest` -> `busybox:latest`. */
  familiarName(ref: string): string {
    return familiarName(ref);
  }

  importImage(src: Readable, opts: ImportOptions = {}): Promise<ImageRecord> {
    return importImage(this.deps, src, opts);
  }

  load(src: Readable, opts: { quiet?: boolean; onMessage?: (m: ProgressMessage) => void } = {}): Promise<LoadResult> {
    return loadImages(this.deps, src, opts);
  }

  /** Resolves the names first (throws before any byte), then streams the archive. */
  save(names: string[]): Readable {
    return saveImages(this.deps, names);
  }

  /**
   * docker pull, in two steps: the reference resolved to the platform's manifest (errors before
   * any output), then `run` with a progress callback.
   */
  async preparePull(ref: Reference, opts: PullOptions = {}): Promise<PreparedPull> {
    const prepared = await preparePull(this.deps, this.distribution, ref, opts);
    // What push needs later: where each blob came from (mounts) and the manifest bytes (an unchanged re-push keeps its digest)
    return { ...prepared, run: async (emit) => {
      const result = await prepared.run(emit);
      await recordPulled(this.deps, this.distMeta, ref, prepared.resolved, result.image.id).catch((e) =>
        log.warn('could not record where a pulled image came from', { image: result.image.id, error: errorMessage(e) }));
      return result;
    } };
  }

  /** GET /distribution/{name}/json: the descriptor a reference names and its platforms. */
  distributionInspect(name: string, creds?: AuthConfig): Promise<DistributionInspect> {
    return distributionInspect(this.distribution, name, creds);
  }

  /** POST /auth: the registry accepts the credentials (UnauthorizedError otherwise). */
  login(creds: AuthConfig): Promise<void> {
    return this.distribution.login(creds.serveraddress ?? '', creds);
  }

  remove(name: string, opts: RemoveOptions = {}): Promise<DeleteItem[]> {
    return removeImage(this.deps, name, opts);
  }

  tag(source: string, repo: string, tagName?: string): Promise<void> {
    return tag(this.deps, source, repo, tagName);
  }

  list(opts: ListOptions = {}): Record<string, unknown>[] {
    return listImages(this.deps, opts);
  }

  inspect(name: string): Record<string, unknown> {
    return inspectImage(this.deps, name);
  }

  history(name: string): HistoryItem[] {
    return imageHistory(this.deps, name);
  }

  prune(filters?: Filters): Promise<PruneReport> {
    return pruneImages(this.deps, filters);
  }

  /** Pushes `name:tag` (every tag of `name` without one); NotFound before the first message. */
  push(name: string, tag: string | undefined, opts: PushOptions): Promise<void> {
    // BERTH_PUSH_CHUNK_SIZE (bytes): tests make the chunked upload path reachable with small layers
    const chunkSize = Number(process.env.BERTH_PUSH_CHUNK_SIZE) || undefined;
    return pushImage(this.deps, { pusher: new RegistryPusher(this.distribution.client), meta: this.distMeta, chunkSize }, name, tag, opts);
  }

  /**
   * Registers an image whose layers already exist (builder, commit): stores the config and
   * tags it. `layers` chain IDs stay pinned by the caller until this returns.
   */
  async registerImage(configBytes: Buffer, opts: { parent?: Digest; tags?: string[] } = {}): Promise<ImageRecord> {
    const img = await this.store.add(configBytes, opts.parent ? { parent: opts.parent } : {});
    for (const t of opts.tags ?? []) await this.store.setRef(t, img.id);
    return this.store.get(img.id)!;
  }

  /** Disk bytes of the layers and of each image, diffs and blobs (system df). */
  diskUsage(): Promise<ImagesDiskUsage> {
    return imagesDiskUsage(this.deps);
  }

  /** Removes layers that no image and no container mount uses any more (e.g. after a container removal). */
  async gcLayers(): Promise<Digest[]> {
    return releaseLayers(this.deps, this.layers.list().map((l) => l.chainId));
  }

  // ---- container writable layers (pass-throughs to the LayerStore)

  createMount(id: string, parentChainId: string | null): Promise<MountInfo> { return this.layers.createMount(id, parentChainId); }
  mount(id: string): Promise<string> { return this.layers.mount(id); }
  unmount(id: string): Promise<void> { return this.layers.unmount(id); }
  removeMount(id: string): Promise<void> { return this.layers.removeMount(id); }
  mountInfo(id: string): Promise<MountInfo> { return this.layers.mountInfo(id); }
  diffSize(id: string): Promise<number> { return this.layers.diffSize(id); }
}
