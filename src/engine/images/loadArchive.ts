// docker load's archive, read once as it streams in: each layer is extracted while its tar
// entry arrives (the layer store's prepareLayer: hashed and written beside its blob in one
// pass, on a native thread, invisible until committed), so extraction overlaps the upload
// instead of waiting for the whole archive to be staged. Whether an entry is a layer is known
// from manifest.json and the configs when they came first; else from its name (`*/layer.tar`,
// `blobs/sha256/*`) and its first bytes (a tar, gzip or zstd stream). A layer whose diff is
// already stored is not extracted again when that is known in time (manifest and config
// before it, or an OCI blob whose digest a stored layer has). Small entries (manifests,
// configs) are kept in memory; anything else is staged to a file. The names are keys only:
// nothing is written under an entry's own name, and symlinks and hard links between entries
// are followed by name, never out of the archive.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../lib/digest';
import { isDigest } from '../../lib/digest';
import { InvalidParameterError } from '../../lib/errors';
import { readTar } from '../../lib/tar/reader';
import { chainIdOf } from '../../store/layers/chainid';
import { detectCompression } from '../../store/layers/compression';
import type { LayerMeta, LayerStore, PreparedLayer } from '../../store/layers/types';
import type { ImageConfig } from '../../store/images/types';

/** Entries up to this size are kept in memory (manifests, configs), within MEMORY_BUDGET in all. */
const SMALL_ENTRY = 1 << 20;
const MEMORY_BUDGET = 64 << 20;

/** What the archive holds under one name. */
export type ArchiveEntry =
  | { kind: 'memory'; data: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'prepared'; layer: Promise<PreparedLayer> }
  /** Not read: its layer's chain is stored, or `like` (a stored layer) has these bytes. */
  | { kind: 'stored'; like?: LayerMeta };

export interface LayerHint {
  /** The diff ID the manifest and config say this entry has, if they came first. */
  diffId?: Digest;
  /** A stored layer with the same content, when one is known. */
  like?: LayerMeta;
  /** The layer's chain is stored already. */
  present?: boolean;
}

/** A normalised name inside the archive ('a/b'), or undefined for one that climbs out. */
export function archivePath(name: string): string | undefined {
  const norm = path.posix.normalize(name.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) return undefined;
  return norm === '.' ? '' : norm;
}

export class StreamedArchive {
  private readonly entries = new Map<string, ArchiveEntry>();
  private readonly links = new Map<string, string>();
  private memory = 0;

  private constructor(private readonly staging: string) {}

  /**
   * Reads the whole (uncompressed) archive. `hint(name)` tells what the manifest and configs
   * read so far say about an entry; `onLayer` reports each layer extraction started.
   */
  static async read(src: Readable, staging: string, layers: LayerStore,
    hint: (archive: StreamedArchive, name: string) => LayerHint | undefined,
    progress?: (name: string, diffId: Digest | undefined, total: number) => ((n: number) => void) | undefined): Promise<StreamedArchive> {
    const a = new StreamedArchive(staging);
    const byDigest = new Map<string, LayerMeta>();
    for (const l of layers.list()) {
      if (l.blob) byDigest.set(l.blob.digest, l);
      byDigest.set(l.diffId, l);
    }
    for await (const e of readTar(src)) {
      const name = archivePath(e.header.name);
      if (name === undefined || name === '') continue;
      const h = e.header;
      if (h.type === 'symlink') {
        const target = archivePath(path.posix.join(path.posix.dirname(name), h.linkname));
        if (target !== undefined && !h.linkname.startsWith('/')) a.links.set(name, target);
        continue;
      }
      if (h.type === 'link') {
        const target = archivePath(h.linkname);
        if (target !== undefined) a.links.set(name, target);
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') continue;
      const hinted = hint(a, name);
      const blobName = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      // A layer named by a digest a stored layer has (an OCI blob; `<diff ID>/layer.tar` as
      // many tools write it) is not read: if the name lied, the layer made from the stored
      // blob fails its config's diff ID check and the load fails, nothing is made wrong.
      const named = blobName ?? /^([a-f0-9]{64})\/layer\.tar$/.exec(name);
      const like = hinted?.like ?? (named ? byDigest.get(`sha256:${named[1]}` as Digest) : undefined);
      if (hinted?.present || like) {
        // Already stored: the bytes are not needed (skipped unread).
        a.entries.set(name, like ? { kind: 'stored', like } : { kind: 'stored' });
        continue;
      }
      const it = e.body[Symbol.asyncIterator]();
      const head = await readHead(it, Math.min(h.size, 512));
      const body = Readable.from(concatIter(head.chunks, it));
      const looksLayer = hinted?.diffId !== undefined
        || ((/(^|\/)layer\.tar$/.test(name) || blobName !== null) && isLayerStream(head.bytes));
      if (looksLayer) {
        const onProgress = progress?.(name, hinted?.diffId, h.size);
        const consumed = new Promise<void>((resolve) => { body.once('end', resolve); body.once('close', resolve); });
        const layer = layers.prepareLayer(body, onProgress ? { onProgress } : {});
        layer.catch(() => undefined); // awaited where the layer is used; an unused broken one is not an error
        a.entries.set(name, { kind: 'prepared', layer });
        // The next entry starts once this one's bytes are in the extractor's pipe; the
        // extraction's tail runs on beside it.
        await Promise.race([consumed, layer.then(() => undefined, () => undefined)]);
        continue;
      }
      if (h.size <= SMALL_ENTRY && a.memory + h.size <= MEMORY_BUDGET) {
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c as Buffer);
        const data = Buffer.concat(chunks);
        a.memory += data.length;
        a.entries.set(name, { kind: 'memory', data });
        continue;
      }
      const file = path.join(staging, randomBytes(12).toString('hex'));
      await pipeline(body, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      a.entries.set(name, { kind: 'file', path: file });
    }
    return a;
  }

  /** The entry under `name`, links followed. */
  entry(name: string): ArchiveEntry | undefined {
    let n = archivePath(name);
    for (let hops = 0; n !== undefined && hops < 16; hops++) {
      const e = this.entries.get(n);
      if (e) return e;
      n = this.links.get(n);
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.entry(name) !== undefined;
  }

  /** A small entry's bytes (a manifest, a config). */
  async readFile(name: string): Promise<Buffer> {
    const e = this.entry(name);
    if (e?.kind === 'memory') return e.data;
    if (e?.kind === 'file') return fsp.readFile(e.path);
    throw new InvalidParameterError(`invalid archive: ${name} not found`);
  }

  /** Prepared layers nobody committed go. */
  async discardUnused(): Promise<void> {
    for (const e of this.entries.values()) {
      if (e.kind === 'prepared') await e.layer.then((l) => l.discard(), () => undefined);
    }
  }

  get stagingDir(): string { return this.staging; }
}

/** True for the first bytes of a tar (ustar magic, or a plausible v7 header), gzip or zstd stream. */
function isLayerStream(head: Buffer): boolean {
  const c = detectCompression(head);
  if (c !== 'none') return true;
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return true;
  // An empty layer is 1024 zero bytes (an end-of-archive marker alone).
  return head.length === 512 && head.every((b) => b === 0);
}

async function readHead(it: AsyncIterator<Buffer>, want: number): Promise<{ chunks: Buffer[]; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  let n = 0;
  while (n < want) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value);
    n += r.value.length;
  }
  return { chunks, bytes: Buffer.concat(chunks).subarray(0, want) };
}

async function* concatIter(first: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  for (const c of first) yield c;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * What manifest.json and the configs read so far say about entry `name`: its diff ID, and
 * whether its chain (or another layer with its content) is stored already.
 */
export function manifestHint(a: StreamedArchive, layers: LayerStore, name: string): LayerHint | undefined {
  if (!a.has('manifest.json')) return undefined;
  let manifest: Array<{ Config?: string; Layers?: string[] }>;
  try {
    manifest = JSON.parse(memoryText(a, 'manifest.json')) as typeof manifest;
  } catch {
    return undefined;
  }
  if (!Array.isArray(manifest)) return undefined;
  for (const m of manifest) {
    const i = (m.Layers ?? []).findIndex((l) => archivePath(l) === name);
    if (i < 0 || !m.Config || !a.has(m.Config)) continue;
    let config: ImageConfig;
    try {
      config = JSON.parse(memoryText(a, m.Config)) as ImageConfig;
    } catch {
      continue;
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (!diffIds.slice(0, i + 1).every((d) => isDigest(d))) continue;
    let chain: Digest | null = null;
    for (const d of diffIds.slice(0, i + 1)) chain = chainIdOf(chain, d);
    const diffId = diffIds[i];
    if (layers.has(chain!)) return { diffId, present: true };
    const like = layers.list().find((l) => l.diffId === diffId && l.blob);
    return like ? { diffId, like } : { diffId };
  }
  return undefined;
}

function memoryText(a: StreamedArchive, name: string): string {
  const e = a.entry(name);
  if (e?.kind !== 'memory') throw new Error('not in memory');
  return e.data.toString('utf8');
}
