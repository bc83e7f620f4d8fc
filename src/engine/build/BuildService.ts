// The builder service: one build per POST /build, each with a private scratch directory under
// <data-root>/builder/tmp/ (the extracted context, archives ADD extracts), removed when the
// build ends and swept at daemon start; the step cache under <data-root>/builder/cache/; RUN
// --mount=type=cache directories under <data-root>/builder/mounts/ (kept).
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { parseTagTarget } from '../images/tag';
import type { ImageService } from '../images/ImageService';
import type { ContainerService } from '../containers/ContainerService';
import type { ImageRecord } from '../../store/images/types';
import { log } from '../../lib/log';
import { BuildCache } from './cache';
import { CacheFromSources } from './cacheFrom';
import { Builder, type BuildOptions } from './Builder';
import { receiveContext } from './context';
import { CacheMounts } from './runMounts';

export { BuildStepError, type BuildOptions } from './Builder';

export interface BuildServiceDeps {
  dataRoot: string;
  images: ImageService;
  containers: ContainerService;
}

export interface BuildResult {
  image: ImageRecord;
  warnings: string[];
}

export class BuildService {
  readonly cache: BuildCache;
  readonly cacheMounts: CacheMounts;
  private readonly tmpRoot: string;

  constructor(private readonly deps: BuildServiceDeps) {
    this.cache = new BuildCache(deps.dataRoot);
    this.tmpRoot = path.join(deps.dataRoot, 'builder', 'tmp');
    this.cacheMounts = new CacheMounts(path.join(deps.dataRoot, 'builder', 'mounts'));
  }

  /** Daemon start: what builds in flight at a crash left behind goes. */
  async reconcile(): Promise<void> {
    await fsp.rm(this.tmpRoot, { recursive: true, force: true });
    await this.cache.reconcile();
    await this.cacheMounts.reconcile();
  }

  /** Checks what can be checked before the context is read (tags). */
  validate(opts: BuildOptions): void {
    for (const t of opts.tags) parseTagTarget(t);
  }

  async build(context: Readable, opts: BuildOptions, out: (s: string) => void): Promise<BuildResult> {
    this.validate(opts);
    const dir = path.join(this.tmpRoot, randomBytes(12).toString('hex'));
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const ctxDir = path.join(dir, 'context');
      const ctx = await receiveContext(context, ctxDir, opts.dockerfile || 'Dockerfile');
      const cacheFrom = opts.cacheFrom.length ? await CacheFromSources.open(this.deps.images, opts.cacheFrom) : undefined;
      // As dockerd: a --cache-from name that is no local image is logged and skipped.
      for (const m of cacheFrom?.missing ?? []) log.warn(`build: could not look up ${m} for cache resolution, skipping`);
      const builder = new Builder({
        images: this.deps.images, containers: this.deps.containers, cache: this.cache, cacheMounts: this.cacheMounts, tmpDir: dir,
        ...(cacheFrom ? { cacheFrom } : {}),
      }, opts, out);
      const image = await builder.build(ctxDir, ctx.dockerfile);
      for (const t of opts.tags) await this.deps.images.tag(image.id, t);
      return { image: this.deps.images.store.get(image.id) ?? image, warnings: builder.warnings };
    } finally {
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
