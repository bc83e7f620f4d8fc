// docker load: accepts Docker's legacy archive (manifest.json + layer tars) and OCI image
// layouts (index.json + blobs/), uncompressed or compressed. The archive is read once as it
// streams in (loadArchive.ts: layers extracted on the way, invisible), then each image's
// layers are committed (verified against the config's diff IDs first; layers already present
// are skipped) and the image is recorded and tagged.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crashPoint } from '../../lib/crashpoint';
import { Digest, isDigest, sha256 } from '../../lib/digest';
import { InvalidParameterError } from '../../lib/errors';
import { shortId } from '../../lib/ids';
import type { ImageConfig } from '../../store/images/ImageStore';
import { chainIdOf, LayerMeta } from '../../store/layers/LayerStore';
import { decompressed } from '../../store/layers/compression';
import type { PreparedLayer } from '../../store/layers/types';
import { manifestHint, StreamedArchive } from './loadArchive';
import { familiarString, normalizedString, parseNormalizedNamed, Reference } from '../../lib/reference';
import { hostArch, ImageDeps, ProgressMessage, publishImageEvent } from './types';
import { tagImage } from './tag';
import { MEDIA_OCI_INDEX } from './save';

const MEDIA_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export interface LoadOptions {
  quiet?: boolean;
  /** Receives the JSON-message stream items (`{stream: …}`, progress). */
  onMessage?: (m: ProgressMessage) => void;
}

export interface LoadResult {
  images: Array<{ id: Digest; tags: string[] }>;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

function bar(current: number, total: number): string {
  const width = 50;
  const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(3)}GB` : n >= 1e6 ? `${(n / 1e6).toFixed(3)}MB` : n >= 1e3 ? `${(n / 1e3).toFixed(2)}kB` : `${n}B`);
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const arrow = filled >= width ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1);
  return `[${arrow}] ${fmt(current).padStart(8)}/${fmt(total)}`;
}

export async function loadImages(deps: ImageDeps, src: Readable, opts: LoadOptions = {}): Promise<LoadResult> {
  const emit = opts.onMessage ?? (() => undefined);
  const staging = path.join(deps.root, 'images', 'tmp', `load-${randomBytes(8).toString('hex')}`);
  await fsp.mkdir(staging, { recursive: true, mode: 0o700 });
  const pinned: Digest[] = [];
  const result: LoadResult = { images: [] };
  let archive: StreamedArchive | undefined;
  try {
    const { stream } = await decompressed(src);
    const loading = (id: string, total: number) => {
      let last = 0;
      return (n: number) => {
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        const cur = Math.min(n, total);
        emit({ status: 'Loading layer', progressDetail: { current: cur, total }, progress: bar(cur, total), id });
      };
    };
    // Layers are extracted as they stream in (loadArchive.ts); none is visible before its
    // image's config has named it, its diff ID checked.
    archive = await StreamedArchive.read(stream, staging, deps.layers, (a, name) => manifestHint(a, deps.layers, name),
      opts.quiet ? undefined : (name, diffId, total) => loading(shortId(diffId ?? (/[a-f0-9]{64}/.exec(name)?.[0] ?? name)), total));
    crashPoint('image.load.after-staging');
    const inArchive = archive;
    const exists = (rel: string) => Promise.resolve(inArchive.has(rel));
    const readFile = (rel: string) => inArchive.readFile(rel);
    /** Each prepared layer is committed once; a second use (another parent) makes it from the blob then kept. */
    const committed = new Map<PreparedLayer, Promise<LayerMeta>>();

    const createLayers = async (config: ImageConfig, files: Array<{ file: string; desc?: Descriptor }>): Promise<void> => {
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== files.length) {
        throw new InvalidParameterError(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${files.length}`);
      }
      // Everything the layers wait on is settled first, so that the loop below starts each
      // creation in chain order without an await between them: the layer store lets a layer
      // wait for its parent only when the parent's creation has begun.
      const entries = files.map((f) => inArchive.entry(f.file));
      const prepared = await Promise.all(entries.map((e) => (e?.kind === 'prepared' ? e.layer.then((l) => l, (err: unknown) => err as Error) : undefined)));
      const earlier = new Map<PreparedLayer, LayerMeta | Error>();
      for (const p of prepared) {
        const c = p && !(p instanceof Error) ? committed.get(p) : undefined;
        if (c) earlier.set(p as PreparedLayer, await c.catch((err: unknown) => err as Error));
      }
      let parent: Digest | null = null;
      // The image's layers are committed together; the first failure is thrown once all have settled.
      const creating: Promise<void>[] = [];
      for (let i = 0; i < diffIds.length; i++) {
        const diffId = diffIds[i];
        if (!isDigest(diffId)) throw new InvalidParameterError(`invalid diff ID ${diffId}`);
        const chainId: Digest = chainIdOf(parent, diffId);
        if (deps.layers.get(chainId)) {
          deps.layers.pin([chainId]);
          pinned.push(chainId);
          parent = chainId;
          continue;
        }
        const d = files[i].desc;
        const expect = { expectDiffId: diffId, ...(d && isDigest(d.digest) ? { expectBlob: { digest: d.digest, ...(d.size !== undefined ? { size: d.size } : {}) } } : {}) };
        const e = entries[i];
        let made: Promise<LayerMeta>;
        if (!e) made = Promise.reject(new InvalidParameterError(`invalid archive: layer ${files[i].file} not found`));
        else if (e.kind === 'prepared') {
          const p = prepared[i]!;
          const before = p instanceof Error ? undefined : earlier.get(p);
          if (p instanceof Error) made = Promise.reject(p);
          else if (before instanceof Error) made = Promise.reject(before);
          else if (before) made = deps.layers.createLayerFromBlob(before.blob!.digest, parent, { expectDiffId: diffId });
          else if (committed.has(p)) made = committed.get(p)!.then((m) => deps.layers.createLayerFromBlob(m.blob!.digest, parent, { expectDiffId: diffId }));
          else {
            made = p.commit(parent, expect);
            committed.set(p, made);
          }
        } else if (e.kind === 'stored') {
          made = e.like?.blob
            ? deps.layers.createLayerFromBlob(e.like.blob.digest, parent, { expectDiffId: diffId })
            : Promise.reject(new InvalidParameterError(`invalid archive: layer ${files[i].file} was not read (its layer was stored) and is gone: load again`));
        } else if (e.kind === 'file') {
          made = deps.layers.createLayer(parent, fs.createReadStream(e.path), { ...expect, adoptSource: true });
        } else {
          made = deps.layers.createLayer(parent, Readable.from([e.data]), expect);
        }
        creating.push(made.then((m) => {
          pinned.push(m.chainId);
          if (!opts.quiet) emit({ status: 'Loading layer', progressDetail: { current: m.tarSize, total: m.tarSize }, progress: bar(m.tarSize, m.tarSize), id: shortId(diffId) });
          crashPoint('image.load.after-layer');
        }));
        parent = chainId;
      }
      const failed = (await Promise.allSettled(creating)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };

    const register = async (configBytes: Buffer, refs: Reference[]): Promise<void> => {
      crashPoint('image.load.before-record');
      const img = await deps.store.add(configBytes);
      const tags: string[] = [];
      for (const r of refs) {
        const prev = deps.store.refTarget(r);
        if (prev && prev !== img.id) {
          emit({ stream: `The image ${familiarString(r)} already exists, renaming the old one with ID ${prev} to empty string\n` });
        }
        await tagImage(deps, img.id, r);
        tags.push(familiarString(r));
        emit({ stream: `Loaded image: ${familiarString(r)}\n` });
      }
      if (refs.length === 0) emit({ stream: `Loaded image ID: ${img.id}\n` });
      publishImageEvent(deps, 'load', img.id, img.id, deps.store.get(img.id));
      const prevEntry = result.images.find((x) => x.id === img.id);
      if (prevEntry) prevEntry.tags.push(...tags); else result.images.push({ id: img.id, tags });
    };

    const parseConfig = (bytes: Buffer): ImageConfig => {
      try {
        const c = JSON.parse(bytes.toString('utf8')) as ImageConfig;
        if (!c || typeof c !== 'object' || !c.rootfs) throw new Error('no rootfs');
        return c;
      } catch (e) {
        throw new InvalidParameterError(`invalid image config: ${(e as Error).message}`);
      }
    };

    const parseTags = (list: string[] | null | undefined): Reference[] => (list ?? []).map((t) => {
      const r = parseNormalizedNamed(t);
      if (r.tag === undefined || r.digest !== undefined) throw new InvalidParameterError(`invalid tag "${t}"`);
      return r;
    });

    if (await exists('manifest.json')) {
      const manifest = JSON.parse((await readFile('manifest.json')).toString('utf8')) as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
      if (!Array.isArray(manifest)) throw new InvalidParameterError('invalid manifest.json');
      for (const m of manifest) {
        const configBytes = await readFile(m.Config);
        const config = parseConfig(configBytes);
        const refs = parseTags(m.RepoTags);
        await createLayers(config, (m.Layers ?? []).map((file) => ({ file })));
        await register(configBytes, refs);
      }
    } else if (await exists('index.json')) {
      const readBlob = async (d: Descriptor): Promise<Buffer> => {
        const [alg, hex] = d.digest.split(':');
        if (alg !== 'sha256' || !/^[a-f0-9]{64}$/.test(hex ?? '')) throw new InvalidParameterError(`unsupported digest ${d.digest}`);
        const data = await readFile(`blobs/sha256/${hex}`);
        if (sha256(data) !== d.digest) throw new InvalidParameterError(`digest mismatch for ${d.digest}`);
        if (d.size !== undefined && d.size !== data.length) throw new InvalidParameterError(`size mismatch for ${d.digest}`);
        return data;
      };
      const index = JSON.parse((await readFile('index.json')).toString('utf8')) as { manifests?: Descriptor[] };
      const pickManifest = async (d: Descriptor, depth = 0): Promise<Descriptor | undefined> => {
        if (depth > 4) return undefined;
        if (d.mediaType === MEDIA_OCI_INDEX || d.mediaType === MEDIA_DOCKER_LIST) {
          const idx = JSON.parse((await readBlob(d)).toString('utf8')) as { manifests?: Descriptor[] };
          const ms = idx.manifests ?? [];
          const match = ms.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === hostArch())
            ?? ms.find((m) => !m.platform || m.platform.architecture !== 'unknown');
          return match ? pickManifest(match, depth + 1) : undefined;
        }
        return d;
      };
      const nameOf = (d: Descriptor): Reference | undefined => {
        const a = d.annotations ?? {};
        for (const key of ['io.containerd.image.name', 'org.opencontainers.image.ref.name']) {
          const v = a[key];
          if (!v) continue;
          try {
            const r = parseNormalizedNamed(v);
            if (r.tag !== undefined && r.digest === undefined && (key === 'io.containerd.image.name' || v.includes(':'))) return r;
          } catch { /* not a full reference */ }
        }
        return undefined;
      };
      const seen = new Map<string, Reference[]>();
      const order: Array<{ desc: Descriptor }> = [];
      for (const d of index.manifests ?? []) {
        const m = await pickManifest(d);
        if (!m) continue;
        if (!seen.has(m.digest)) { seen.set(m.digest, []); order.push({ desc: m }); }
        const r = nameOf(d);
        if (r && !seen.get(m.digest)!.some((x) => normalizedString(x) === normalizedString(r))) seen.get(m.digest)!.push(r);
      }
      for (const { desc } of order) {
        const manifest = JSON.parse((await readBlob(desc)).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
        const configBytes = await readBlob(manifest.config);
        const config = parseConfig(configBytes);
        await createLayers(config, (manifest.layers ?? []).map((l) => {
          const [, hex] = l.digest.split(':');
          return { file: `blobs/sha256/${hex}`, desc: l };
        }));
        await register(configBytes, seen.get(desc.digest) ?? []);
      }
    } else {
      throw new InvalidParameterError('invalid archive: no manifest.json or index.json found');
    }
    return result;
  } finally {
    deps.layers.unpin(pinned);
    await archive?.discardUnused();
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
