// Layers: one directory per layer, keyed by chain ID, shared by every image that uses it.
//
//   <root>/layers/<chainHex>/diff/        the extracted layer (overlayfs whiteouts)
//   <root>/layers/<chainHex>/meta.json    { chainId, diffId, parent, size, tarSize, blob, link }
//   <root>/layers/l/<link>  -> ../<chainHex>/diff   short names that keep lowerdir= short
//   <root>/layers/tmp/                    extractions in progress (removed by reconcile)
//   <root>/layers/empty/                  the lowerdir of images without layers
//   <root>/layers/mounts/<id>/            per-container writable layer: meta.json, diff/ (upper), work/, merged/
//
// A layer is extracted into tmp/, its meta written there, then the directory is renamed into
// place: it exists completely or not at all. Concurrent creators of the same layer race on the
// rename; the loser discards its copy. The layer's tar is also kept compressed in the
// ContentStore (blob) so that save/push reproduce the exact bytes whose digest is the diff ID.
import { MNT_DETACH, mountOverlay, unmount } from '../../lib/sys/mount';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline as pipelineCb, Readable, Transform, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { Digest, digestHex, isDigest, sha256 } from '../../lib/digest';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../../lib/errors';
import { readJsonIfExists, writeJsonAtomic, removeStaleTemps } from '../../lib/atomic';
import { KeyedMutex } from '../../lib/mutex';
import { BlobWriter, ContentStore } from '../content/ContentStore';
import { detectCompression, decompressor, peek } from './compression';
import { extractTar } from './extract';
import { exportDir } from './export';

export const MEDIA_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MEDIA_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

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
  /** The diff ID the uncompressed stream must have (load, pull); verified. */
  expectDiffId?: Digest;
  /** The digest/size the stream as given must have (pull: the manifest's descriptor); verified. */
  expectBlob?: { digest: Digest; size?: number };
  /** Called with the number of uncompressed bytes read so far. */
  onProgress?: (bytes: number) => void;
}

export interface MountInfo {
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  mergedDir: string;
}

interface MountMeta {
  id: string;
  parent: Digest | null;
  created: string;
}

export function chainIdOf(parent: Digest | null, diffId: Digest): Digest {
  return parent ? sha256(`${parent} ${diffId}`) : diffId;
}

/** Chain IDs of a list of diff IDs, bottom first. */
export function chainIdsOf(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  let parent: Digest | null = null;
  for (const d of diffIds) {
    parent = chainIdOf(parent, d);
    out.push(parent);
  }
  return out;
}

/** Passes chunks through while writing them to `side`; ends only after `sideDone`. */
class Tee extends Transform {
  constructor(private readonly side: Writable, private readonly sideDone: Promise<unknown>) {
    super();
    side.on('error', (e) => this.destroy(e));
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    if (!this.side.write(chunk)) this.side.once('drain', () => cb(null, chunk));
    else cb(null, chunk);
  }
  override _flush(cb: (e?: Error | null) => void): void {
    this.side.end();
    this.sideDone.then(() => cb(), (e) => cb(e as Error));
  }
}

class Hasher extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onProgress?: (n: number) => void) { super(); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onProgress?.(this.bytes);
    cb(null, chunk);
  }
}

export class LayerStore {
  readonly root: string;
  private readonly layers = new Map<Digest, LayerMeta>();
  private readonly pins = new Map<Digest, number>();
  private readonly inflight = new Map<Digest, Promise<LayerMeta>>();
  private readonly mountLocks = new KeyedMutex();
  private initialised = false;

  constructor(dataRoot: string, private readonly content: ContentStore) {
    this.root = path.join(dataRoot, 'layers');
  }

  private get tmpDir(): string { return path.join(this.root, 'tmp'); }
  private get linkDir(): string { return path.join(this.root, 'l'); }
  private get mountsDir(): string { return path.join(this.root, 'mounts'); }
  get emptyDir(): string { return path.join(this.root, 'empty'); }

  layerDir(chainId: Digest): string { return path.join(this.root, digestHex(chainId)); }
  diffDir(chainId: Digest): string { return path.join(this.layerDir(chainId), 'diff'); }

  /** Creates the directories and loads the layer records. Idempotent. */
  async init(): Promise<void> {
    if (this.initialised) return;
    for (const d of [this.root, this.tmpDir, this.linkDir, this.mountsDir, this.emptyDir]) {
      await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    }
    await fsp.chmod(this.root, 0o711);
    await fsp.chmod(this.emptyDir, 0o755);
    this.layers.clear();
    for (const n of await fsp.readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      const meta = await readJsonIfExists<LayerMeta>(path.join(this.root, n, 'meta.json')).catch(() => undefined);
      if (meta && meta.chainId === `sha256:${n}`) this.layers.set(meta.chainId, meta);
    }
    this.initialised = true;
  }

  /**
   * Crash recovery at daemon start: drops half-made extractions and layer dirs without a
   * record, rebuilds missing short links and removes dangling ones.
   */
  async reconcile(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    this.initialised = false;
    await this.init();
    for (const n of await fsp.readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      if (!this.layers.has(`sha256:${n}` as Digest)) await fsp.rm(path.join(this.root, n), { recursive: true, force: true });
    }
    const wanted = new Map<string, LayerMeta>();
    for (const m of this.layers.values()) wanted.set(m.link, m);
    for (const n of await fsp.readdir(this.linkDir)) {
      if (!wanted.has(n)) await fsp.rm(path.join(this.linkDir, n), { force: true });
    }
    for (const [link, m] of wanted) await this.ensureLink(link, m.chainId);
    for (const n of await fsp.readdir(this.mountsDir)) {
      if (n.startsWith('.')) await fsp.rm(path.join(this.mountsDir, n), { recursive: true, force: true });
      else await removeStaleTemps(path.join(this.mountsDir, n));
    }
  }

  private async ensureLink(link: string, chainId: Digest): Promise<void> {
    const p = path.join(this.linkDir, link);
    const target = `../${digestHex(chainId)}/diff`;
    try {
      if ((await fsp.readlink(p)) === target) return;
      await fsp.rm(p, { force: true });
    } catch { /* missing */ }
    await fsp.symlink(target, p).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
  }

  get(chainId: Digest): LayerMeta | undefined { return this.layers.get(chainId); }
  has(chainId: Digest): boolean { return this.layers.has(chainId); }
  list(): LayerMeta[] { return [...this.layers.values()]; }

  /** The layers of a chain, bottom first. Throws NotFound when one is missing. */
  chain(chainId: Digest | null): LayerMeta[] {
    const out: LayerMeta[] = [];
    let cur = chainId;
    while (cur) {
      const m = this.layers.get(cur);
      if (!m) throw new NotFoundError(`layer ${cur} does not exist`);
      out.unshift(m);
      cur = m.parent;
    }
    return out;
  }

  /** Keeps layers from garbage collection while an operation that uses them is in flight. */
  pin(chainIds: Iterable<Digest>): void {
    for (const c of chainIds) this.pins.set(c, (this.pins.get(c) ?? 0) + 1);
  }
  unpin(chainIds: Iterable<Digest>): void {
    for (const c of chainIds) {
      const n = (this.pins.get(c) ?? 0) - 1;
      if (n <= 0) this.pins.delete(c); else this.pins.set(c, n);
    }
  }

  /**
   * Creates a layer on `parent` from a tar stream (uncompressed, gzip or zstd) and returns its
   * record; returns the existing record if the layer is already there. The new layer is pinned
   * once on behalf of the caller (unpin it after registering the image that uses it).
   */
  async createLayer(parent: Digest | null, src: Readable, opts: CreateLayerOptions = {}): Promise<LayerMeta> {
    await this.init();
    if (parent && !this.layers.has(parent)) throw new NotFoundError(`layer ${parent} does not exist`);
    if (opts.expectDiffId) {
      const chainId = chainIdOf(parent, opts.expectDiffId);
      const existing = this.layers.get(chainId);
      if (existing) {
        src.resume();
        this.pin([chainId]);
        return existing;
      }
      const running = this.inflight.get(chainId);
      if (running) {
        src.resume();
        const m = await running;
        this.pin([chainId]);
        return m;
      }
      const p = this.doCreate(parent, src, opts);
      this.inflight.set(chainId, p);
      try {
        const m = await p;
        this.pin([m.chainId]);
        return m;
      } finally {
        this.inflight.delete(chainId);
      }
    }
    const m = await this.doCreate(parent, src, opts);
    this.pin([m.chainId]);
    return m;
  }

  private async doCreate(parent: Digest | null, raw: Readable, opts: CreateLayerOptions): Promise<LayerMeta> {
    const tmp = path.join(this.tmpDir, randomBytes(12).toString('hex'));
    const diff = path.join(tmp, 'diff');
    await fsp.mkdir(diff, { recursive: true, mode: 0o755 });
    let writer: BlobWriter | undefined;
    try {
      const { head, stream } = await peek(raw, 8);
      const compression = detectCompression(head);
      writer = await this.content.openWriter();
      const blobDone = finished(writer.stream);
      blobDone.catch(() => undefined);
      const hasher = new Hasher(opts.onProgress);
      const rawHasher = new Hasher();
      let mediaType: string;
      const stages: (Readable | Writable | Transform)[] = [stream, rawHasher];
      if (compression === 'gzip' || compression === 'zstd') {
        mediaType = compression === 'gzip' ? MEDIA_LAYER_GZIP : MEDIA_LAYER_ZSTD;
        stages.push(new Tee(writer.stream, blobDone), decompressor(compression) as Transform, hasher);
      } else {
        mediaType = MEDIA_LAYER_GZIP;
        const gz = zlib.createGzip({ level: 1 });
        gz.pipe(writer.stream);
        gz.on('error', (e) => writer!.stream.destroy(e));
        if (compression !== 'none') stages.push(decompressor(compression) as Transform);
        stages.push(hasher, new Tee(gz, blobDone));
      }
      let pipeErr: Error | undefined;
      const out = (pipelineCb as unknown as (...a: unknown[]) => Readable)(...stages, (e: Error | null) => { if (e) pipeErr = e; });
      const { size } = await extractTar(out, diff);
      await blobDone;
      if (pipeErr) throw pipeErr;
      const diffId = `sha256:${hasher.hash.digest('hex')}` as Digest;
      const rawDigest = `sha256:${rawHasher.hash.digest('hex')}` as Digest;
      if (opts.expectDiffId && opts.expectDiffId !== diffId) {
        throw new InvalidParameterError(`layer diff ID mismatch: got ${diffId}, expected ${opts.expectDiffId}`);
      }
      if (opts.expectBlob) {
        if (opts.expectBlob.digest !== rawDigest) throw new InvalidParameterError(`digest mismatch: got ${rawDigest}, expected ${opts.expectBlob.digest}`);
        if (opts.expectBlob.size !== undefined && opts.expectBlob.size !== rawHasher.bytes) {
          throw new InvalidParameterError(`unexpected blob size: got ${rawHasher.bytes}, expected ${opts.expectBlob.size}`);
        }
      }
      const blobInfo = await writer.commit();
      writer = undefined;
      const chainId = chainIdOf(parent, diffId);
      const existing = this.layers.get(chainId);
      if (existing) {
        await fsp.rm(tmp, { recursive: true, force: true });
        return existing;
      }
      const meta: LayerMeta = {
        chainId, diffId, parent, size, tarSize: hasher.bytes,
        blob: { digest: blobInfo.digest, size: blobInfo.size, mediaType },
        link: randomBytes(13).toString('hex').toUpperCase(),
        created: new Date().toISOString(),
      };
      await writeJsonAtomic(path.join(tmp, 'meta.json'), meta, 0o644);
      try {
        await fsp.rename(tmp, this.layerDir(chainId));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
        // Another process made it first: use theirs.
        await fsp.rm(tmp, { recursive: true, force: true });
        const theirs = await readJsonIfExists<LayerMeta>(path.join(this.layerDir(chainId), 'meta.json'));
        if (!theirs) throw new SystemError(`layer ${chainId} is incomplete`);
        this.layers.set(chainId, theirs);
        await this.ensureLink(theirs.link, chainId);
        return theirs;
      }
      await this.ensureLink(meta.link, chainId);
      this.layers.set(chainId, meta);
      return meta;
    } catch (e) {
      raw.destroy();
      if (writer) await writer.abort();
      await fsp.rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Chain IDs in use by container mounts (their parents' whole chains). */
  private async mountedChains(): Promise<Set<Digest>> {
    const used = new Set<Digest>();
    for (const m of await this.listMounts()) {
      let cur = m.parent;
      while (cur && !used.has(cur)) {
        used.add(cur);
        cur = this.layers.get(cur)?.parent ?? null;
      }
    }
    return used;
  }

  /**
   * Removes the layers in `chainIds` that nothing else needs (not pinned, not the parent of a
   * remaining layer, not under a container mount, not in `keep`). Processes top-down so a chain
   * goes away whole. Returns the removed records.
   */
  async removeUnused(chainIds: Digest[], keep: Set<Digest>): Promise<LayerMeta[]> {
    const mounted = await this.mountedChains();
    const removed: LayerMeta[] = [];
    const order = [...chainIds].sort((a, b) => this.depth(b) - this.depth(a));
    for (const c of order) {
      const m = this.layers.get(c);
      if (!m || keep.has(c) || mounted.has(c) || (this.pins.get(c) ?? 0) > 0) continue;
      if ([...this.layers.values()].some((o) => o.parent === c)) continue;
      await this.removeLayer(m);
      removed.push(m);
    }
    return removed;
  }

  private depth(c: Digest): number {
    let n = 0;
    let cur: Digest | null = c;
    while (cur) { n++; cur = this.layers.get(cur)?.parent ?? null; }
    return n;
  }

  private async removeLayer(m: LayerMeta): Promise<void> {
    const dir = this.layerDir(m.chainId);
    const trash = path.join(this.tmpDir, `rm-${randomBytes(8).toString('hex')}`);
    this.layers.delete(m.chainId);
    await fsp.mkdir(this.tmpDir, { recursive: true });
    try {
      await fsp.rename(dir, trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fsp.rm(path.join(this.linkDir, m.link), { force: true });
    await fsp.rm(trash, { recursive: true, force: true });
    if (m.blob && ![...this.layers.values()].some((o) => o.blob?.digest === m.blob!.digest)) {
      await this.content.delete(m.blob.digest);
    }
  }

  /** The layer's uncompressed tar, byte for byte the one whose digest is its diff ID when a blob is kept. */
  exportLayer(chainId: Digest): Readable {
    const m = this.layers.get(chainId);
    if (!m) throw new NotFoundError(`layer ${chainId} does not exist`);
    if (m.blob) {
      const src = this.content.createReadStream(m.blob.digest);
      if (m.blob.mediaType === MEDIA_LAYER_TAR) return src;
      const d = decompressor(m.blob.mediaType === MEDIA_LAYER_ZSTD ? 'zstd' : 'gzip');
      src.on('error', (e) => d.destroy(e));
      return src.pipe(d);
    }
    return exportDir(this.diffDir(chainId));
  }

  /** A tar of any directory in overlay form (e.g. a container's upper dir), with OCI whiteouts. */
  exportDiff(dir: string): Readable {
    return exportDir(dir);
  }

  // ---- container writable layers

  private mountDir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new InvalidParameterError(`invalid mount id: ${id}`);
    return path.join(this.mountsDir, id);
  }

  private async mountMeta(id: string): Promise<MountMeta> {
    const m = await readJsonIfExists<MountMeta>(path.join(this.mountDir(id), 'meta.json'));
    if (!m) throw new NotFoundError(`no such mount: ${id}`);
    return m;
  }

  private withMountLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.mountLocks.run(id, fn);
  }

  /** Creates the writable layer of container `id` on top of `parent` (a chain ID, or null for no layers). */
  async createMount(id: string, parent: Digest | string | null): Promise<MountInfo> {
    await this.init();
    const parentId = (parent ?? null) as Digest | null;
    if (parentId !== null) {
      if (!isDigest(parentId) || !this.layers.has(parentId)) throw new NotFoundError(`layer ${parentId} does not exist`);
    }
    const dir = this.mountDir(id);
    try {
      await fsp.mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`mount ${id} already exists`);
      throw e;
    }
    for (const sub of ['diff', 'work', 'merged']) await fsp.mkdir(path.join(dir, sub), { mode: 0o755 });
    const meta: MountMeta = { id, parent: parentId, created: new Date().toISOString() };
    await writeJsonAtomic(path.join(dir, 'meta.json'), meta, 0o644);
    return this.mountInfo(id);
  }

  async listMounts(): Promise<MountMeta[]> {
    const out: MountMeta[] = [];
    let names: string[] = [];
    try { names = await fsp.readdir(this.mountsDir); } catch { return out; }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const m = await readJsonIfExists<MountMeta>(path.join(this.mountsDir, n, 'meta.json')).catch(() => undefined);
      if (m) out.push(m);
    }
    return out;
  }

  /** Paths for inspect's GraphDriver.Data; lowerDirs are the real diff dirs, top first. */
  async mountInfo(id: string): Promise<MountInfo> {
    const m = await this.mountMeta(id);
    const dir = this.mountDir(id);
    const lowers = m.parent ? this.chain(m.parent).reverse().map((l) => this.diffDir(l.chainId)) : [this.emptyDir];
    return { lowerDirs: lowers, upperDir: path.join(dir, 'diff'), workDir: path.join(dir, 'work'), mergedDir: path.join(dir, 'merged') };
  }

  /** Mounts the container's overlay (idempotent) and returns the merged path. */
  mount(id: string): Promise<string> {
    return this.withMountLock(id, async () => {
      const m = await this.mountMeta(id);
      const dir = this.mountDir(id);
      const merged = path.join(dir, 'merged');
      if (await isMountPoint(merged)) return merged;
      const lowerLinks = m.parent
        ? this.chain(m.parent).reverse().map((l) => path.join(this.linkDir, l.link))
        : [this.emptyDir];
      const upper = path.join(dir, 'diff');
      const work = path.join(dir, 'work');
      try {
        mountOverlay(lowerLinks, upper, work, merged);
      } catch (e) {
        throw new SystemError(`mounting overlay for ${id}: ${(e as Error).message}`, { cause: e });
      }
      return merged;
    });
  }

  /** Unmounts the container's overlay; a no-op when it is not mounted. */
  unmount(id: string): Promise<void> {
    return this.withMountLock(id, async () => {
      const merged = path.join(this.mountDir(id), 'merged');
      // Detached: the container's processes are gone, so nothing can be left writing; a lazy
      // unmount returns at once instead of holding the event loop while the kernel tears down.
      if (await isMountPoint(merged)) unmount(merged, MNT_DETACH);
    });
  }

  /** Unmounts and deletes the container's writable layer. Idempotent. */
  async removeMount(id: string): Promise<void> {
    await this.unmount(id);
    await this.withMountLock(id, async () => {
      const dir = this.mountDir(id);
      const trash = path.join(this.mountsDir, `.rm-${id}-${randomBytes(4).toString('hex')}`);
      try {
        await fsp.rename(dir, trash);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      // The layer is gone for every reader once renamed; deleting the files need not hold
      // up the caller (reconcile removes what a crash leaves behind).
      void fsp.rm(trash, { recursive: true, force: true }).catch(() => undefined);
    });
  }

  /** Bytes in the container's writable layer (SizeRw): all non-directories, hard links once. */
  async diffSize(id: string): Promise<number> {
    const upper = path.join(this.mountDir(id), 'diff');
    return dirSize(upper);
  }
}


export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let ents: fs.Dirent[];
    try { ents = await fsp.readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { await walk(p); continue; }
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.nlink > 1) {
        const k = `${st.dev}:${st.ino}`;
        if (seen.has(k)) continue;
        seen.add(k);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function isMountPoint(p: string): Promise<boolean> {
  let info: string;
  try { info = await fsp.readFile('/proc/self/mountinfo', 'utf8'); } catch { return false; }
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && unescapeMountPath(f[4]) === p) return true;
  }
  return false;
}

