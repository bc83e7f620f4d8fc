// POST /images/{name}/push: an image's layers, config and manifest to a registry, with Docker's
// progress stream. Layers go bottom first, a few at a time; each is HEADed, mounted from
// another repository of the registry that has it (the blob's sources we know of), or uploaded.
// The manifest is the one the image was pulled or last pushed with when its blobs are the
// image's own (same bytes, same digest), else a new Docker schema2 manifest (OCI when a layer
// is zstd). A layer kept uncompressed (load, import, commit, build) is gzipped at its first
// push, once: the blob is kept and named in the distribution metadata, so every later push
// sends the same bytes (as dockerd, which compresses on push). The digest reported and recorded
// is the registry's.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import { Digest, sha256 } from '../../lib/digest';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { shortId } from '../../lib/ids';
import { familiarString, normalizedString, parseNormalizedNamed, Reference } from '../../lib/reference';
import type { ImageRecord } from '../../store/images/types';
import type { LayerBlob, LayerMeta } from '../../store/layers/types';
import type { AuthConfig } from '../../distribution/auth';
import { RegistryPusher, type BlobSource, type PushTarget } from '../../distribution/push';
import type { DistributionMetadata } from './distmeta';
import type { ResolvedImage } from '../../distribution/manifests';
import { DOCKER_HUB_HOST, registryHost } from '../../distribution/resolver';
import { gzipFd } from '../../lib/sys/gzip';
import { ImageDeps, ProgressMessage, publishImageEvent } from './types';

export const MEDIA_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const MEDIA_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MEDIA_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MEDIA_OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Docker's max-concurrent-uploads default. */
const MAX_CONCURRENT_UPLOADS = 5;

export interface PushDeps {
  pusher: RegistryPusher;
  meta: DistributionMetadata;
  /** Blobs above this go in PATCH chunks of this size (default the pusher's CHUNK_SIZE). */
  chunkSize?: number;
}

export interface PushOptions {
  creds?: AuthConfig;
  onMessage: (m: ProgressMessage) => void;
  signal?: AbortSignal;
}

/** The tags of `name` to push: the one given, or every tag of the repository (push -a). NotFound before streaming. */
export function pushTargets(deps: ImageDeps, name: string, tag: string | undefined): Array<{ ref: Reference; img: ImageRecord }> {
  const repo = parseNormalizedNamed(name);
  // `/images/name:tag/push` (some SDKs) means that tag, as in Docker
  if (!tag && repo.tag) tag = repo.tag;
  if (repo.digest) throw new InvalidParameterError(`cannot push a digest reference (${name})`);
  repo.tag = undefined;
  if (tag) {
    const ref = { ...repo, tag, digest: undefined };
    const id = deps.store.refTarget(ref);
    if (!id) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString({ ...repo, tag: undefined, digest: undefined })}`);
    return [{ ref, img: deps.store.get(id)! }];
  }
  const out: Array<{ ref: Reference; img: ImageRecord }> = [];
  for (const img of deps.store.list()) {
    for (const r of deps.store.refsOf(img.id)) {
      if (r.tag !== undefined && r.digest === undefined && r.domain === repo.domain && r.path === repo.path) out.push({ ref: r, img });
    }
  }
  if (!out.length) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString({ ...repo, tag: undefined, digest: undefined })}`);
  return out.sort((a, b) => a.ref.tag!.localeCompare(b.ref.tag!));
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

/** The `progress` text as dockerd's stream formatter writes it (a 50-wide bar, then the numbers). */
function progressText(current: number, total: number): string {
  const pct = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return `[${'='.repeat(pct)}>${' '.repeat(50 - pct)}] ${numbers}`;
}

function blobSource(deps: ImageDeps, digest: Digest, size: number): BlobSource {
  return {
    digest, size,
    read: async (start, end) => {
      if (end <= start) return Buffer.alloc(0);
      const s = await deps.content.readStream(digest, { start, end: end - 1 });
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/** A manifest for the image from its layers' blobs. */
/**
 * The gzip of a blob, into the content store. Level 1: the push waits on this; a few percent
 * of size matter less than its speed (measured here on the debian base layer, 128.6 MB:
 * level 1 gives 54.0 MB for 2.2 s of CPU, level 6 50.2 MB for 4.2 s). In the native addon when
 * the store has files (a thread per layer, so a push's layers use every core; stretches
 * deflate cannot shrink are stored as they are, native/gzip.c: 30 MB of random bytes took
 * 0.15 s of CPU there, 1.0 s through zlib at level 1), else in zlib here.
 */
async function gzipBlob(deps: ImageDeps, digest: Digest): Promise<{ digest: Digest; size: number }> {
  const content = deps.content;
  if (content.blobPath && content.adoptFile) {
    const dir = path.join(deps.root, 'images', 'tmp');
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `gzip-${randomBytes(8).toString('hex')}`);
    const src = await fsp.open(content.blobPath(digest), 'r');
    try {
      const dst = await fsp.open(tmp, 'wx', 0o600);
      let r;
      try {
        r = await gzipFd(src.fd, dst.fd, 1);
      } finally {
        await dst.close();
      }
      return await content.adoptFile(tmp, { digest: r.digest, size: r.size });
    } finally {
      await src.close();
      await fsp.rm(tmp, { force: true });
    }
  }
  const gz = new PassThrough();
  const written = content.writeStream(gz);
  await Promise.all([pipeline(await content.readStream(digest), zlib.createGzip({ level: 1 }), gz), written]);
  return written;
}

/** What is pushed for a layer: its blob when compressed, else the gzip of it (made once). */
async function pushableBlob(deps: ImageDeps, dist: PushDeps, l: LayerMeta): Promise<LayerBlob> {
  const blob = l.blob!;
  if (/gzip|zstd/.test(blob.mediaType)) return blob;
  const known = await dist.meta.compressedOf(l.diffId);
  if (known && await deps.content.exists(known.digest)) return known;
  const info = await gzipBlob(deps, blob.digest);
  const out = { digest: info.digest, size: info.size, mediaType: MEDIA_DOCKER_LAYER_GZIP };
  await dist.meta.recordCompressed(l.diffId, out);
  return out;
}

function buildManifest(img: ImageRecord, layers: LayerBlob[]): { body: Buffer; mediaType: string } {
  const allGzip = layers.every((l) => /gzip/.test(l.mediaType));
  const mediaType = allGzip ? MEDIA_DOCKER_MANIFEST : MEDIA_OCI_MANIFEST;
  const m = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: allGzip ? MEDIA_DOCKER_CONFIG : MEDIA_OCI_CONFIG, size: img.configSize, digest: img.id },
    layers: layers.map((l) => ({
      mediaType: allGzip ? MEDIA_DOCKER_LAYER_GZIP : (l.mediaType === MEDIA_DOCKER_LAYER_GZIP ? MEDIA_OCI_GZIP : l.mediaType),
      size: l.size,
      digest: l.digest,
    })),
  };
  return { body: Buffer.from(JSON.stringify(m, null, 3)), mediaType };
}

/** The recorded manifest of this image whose config and layer blobs are exactly the image's, if any. */
async function recordedManifest(deps: ImageDeps, dist: PushDeps, img: ImageRecord, layers: LayerBlob[]): Promise<{ body: Buffer; mediaType: string } | undefined> {
  for (const rec of await dist.meta.manifestsOf(img.id)) {
    let body: Buffer;
    try {
      body = await deps.content.readBlob(rec.digest);
    } catch {
      continue;
    }
    try {
      const m = JSON.parse(body.toString('utf8')) as { config?: { digest?: string }; layers?: Array<{ digest?: string }> };
      const same = m.config?.digest === img.id && Array.isArray(m.layers) && m.layers.length === layers.length
        && m.layers.every((d, i) => d.digest === layers[i].digest);
      if (same) return { body, mediaType: rec.mediaType };
    } catch { /* not a manifest: skip */ }
  }
  return undefined;
}

export async function pushImage(deps: ImageDeps, dist: PushDeps, name: string, tag: string | undefined, opts: PushOptions): Promise<void> {
  const targets = pushTargets(deps, name, tag);
  const repoRef = { ...parseNormalizedNamed(name), tag: undefined };
  const repoFull = `${repoRef.domain}/${repoRef.path}`;
  const t: PushTarget = { host: registryHost(repoRef.domain), repo: repoRef.path, creds: opts.creds };
  const emit = opts.onMessage;
  emit({ status: `The push refers to repository [${repoFull}]` });
  const pins = targets.flatMap((x) => x.img.chainIds);
  deps.layers.pin(pins);
  try {
    for (const { ref, img } of targets) {
      const layers = img.chainIds.map((c) => {
        const l = deps.layers.get(c);
        if (!l) throw new NotFoundError(`layer ${c} of ${img.id} does not exist`);
        if (!l.blob) throw new NotFoundError(`layer ${shortId(l.diffId)} has no blob to push`);
        return l;
      });
      // zlib runs on the libuv pool: the layers that need a gzip blob are compressed side by side
      const blobs = await Promise.all(layers.map((l) => pushableBlob(deps, dist, l)));
      await pushLayers(deps, dist, t, repoFull, layers.map((layer, i) => ({ layer, blob: blobs[i] })), opts);
      await dist.pusher.pushBlob(t, blobSource(deps, img.id, img.configSize), { signal: opts.signal, mountFrom: await mountSources(dist, t, img.id) });
      await dist.meta.recordBlobSource(img.id, repoFull);
      const m = (await recordedManifest(deps, dist, img, blobs)) ?? buildManifest(img, blobs);
      const { digest, size } = await dist.pusher.putManifest(t, ref.tag!, m.body, m.mediaType);
      // the bytes, for the next push of the unchanged image and for inspect by digest
      const local = sha256(m.body);
      if (!(await deps.content.exists(local))) await deps.content.writeBlob(m.body);
      await dist.meta.recordManifest(img.id, { digest: local, mediaType: m.mediaType, size, repo: repoFull });
      const digestRef = { domain: repoRef.domain, path: repoRef.path, digest };
      if (deps.store.refTarget(digestRef) !== img.id) await deps.store.setRef(digestRef, img.id);
      emit({ status: `${ref.tag}: digest: ${digest} size: ${size}` });
      emit({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: size } });
      publishImageEvent(deps, 'push', normalizedString(ref), familiarString(ref), img);
    }
  } finally {
    deps.layers.unpin(pins);
  }
}

/** Other repositories of the target's registry that we know hold `digest` (for a cross-repository mount). */
async function mountSources(dist: PushDeps, t: PushTarget, digest: string): Promise<string[]> {
  const hostPrefix = `${t.host === DOCKER_HUB_HOST ? 'docker.io' : t.host}/`;
  return (await dist.meta.blobSources(digest))
    .filter((r) => r.startsWith(hostPrefix)).map((r) => r.slice(hostPrefix.length)).filter((p) => p !== t.repo);
}

async function pushLayers(deps: ImageDeps, dist: PushDeps, t: PushTarget, repoFull: string, layers: Array<{ layer: LayerMeta; blob: LayerBlob }>, opts: PushOptions): Promise<void> {
  const emit = opts.onMessage;
  const id = (l: { layer: LayerMeta }) => shortId(l.layer.diffId);
  // Docker lists the layers top first
  for (const l of [...layers].reverse()) emit({ status: 'Preparing', progressDetail: {}, id: id(l) });
  const queue = [...layers];
  let failed: unknown;
  const one = async (l: { layer: LayerMeta; blob: LayerBlob }): Promise<void> => {
    const { blob } = l;
    const sources = await mountSources(dist, t, blob.digest);
    let last = 0;
    const r = await dist.pusher.pushBlob(t, blobSource(deps, blob.digest, blob.size), {
      mountFrom: sources,
      signal: opts.signal,
      chunkSize: dist.chunkSize,
      onProgress: (n) => {
        if (n === last) return;
        last = n;
        emit({ status: 'Pushing', progressDetail: { current: n, total: blob.size }, progress: progressText(n, blob.size), id: id(l) });
      },
    });
    if (r.kind === 'exists') emit({ status: 'Layer already exists', progressDetail: {}, id: id(l) });
    else if (r.kind === 'mounted') emit({ status: `Mounted from ${r.from}`, progressDetail: {}, id: id(l) });
    else emit({ status: 'Pushed', progressDetail: {}, id: id(l) });
    await dist.meta.recordBlobSource(blob.digest, repoFull);
  };
  if (queue.length > MAX_CONCURRENT_UPLOADS) {
    for (const l of queue.slice(MAX_CONCURRENT_UPLOADS)) emit({ status: 'Waiting', progressDetail: {}, id: id(l) });
  }
  const workers = Array.from({ length: Math.min(MAX_CONCURRENT_UPLOADS, queue.length) }, async () => {
    for (let l = queue.shift(); l && !failed; l = queue.shift()) {
      try {
        await one(l);
      } catch (e) {
        failed ??= e;
      }
    }
  });
  await Promise.all(workers);
  if (failed) throw failed;
}

/**
 * After a pull from `ref`'s own registry (not a mirror): its blobs are in that repository, and
 * the platform manifest's bytes (when the reference named it directly) are the image's.
 */
export async function recordPulled(deps: ImageDeps, meta: DistributionMetadata, ref: Reference, resolved: ResolvedImage, imageId: Digest): Promise<void> {
  if (resolved.endpoint.mirror) return;
  const repo = `${ref.domain}/${ref.path}`;
  for (const d of [resolved.manifest.config.digest, ...resolved.manifest.layers.map((l) => l.digest)]) await meta.recordBlobSource(d, repo);
  const top = resolved.top;
  if (top.digest !== resolved.manifestDigest) return; // an index: the platform manifest's bytes were not kept
  if (!(await deps.content.exists(top.digest))) await deps.content.writeBlob(top.body);
  await meta.recordManifest(imageId, { digest: top.digest, mediaType: top.mediaType, size: top.body.length, repo });
}
