// What the daemon remembers of registries, per blob and per image (Docker's "v2 metadata"):
// - the repositories (`host/path`) a blob was pulled from or pushed to, so that a push to
//   another repository of the same registry mounts the blob instead of uploading it;
// - the manifests (digest, media type; bytes in the content store) an image was pulled or
//   pushed with, so that a push of an unchanged image sends those bytes and the digest stays;
// - the gzip blob made for a layer kept uncompressed (load, import, commit, build), so that
//   the layer is compressed once, at its first push, and every later push sends the same bytes.
//
//   <root>/distribution/meta.json   { blobs: { digest: ["host/path", ...] }, manifests: { imageId: [desc] },
//                                     compressed: { diffId: desc } }
//
// Losing the file loses only optimisations (a push uploads instead of mounting, builds a new
// manifest); an unreadable one is started afresh. Writes are atomic and serialised.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Digest } from '../../lib/digest';
import { readJsonIfExists, writeJsonAtomic } from '../../lib/atomic';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { Mutex } from '../../lib/mutex';

export interface ManifestRecord {
  digest: Digest;
  mediaType: string;
  size: number;
  /** `host/path` it was pulled from or pushed to. */
  repo: string;
}

/** A blob of the content store standing for a layer in another compression. */
export interface CompressedBlob {
  digest: Digest;
  size: number;
  mediaType: string;
}

interface MetaFile {
  blobs: Record<string, string[]>;
  manifests: Record<string, ManifestRecord[]>;
  compressed: Record<string, CompressedBlob>;
}

/** A blob's repositories are capped: the newest few are the useful mount sources. */
const MAX_SOURCES = 8;

export class DistributionMetadata {
  private readonly file: string;
  private data: MetaFile = { blobs: {}, manifests: {}, compressed: {} };
  private loaded: Promise<void> | undefined;
  private readonly mutex = new Mutex();

  constructor(dataRoot: string) {
    this.file = path.join(dataRoot, 'distribution', 'meta.json');
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        const v = await readJsonIfExists<MetaFile>(this.file);
        if (v && typeof v === 'object') this.data = { blobs: v.blobs ?? {}, manifests: v.manifests ?? {}, compressed: v.compressed ?? {} };
      } catch (e) {
        log.warn('distribution metadata unreadable; starting afresh (pushes upload instead of mounting)', { file: this.file, error: errorMessage(e) });
      }
    })();
    return this.loaded;
  }

  private async update(fn: (d: MetaFile) => void): Promise<void> {
    await this.load();
    await this.mutex.run(async () => {
      fn(this.data);
      await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeJsonAtomic(this.file, this.data, 0o600, 'record');
    });
  }

  /** `repo` (`host/path`) holds blob `digest` (pulled from it, pushed or mounted to it). */
  async recordBlobSource(digest: string, repo: string): Promise<void> {
    await this.load();
    if (this.data.blobs[digest]?.[0] === repo) return; // already the newest source: no write
    return this.update((d) => {
      const list = (d.blobs[digest] ?? []).filter((r) => r !== repo);
      list.unshift(repo);
      d.blobs[digest] = list.slice(0, MAX_SOURCES);
    });
  }

  async blobSources(digest: string): Promise<string[]> {
    await this.load();
    return [...(this.data.blobs[digest] ?? [])];
  }

  /** Image `imageId` was pulled or pushed as manifest `m` (its bytes are in the content store). */
  async recordManifest(imageId: string, m: ManifestRecord): Promise<void> {
    await this.load();
    const first = this.data.manifests[imageId]?.[0];
    if (first && first.digest === m.digest && first.repo === m.repo) return;
    return this.update((d) => {
      const list = (d.manifests[imageId] ?? []).filter((x) => !(x.digest === m.digest && x.repo === m.repo));
      list.unshift(m);
      d.manifests[imageId] = list.slice(0, MAX_SOURCES);
    });
  }

  async manifestsOf(imageId: string): Promise<ManifestRecord[]> {
    await this.load();
    return [...(this.data.manifests[imageId] ?? [])];
  }

  /** `blob` holds layer `diffId` compressed (made for a push). */
  async recordCompressed(diffId: Digest, blob: CompressedBlob): Promise<void> {
    return this.update((d) => { d.compressed[diffId] = blob; });
  }

  async compressedOf(diffId: Digest): Promise<CompressedBlob | undefined> {
    await this.load();
    return this.data.compressed[diffId];
  }

  /** The compressed blobs made for layers `live` says are gone (their owners), by diff ID. */
  async compressedWithout(live: (diffId: Digest) => boolean): Promise<Array<{ diffId: Digest; blob: CompressedBlob }>> {
    await this.load();
    return Object.entries(this.data.compressed)
      .filter(([diffId]) => !live(diffId as Digest))
      .map(([diffId, blob]) => ({ diffId: diffId as Digest, blob }));
  }

  /** The records of these layers' compressed blobs go (after the blobs themselves: see releaseLayers). */
  async forgetCompressed(diffIds: Digest[]): Promise<void> {
    await this.load();
    if (!diffIds.some((d) => this.data.compressed[d])) return;
    return this.update((d) => { for (const id of diffIds) delete d.compressed[id]; });
  }

  /** An image is gone: its manifest records go (the blobs' sources stay, they are the registry's). */
  forgetImage(imageId: string): Promise<void> {
    return this.update((d) => { delete d.manifests[imageId]; });
  }
}
