// docker save: one tar that loads both as Docker's legacy archive and as an OCI image layout
// (the layout Docker 25+ writes):
//   blobs/sha256/<hex>     configs, OCI manifests and the uncompressed layer tars (digest = diff ID)
//   index.json, oci-layout                          the OCI side
//   manifest.json, repositories                     the legacy side (paths point into blobs/)
//   <v1id>/{VERSION,json,layer.tar -> ../blobs/…}   legacy per-layer dirs for old readers
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { Digest, digestHex, sha256 } from '../../lib/digest';
import { NotFoundError } from '../../lib/errors';
import type { ImageRecord } from '../../store/images/ImageStore';
import { familiarRepo, familiarString, normalizedString, parseNormalizedNamed, Reference } from '../../lib/reference';
import { ImageDeps, isNameOnly, publishImageEvent } from './types';

export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

interface SaveItem {
  img: ImageRecord;
  refs: Reference[];
}

/** Resolves the names as `docker save` does: a bare repository name means all its tags. */
function collect(deps: ImageDeps, names: string[]): SaveItem[] {
  const byId = new Map<string, SaveItem>();
  const add = (img: ImageRecord, ref?: Reference) => {
    let it = byId.get(img.id);
    if (!it) { it = { img, refs: [] }; byId.set(img.id, it); }
    if (ref && !it.refs.some((r) => normalizedString(r) === normalizedString(ref))) it.refs.push(ref);
  };
  for (const name of names) {
    if (isNameOnly(name)) {
      const repo = parseNormalizedNamed(name);
      let found = false;
      for (const img of deps.store.list()) {
        for (const r of deps.store.refsOf(img.id)) {
          if (r.tag !== undefined && r.domain === repo.domain && r.path === repo.path) { add(img, r); found = true; }
        }
      }
      if (found) continue;
    }
    const img = deps.store.resolve(name);
    if (deps.store.isIdReference(name, img.id)) { add(img); continue; }
    const r = parseNormalizedNamed(name);
    if (r.tag === undefined && r.digest === undefined) r.tag = 'latest';
    add(img, r.digest !== undefined ? undefined : r);
  }
  return [...byId.values()];
}

function v1Id(parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * Resolves `names` (throwing NotFound before anything is sent) and returns the archive stream.
 */
export function saveImages(deps: ImageDeps, names: string[]): Readable {
  if (names.length === 0) throw new NotFoundError('No such image: ');
  const items = collect(deps, names);
  const pins = items.flatMap((i) => i.img.chainIds);
  deps.layers.pin(pins);
  const pack = tar.pack();
  const mtime = new Date(0);
  const put = (name: string, data: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mtime, mode: 0o644 }, Buffer.from(data), (e) => (e ? reject(e) : resolve())));
  const dir = (name: string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, type: 'directory', mtime, mode: 0o755 }, (e) => (e ? reject(e) : resolve())));
  const link = (name: string, target: string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, type: 'symlink', linkname: target, mtime, mode: 0o777 }, (e) => (e ? reject(e) : resolve())));

  void (async () => {
    const written = new Set<string>();
    await dir('blobs/');
    await dir('blobs/sha256/');
    const legacy: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    const index: Array<Record<string, unknown>> = [];
    for (const { img, refs } of items) {
      const configBytes = await deps.content.readBlob(img.id);
      if (!written.has(img.id)) { await put(`blobs/sha256/${digestHex(img.id)}`, configBytes); written.add(img.id); }
      const layerDescs: Array<{ mediaType: string; digest: Digest; size: number }> = [];
      const layerPaths: string[] = [];
      let parentV1 = '';
      for (let i = 0; i < img.chainIds.length; i++) {
        const meta = deps.layers.get(img.chainIds[i]);
        if (!meta) throw new NotFoundError(`layer ${img.chainIds[i]} does not exist`);
        const blobName = `blobs/sha256/${digestHex(meta.diffId)}`;
        if (!written.has(meta.diffId)) {
          const src = await deps.layers.exportLayer(meta.chainId);
          await new Promise<void>((resolve, reject) => {
            const w = pack.entry({ name: blobName, size: meta.tarSize, mtime, mode: 0o644 }, (e) => (e ? reject(e) : resolve()));
            src.on('error', (e) => { w.destroy(e); reject(e); });
            src.pipe(w);
          });
          written.add(meta.diffId);
        }
        layerDescs.push({ mediaType: MEDIA_OCI_LAYER, digest: meta.diffId, size: meta.tarSize });
        layerPaths.push(blobName);
        const top = i === img.chainIds.length - 1;
        const id = v1Id(top ? [meta.chainId, img.id] : [meta.chainId]);
        if (!written.has(id)) {
          await dir(`${id}/`);
          await put(`${id}/VERSION`, '1.0');
          const json: Record<string, unknown> = { id, ...(parentV1 ? { parent: parentV1 } : {}), created: '0001-01-01T00:00:00Z', os: img.config.os };
          if (top) Object.assign(json, { created: img.config.created ?? json.created, architecture: img.config.architecture, config: img.config.config ?? {} });
          await put(`${id}/json`, JSON.stringify(json));
          await link(`${id}/layer.tar`, `../${blobName}`);
          written.add(id);
        }
        parentV1 = id;
      }
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_OCI_MANIFEST,
        config: { mediaType: MEDIA_OCI_CONFIG, digest: img.id, size: configBytes.length },
        layers: layerDescs,
      }));
      const mdigest = sha256(manifest);
      if (!written.has(mdigest)) { await put(`blobs/sha256/${digestHex(mdigest)}`, manifest); written.add(mdigest); }
      const mdesc = { mediaType: MEDIA_OCI_MANIFEST, digest: mdigest, size: manifest.length };
      if (refs.length === 0) index.push(mdesc);
      for (const r of refs) {
        index.push({ ...mdesc, annotations: { 'io.containerd.image.name': normalizedString(r), 'org.opencontainers.image.ref.name': r.tag ?? '' } });
        if (parentV1 && r.tag) (repositories[familiarRepo(r)] ??= {})[r.tag] = parentV1;
      }
      legacy.push({ Config: `blobs/sha256/${digestHex(img.id)}`, RepoTags: refs.length ? refs.map(familiarString) : null, Layers: layerPaths });
    }
    await put('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests: index }));
    await put('manifest.json', JSON.stringify(legacy));
    await put('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (Object.keys(repositories).length) await put('repositories', JSON.stringify(repositories));
    pack.finalize();
    for (const { img } of items) publishImageEvent(deps, 'save', img.id, img.id, img);
  })().catch((e) => pack.destroy(e as Error)).finally(() => deps.layers.unpin(pins));
  return pack;
}
