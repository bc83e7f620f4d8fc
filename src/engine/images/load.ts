// docker load: accepts Docker's legacy archive (manifest.json + layer tars) and OCI image
// layouts (index.json + blobs/), uncompressed or compressed. The archive is staged on disk
// (streamed, path-safe) under <root>/images/tmp/, then each image's layers are created
// (verified against the config's diff IDs; layers already present are skipped) and tagged.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { crashPoint } from '../../lib/crashpoint';
import { Digest, isDigest, sha256 } from '../../lib/digest';
import { InvalidParameterError } from '../../lib/errors';
import { shortId } from '../../lib/ids';
import type { ImageConfig } from '../../store/images/ImageStore';
import { chainIdOf, LayerMeta } from '../../store/layers/LayerStore';
import { decompressed, detectCompression, peekInPlace } from '../../store/layers/compression';
import { extractTar } from '../../store/layers/extract';
import { InRoot } from '../../lib/sys/inroot';
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
  let root: InRoot | undefined;
  try {
    // gzip and zstd are undone by the extractor itself; bzip2 and xz by the system tools.
    const { head, stream: raw } = await peekInPlace(src);
    const c = detectCompression(head);
    const stream = c === 'bzip2' || c === 'xz' ? (await decompressed(raw)).stream : raw;
    await extractTar(stream, staging, { digests: false }); // the layers are hashed when they are created
    crashPoint('image.load.after-staging');
    // The archive's own paths (manifest entries, symlinked layer files) resolve inside it.
    root = InRoot.open(staging);
    const inArchive = root;
    const exists = (rel: string) => inArchive.exists(rel);
    const readFile = (rel: string) => inArchive.readFile(rel);

    const createLayers = async (config: ImageConfig, files: Array<{ file: string; desc?: Descriptor }>): Promise<void> => {
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== files.length) {
        throw new InvalidParameterError(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${files.length}`);
      }
      let parent: Digest | null = null;
      // An image's missing layers are extracted at once, each on its own native thread (the
      // layer store lets a layer wait for its parent in flight); the first failure is thrown
      // once all have settled.
      const creating: Promise<void>[] = [];
      for (let i = 0; i < diffIds.length; i++) {
        const diffId = diffIds[i];
        if (!isDigest(diffId)) throw new InvalidParameterError(`invalid diff ID ${diffId}`);
        const chainId: Digest = chainIdOf(parent, diffId);
        let meta: LayerMeta | undefined = deps.layers.get(chainId);
        if (meta) {
          deps.layers.pin([chainId]);
        } else {
          const file = files[i].file;
          const total = (await inArchive.stat(file)).size;
          let last = 0;
          const progress = (n: number) => {
            const now = Date.now();
            if (opts.quiet || now - last < 100) return;
            last = now;
            const cur = Math.min(n, total);
            emit({ status: 'Loading layer', progressDetail: { current: cur, total }, progress: bar(cur, total), id: shortId(diffId) });
          };
          const d = files[i].desc;
          creating.push(deps.layers.createLayer(parent, inArchive.createReadStream(file), {
            expectDiffId: diffId,
            ...(d && isDigest(d.digest) ? { expectBlob: { digest: d.digest, ...(d.size !== undefined ? { size: d.size } : {}) } } : {}),
            onProgress: progress,
            adoptSource: true, // the staged file becomes the layer's blob, uncopied
          }).then(() => {
            pinned.push(chainId);
            if (!opts.quiet) emit({ status: 'Loading layer', progressDetail: { current: total, total }, progress: bar(total, total), id: shortId(diffId) });
            crashPoint('image.load.after-layer');
          }));
          parent = chainId;
          continue;
        }
        pinned.push(chainId);
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
    root?.close();
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
