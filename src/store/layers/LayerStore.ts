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
// rename; the loser discards its copy.
//
// Kept twice, deliberately (as containerd does): each layer is its extracted diff AND its blob in
// the ContentStore, the stream exactly as it came: a pull's compressed download, or the
// uncompressed tar of a load/import/commit. Why: save and push must reproduce the bytes whose
// digests the image names (diff ID, blob digest) and the extracted tree cannot (tar header order,
// padding, uname/gname, times); keeping a blob costs no CPU (the extractor writes it in the same
// pass; load's staged layer file is hard-linked in, not copied), whereas gzipping an uncompressed
// layer on the way in cost 2.6 s of CPU per 128 MB here, more than extracting it. The byte cost:
// for the debian+nginx archive (146 MB of layer tars) 141 MB of blobs beside 146 MB of diffs; for
// pulled layers, their compressed size (about 40% of the diff). LayerMeta.blob.size is that cost
// per layer (blobs shared by digest count once), for `docker system df` to show beside the diffs.
// Durability: nothing fsyncs the diff's files (as Docker); the blob is fdatasync'ed by the extractor
// (its writeback started every 8 MB as it is written, so that wait is short) or by linkFd before
// it is committed; the record and rename as below.
// The interface is in types.ts; overlay mounting and mountinfo parsing in mounts.ts.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { removeTrees } from '../../lib/sys/fsbatch';
import { Digest, digestHex, isDigest } from '../../lib/digest';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../../lib/errors';
import { fsyncDir, readJsonIfExists, readRecord, readRecordSync, writeJsonAtomic, removeStaleTempsSync } from '../../lib/atomic';
import { eachInBatches } from '../../lib/batches';
import { crashPoint, pausePoint } from '../../lib/crashpoint';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { quarantineAt } from '../../lib/quarantine';
import type { ContentStore } from '../content/types';
import { Compression, detectCompression, decompressor, peekInPlace } from './compression';
import { extractTar } from './extract';
import { linkFd, spreadDirs } from '../../lib/sys/untar';
import { exportDir } from './export';
import { mountPoints, OverlayMounts } from './mounts';
import { chainIdOf } from './chainid';
import type {
  CommitOptions, CreateFromBlobOptions, MountOptions, CreateLayerOptions, LayerMeta, LayerStore, MountInfo, MountOwner, MountRecord, PreparedLayer,
} from './types';

export type { CommitOptions, CreateFromBlobOptions, MountOptions, CreateLayerOptions, LayerBlob, LayerMeta, MountInfo, MountOwner, MountRecord, PreparedLayer } from './types';
export { isMountPoint } from './mounts';
export { chainIdOf, chainIdsOf } from './chainid';

export const MEDIA_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MEDIA_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

type MountMeta = MountRecord;

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

/**
 * The compression of `src` from its first bytes, and a stream that still yields everything:
 * an unread file stream is left untouched (its head read with pread), so the extractor can
 * read its fd directly.
 */
async function headOf(src: Readable): Promise<{ compression: Compression; stream: Readable }> {
  const fd = (src as fs.ReadStream & { fd?: unknown }).fd;
  if (src instanceof fs.ReadStream && typeof fd === 'number' && src.bytesRead === 0 && !src.readableFlowing) {
    const b = Buffer.alloc(8);
    const n = fs.readSync(fd, b, 0, 8, 0);
    return { compression: detectCompression(b.subarray(0, n)), stream: src };
  }
  const { head, stream } = await peekInPlace(src, 8);
  return { compression: detectCompression(head), stream };
}

/** A layer extracted into tmp/<id>/ (diff/, and blob unless it came from one), not yet in place. */
interface Extracted {
  tmp: string;
  blobFile: string;
  diffId: Digest;
  size: number;
  tarBytes: number;
  rawDigest: Digest;
  rawBytes: number;
  /** bzip2/xz input: the blob kept is the uncompressed tar. */
  blobIsTar: boolean;
  mediaType: string;
}

function checkExpected(x: Extracted, opts: { expectDiffId?: Digest; expectBlob?: { digest: Digest; size?: number } }): void {
  if (opts.expectDiffId && opts.expectDiffId !== x.diffId) {
    throw new InvalidParameterError(`layer diff ID mismatch: got ${x.diffId}, expected ${opts.expectDiffId}`);
  }
  if (opts.expectBlob) {
    if (opts.expectBlob.digest !== x.rawDigest) throw new InvalidParameterError(`digest mismatch: got ${x.rawDigest}, expected ${opts.expectBlob.digest}`);
    if (opts.expectBlob.size !== undefined && opts.expectBlob.size !== x.rawBytes) {
      throw new InvalidParameterError(`unexpected blob size: got ${x.rawBytes}, expected ${opts.expectBlob.size}`);
    }
  }
}

export class LocalLayerStore implements LayerStore {
  readonly root: string;
  private readonly layers = new Map<Digest, LayerMeta>();
  private readonly pins = new Map<Digest, number>();
  /** Layers being created whose chain ID is known (expectDiffId given). */
  private readonly inflight = new Map<Digest, Promise<LayerMeta>>();
  private readonly overlays = new OverlayMounts();
  /** Each writable layer's record, as read or written once (it never changes while it exists). */
  private readonly mountMetas = new Map<string, MountMeta>();
  /** Layer directories whose record cannot be read, with why (quarantined by reconcile). */
  private readonly unreadable = new Map<string, string>();
  private initialised = false;

  constructor(private readonly dataRoot: string, private readonly content: ContentStore) {
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
    // Each extraction's tmp/<id> starts in an inode group of its own, not where the layers just
    // removed (renamed into tmp/, then deleted) freed theirs: see spreadDirs.
    spreadDirs(this.tmpDir);
    this.layers.clear();
    this.unreadable.clear();
    for (const n of await fsp.readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      try {
        const meta = await readRecord<LayerMeta>(path.join(this.root, n, 'meta.json'), (v) => checkLayerMeta(v, n));
        // A layer is renamed into place with its record: a directory without one is damage, not a half-made layer.
        if (!meta) this.unreadable.set(n, 'no meta.json');
        else this.layers.set(meta.chainId, meta);
      } catch (e) {
        this.unreadable.set(n, (e as Error).message);
      }
    }
    this.initialised = true;
  }

  /**
   * Crash recovery at daemon start: drops half-made extractions (tmp/), moves layers whose
   * record cannot be read to the quarantine (whole, never deleted), rebuilds missing short
   * links and removes dangling ones.
   */
  async reconcile(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    this.initialised = false;
    await this.init();
    const quarantine = quarantineAt(this.dataRoot);
    for (const [n, reason] of this.unreadable) {
      await quarantine.moveOrLeave('layer', n, path.join(this.root, n), reason);
    }
    const wanted = new Map<string, LayerMeta>();
    for (const m of this.layers.values()) wanted.set(m.link, m);
    for (const n of await fsp.readdir(this.linkDir)) {
      if (!wanted.has(n)) await fsp.rm(path.join(this.linkDir, n), { force: true });
    }
    for (const [link, m] of wanted) await this.ensureLink(link, m.chainId);
    // one per container: synchronous in batches (lib/batches.ts)
    await eachInBatches(await fsp.readdir(this.mountsDir), 64, (n) => {
      if (n.startsWith('.')) return fsp.rm(path.join(this.mountsDir, n), { recursive: true, force: true });
      removeStaleTempsSync(path.join(this.mountsDir, n));
      return undefined;
    });
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

  createLayer(parent: Digest | null, src: Readable, opts: CreateLayerOptions = {}): Promise<LayerMeta> {
    return this.once(parent, opts.expectDiffId, () => src.resume(), () => this.doCreate(parent, src, opts));
  }

  createLayerFromBlob(digest: Digest, parent: Digest | null, opts: CreateFromBlobOptions = {}): Promise<LayerMeta> {
    return this.once(parent, opts.expectDiffId, () => undefined, async () => {
      const info = await this.content.info(digest);
      // The extractor reads the blob's file itself when the store has one.
      const src = this.content.blobPath
        ? fs.createReadStream('', { fd: fs.openSync(this.content.blobPath(digest), fs.constants.O_RDONLY) })
        : await this.content.readStream(digest);
      return this.doCreate(parent, src, { ...opts, expectBlob: info }, info);
    });
  }

  /**
   * Creates a layer once: returns the existing one, joins a creation of the same chain ID in
   * flight, or starts `create`. Synchronous up to `create` (once loaded), so that layers
   * started one after another in one turn find their parents in flight. Pins the result.
   */
  private once(parent: Digest | null, diffId: Digest | undefined, discard: () => void, create: () => Promise<LayerMeta>): Promise<LayerMeta> {
    if (!this.initialised) return this.init().then(() => this.once(parent, diffId, discard, create));
    const pinned = (m: LayerMeta): LayerMeta => { this.pin([m.chainId]); return m; };
    const chainId = diffId ? chainIdOf(parent, diffId) : undefined;
    if (chainId) {
      const existing = this.layers.get(chainId);
      if (existing) { discard(); return Promise.resolve(pinned(existing)); }
      const running = this.inflight.get(chainId);
      if (running) { discard(); return running.then(pinned); }
    }
    if (parent && !this.layers.has(parent) && !this.inflight.has(parent)) {
      return Promise.reject(new NotFoundError(`layer ${parent} does not exist`));
    }
    const p = create();
    if (chainId) {
      this.inflight.set(chainId, p);
      p.then(() => this.inflight.delete(chainId), () => this.inflight.delete(chainId));
    }
    return p.then(pinned);
  }

  /** Resolves once `parent` exists; waits for it when it is still being created. */
  private async parentReady(parent: Digest | null): Promise<void> {
    if (!parent || this.layers.has(parent)) return;
    const running = this.inflight.get(parent);
    if (!running) throw new NotFoundError(`layer ${parent} does not exist`);
    try {
      await running;
    } catch (e) {
      throw new NotFoundError(`layer ${parent} does not exist: creating it failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Extracts `raw` into a private temp dir while hashing it (native/extract.c, one pass), then
   * renames it into place. Without `fromBlob` the stream as given is also written, in the same
   * pass, to tmp/<id>/blob and moved into the content store as the layer's blob (see the top
   * of this file for why it is kept); with it, that blob is the layer's blob.
   */
  private async doCreate(parent: Digest | null, raw: Readable, opts: CreateLayerOptions, fromBlob?: { digest: Digest; size: number }): Promise<LayerMeta> {
    const x = await this.extractToTmp(raw, opts, fromBlob);
    try {
      checkExpected(x, opts);
      return await this.commitExtracted(parent, x, fromBlob);
    } catch (e) {
      await fsp.rm(x.tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * A layer extracted and hashed but not yet visible: load extracts each layer as its bytes
   * arrive, before it knows the layer's parent and expected diff ID (see types.ts).
   */
  async prepareLayer(src: Readable, opts: { onProgress?: (bytes: number) => void } = {}): Promise<PreparedLayer> {
    await this.init();
    const x = await this.extractToTmp(src, opts.onProgress ? { onProgress: opts.onProgress } : {});
    let settled = false;
    const discard = async (): Promise<void> => {
      if (settled) return;
      settled = true;
      await fsp.rm(x.tmp, { recursive: true, force: true });
    };
    return {
      diffId: x.diffId,
      rawDigest: x.rawDigest,
      discard,
      commit: async (parent, copts = {}) => {
        if (settled) throw new SystemError('prepared layer already committed or discarded');
        try {
          checkExpected(x, copts);
        } catch (e) {
          await discard();
          throw e;
        }
        settled = true;
        return this.once(parent, x.diffId, () => { void fsp.rm(x.tmp, { recursive: true, force: true }); }, () =>
          this.commitExtracted(parent, x).catch(async (e) => {
            await fsp.rm(x.tmp, { recursive: true, force: true });
            throw e;
          })).catch(async (e) => {
          await fsp.rm(x.tmp, { recursive: true, force: true });
          throw e;
        });
      },
    };
  }

  /** The extraction half of a layer's creation: tmp/<id>/diff and (unless fromBlob) tmp/<id>/blob. */
  private async extractToTmp(raw: Readable, opts: CreateLayerOptions, fromBlob?: { digest: Digest; size: number }): Promise<Extracted> {
    const tmp = path.join(this.tmpDir, randomBytes(12).toString('hex'));
    const diff = path.join(tmp, 'diff');
    const blobFile = path.join(tmp, 'blob');
    await fsp.mkdir(diff, { recursive: true, mode: 0o755 });
    let teeFd: number | undefined;
    try {
      let src = raw;
      let jsRaw: Hasher | undefined;
      // bzip2 and xz (docker load accepts them) go through the system tools: the blob kept is
      // then the uncompressed tar, and the raw digest is taken here.
      const head = await headOf(raw);
      if (head.compression === 'bzip2' || head.compression === 'xz') {
        jsRaw = new Hasher();
        const d = decompressor(head.compression) as Transform;
        src = head.stream.pipe(jsRaw).pipe(d);
        head.stream.on('error', (e) => d.destroy(e));
      } else {
        src = head.stream;
      }
      // load's staged file becomes the blob itself; any other stream is copied as it is read.
      const srcFd = (src as fs.ReadStream & { fd?: unknown }).fd;
      const adopt = !fromBlob && !jsRaw && opts.adoptSource === true && src instanceof fs.ReadStream && typeof srcFd === 'number' && src.bytesRead === 0;
      if (!fromBlob && !adopt) teeFd = fs.openSync(blobFile, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      const res = await extractTar(src, diff, {
        ...(adopt ? { keepOpen: true } : {}),
        ...(teeFd !== undefined ? { teeFd } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      if (teeFd !== undefined) { fs.closeSync(teeFd); teeFd = undefined; }
      if (adopt) {
        try { linkFd(srcFd as number, blobFile); } finally { src.destroy(); }
      }
      const diffId = res.diffId;
      return {
        tmp, blobFile, diffId, size: res.size, tarBytes: res.tarBytes,
        rawDigest: jsRaw ? `sha256:${jsRaw.hash.digest('hex')}` as Digest : res.rawDigest,
        rawBytes: jsRaw ? jsRaw.bytes : res.rawBytes,
        // What the kept blob is: the stream as given, or (bzip2/xz) the uncompressed tar.
        blobIsTar: !!jsRaw,
        mediaType: jsRaw || res.compression === 'none' ? MEDIA_LAYER_TAR : res.compression === 'gzip' ? MEDIA_LAYER_GZIP : MEDIA_LAYER_ZSTD,
      };
    } catch (e) {
      raw.destroy();
      if (teeFd !== undefined) fs.closeSync(teeFd);
      await fsp.rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** The commit half: the blob into the content store, the record, the rename into place. On failure the caller removes x.tmp. */
  private async commitExtracted(parent: Digest | null, x: Extracted, fromBlob?: { digest: Digest; size: number }): Promise<LayerMeta> {
    const { tmp, diffId } = x;
    const blobInfo = fromBlob ?? await this.keepBlob(x.blobFile, x.blobIsTar ? { digest: diffId, size: x.tarBytes } : { digest: x.rawDigest, size: x.rawBytes });
    crashPoint('layer.create.after-blob');
    // Extraction ran alongside the parent's; the record waits for the parent to exist.
    await this.parentReady(parent);
    const chainId = chainIdOf(parent, diffId);
    const existing = this.layers.get(chainId);
    if (existing) {
      await fsp.rm(tmp, { recursive: true, force: true });
      return existing;
    }
    const meta: LayerMeta = {
      chainId, diffId, parent, size: x.size, tarSize: x.tarBytes,
      blob: { digest: blobInfo.digest, size: blobInfo.size, mediaType: x.mediaType },
      link: randomBytes(13).toString('hex').toUpperCase(),
      created: new Date().toISOString(),
    };
    await writeJsonAtomic(path.join(tmp, 'meta.json'), meta, 0o644);
    crashPoint('layer.create.before-rename');
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
    // The rename is durable only once layers/ is fsynced: without it a power loss can take
    // back a layer an image record (written next, fsynced) already names. The short link
    // needs no fsync: reconcile rebuilds missing ones.
    await fsyncDir(this.root);
    crashPoint('layer.create.after-rename');
    await this.ensureLink(meta.link, chainId);
    this.layers.set(chainId, meta);
    return meta;
  }

  /** Moves the extractor's copy of the stream into the content store (copies it when it cannot). */
  private async keepBlob(file: string, info: { digest: Digest; size: number }): Promise<{ digest: Digest; size: number }> {
    if (this.content.adoptFile) {
      try {
        return await this.content.adoptFile(file, info);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      }
    }
    return this.content.writeStream(fs.createReadStream(file), info);
  }

  /**
   * Chain IDs in use by container mounts (their parents' whole chains). A mount whose record
   * cannot be read (its container's record is quarantined too) may sit on any layer: then
   * every layer is in use.
   */
  private async mountedChains(): Promise<Set<Digest>> {
    const used = new Set<Digest>();
    const { records, unreadable } = await this.readMounts();
    if (unreadable.size > 0) return new Set(this.layers.keys());
    for (const m of records) {
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

  async exportLayer(chainId: Digest): Promise<Readable> {
    const m = this.layers.get(chainId);
    if (!m) throw new NotFoundError(`layer ${chainId} does not exist`);
    if (m.blob) {
      const src = await this.content.readStream(m.blob.digest);
      if (m.blob.mediaType === MEDIA_LAYER_TAR) return src;
      const d = decompressor(m.blob.mediaType === MEDIA_LAYER_ZSTD ? 'zstd' : 'gzip');
      src.on('error', (e) => d.destroy(e));
      return src.pipe(d);
    }
    return exportDir(this.diffDir(chainId));
  }

  // ---- container writable layers

  private mountDir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new InvalidParameterError(`invalid mount id: ${id}`);
    return path.join(this.mountsDir, id);
  }

  private async mountMeta(id: string): Promise<MountMeta> {
    const known = this.mountMetas.get(id);
    if (known) return known;
    const m = await readRecord<MountMeta>(path.join(this.mountDir(id), 'meta.json'), (v) => checkMountMeta(v, id));
    if (!m) throw new NotFoundError(`no such mount: ${id}`);
    this.mountMetas.set(id, m);
    return m;
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
    await makeMountSubdirs(dir);
    const meta: MountMeta = { id, parent: parentId, created: new Date().toISOString() };
    await pausePoint('layer.mount.before-meta');
    // meta.json is fsynced before its rename, then mounts/<id>/ (meta.json's and the
    // subdirectories' entries); mounts/ (<id> itself) is fsynced beside that write: a power
    // loss cannot take back a layer that create reported. Side by side: one journal commit's
    // wait instead of two. (A container record written beside this, crashed before it ends, is
    // repaired at the next start: reconcileMounts rebuilds the meta, restoreContainers the layer.)
    await Promise.all([writeJsonAtomic(path.join(dir, 'meta.json'), meta, 0o644, 'full'), fsyncDir(this.mountsDir)]);
    this.mountMetas.set(id, meta);
    crashPoint('layer.mount.after-create');
    return this.mountInfoOf(meta);
  }

  async listMounts(): Promise<MountMeta[]> {
    return (await this.readMounts()).records;
  }

  /** The mount records, and the mounts whose record is missing or cannot be read (with why). */
  private async readMounts(): Promise<{ records: MountMeta[]; unreadable: Map<string, string> }> {
    const records: MountMeta[] = [];
    const unreadable = new Map<string, string>();
    let names: string[] = [];
    try { names = await fsp.readdir(this.mountsDir); } catch { return { records, unreadable }; }
    // one per container, at daemon start: synchronous reads in batches (lib/batches.ts)
    await eachInBatches(names, 64, (n) => {
      if (n.startsWith('.')) return;
      try {
        const m = readRecordSync<MountMeta>(path.join(this.mountsDir, n, 'meta.json'), (v) => checkMountMeta(v, n));
        if (m) records.push(m); else unreadable.set(n, 'no meta.json');
      } catch (e) {
        unreadable.set(n, errorMessage(e));
      }
    });
    return { records, unreadable };
  }

  async reconcileMounts(ownerOf: (id: string) => MountOwner): Promise<Set<string>> {
    const { records, unreadable } = await this.readMounts();
    const held = new Set<string>();
    for (const m of records) {
      if (ownerOf(m.id) !== undefined) { held.add(m.id); continue; }
      log.info('removing writable layer of an unknown container', { id: m.id });
      await this.removeMount(m.id).catch((e) => log.warn('could not remove orphan layer', { id: m.id, error: errorMessage(e) }));
    }
    for (const [id, reason] of unreadable) {
      const owner = ownerOf(id);
      const dir = path.join(this.mountsDir, id);
      if (owner === 'held') continue; // its container's record is in the quarantine: kept as it is, with it
      if (owner) {
        // The container record names the parent chain: the mount record is rebuilt from it.
        const meta: MountMeta = { id, parent: owner.parent as Digest | null, created: owner.created };
        // (a create cut short may have made the directory alone: its subdirectories too)
        await makeMountSubdirs(dir);
        await writeJsonAtomic(path.join(dir, 'meta.json'), meta, 0o644);
        held.add(id);
        log.error('unreadable writable-layer record rebuilt from the container record', { id, reason, parent: meta.parent });
      } else if (reason === 'no meta.json' && await isEmptyLayer(dir)) {
        // A create cut short before the record: nothing was ever written into it.
        await fsp.rm(dir, { recursive: true, force: true });
      } else {
        await quarantineAt(this.dataRoot).moveOrLeave('mount', id, dir, reason);
      }
    }
    return held;
  }

  /** Paths for inspect's GraphDriver.Data; lowerDirs are the real diff dirs, top first. */
  async mountInfo(id: string): Promise<MountInfo> {
    return this.mountInfoOf(await this.mountMeta(id));
  }

  private mountInfoOf(m: MountMeta): MountInfo {
    const dir = this.mountDir(m.id);
    const lowers = m.parent ? this.chain(m.parent).reverse().map((l) => this.diffDir(l.chainId)) : [this.emptyDir];
    return { lowerDirs: lowers, upperDir: path.join(dir, 'diff'), workDir: path.join(dir, 'work'), mergedDir: path.join(dir, 'merged') };
  }

  async mount(id: string, opts?: MountOptions): Promise<string> {
    const dir = this.mountDir(id);
    return this.overlays.mount(id, async () => {
      const m = await this.mountMeta(id);
      const lowers = m.parent ? this.chain(m.parent).reverse().map((l) => path.join(this.linkDir, l.link)) : [this.emptyDir];
      // A remapped container's root reaches its rootfs through this directory (search only).
      if (opts?.idmap) await fsp.chmod(dir, 0o711);
      return { lowers, upper: path.join(dir, 'diff'), work: path.join(dir, 'work'), target: path.join(dir, 'merged') };
    }, opts?.idmap);
  }

  async unmount(id: string): Promise<void> {
    return this.overlays.unmount(id, path.join(this.mountDir(id), 'merged'));
  }

  /** The writable layers mounted now, from one read of mountinfo (at start, for all records at once). */
  async mountedIds(): Promise<Set<string>> {
    const prefix = this.mountsDir + path.sep;
    const ids = new Set<string>();
    for (const p of await mountPoints()) {
      if (p.startsWith(prefix) && p.endsWith(`${path.sep}merged`)) ids.add(p.slice(prefix.length, -`${path.sep}merged`.length));
    }
    return ids;
  }

  /** Unmounts and deletes the container's writable layer. Idempotent. */
  async removeMount(id: string): Promise<void> {
    await this.unmount(id);
    await this.overlays.locked(id, async () => {
      const dir = this.mountDir(id);
      const trash = path.join(this.mountsDir, `.rm-${id}-${randomBytes(4).toString('hex')}`);
      this.mountMetas.delete(id);
      try {
        await fsp.rename(dir, trash);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      // The layer is gone for every reader once renamed; deleting the files need not hold
      // up the caller (reconcile removes what a crash leaves behind).
      void removeTrees([trash]).catch(() => undefined);
    });
  }

  /** Bytes in the container's writable layer (SizeRw): all non-directories, hard links once. */
  async diffSize(id: string): Promise<number> {
    const upper = path.join(this.mountDir(id), 'diff');
    return dirSize(upper);
  }

  /** Holds the container's mount lock: no unmount or removal pulls the upper dir away meanwhile. */
  async commitMount(id: string, opts: CommitOptions = {}): Promise<LayerMeta> {
    const upper = path.join(this.mountDir(id), 'diff');
    return this.overlays.locked(id, async () => {
      const m = await this.mountMeta(id);
      return this.createLayer(m.parent, exportDir(upper), opts.onProgress ? { onProgress: opts.onProgress } : {});
    });
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

/** What makes a parsed mount record unusable for mount directory `id`, if anything. */
function checkMountMeta(v: unknown, id: string): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const m = v as Partial<MountMeta>;
  if (m.id !== id) return `id ${JSON.stringify(m.id)} is not the directory's`;
  if (m.parent !== null && (typeof m.parent !== 'string' || !isDigest(m.parent))) return 'bad parent';
  return undefined;
}

/** A writable layer's diff, work and merged (those already there are fine). */
async function makeMountSubdirs(dir: string): Promise<void> {
  await Promise.all(['diff', 'work', 'merged'].map((sub) => fsp.mkdir(path.join(dir, sub), { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  })));
}

/** True when a writable layer's upper dir holds nothing (or does not exist). */
async function isEmptyLayer(dir: string): Promise<boolean> {
  const names = await fsp.readdir(path.join(dir, 'diff')).catch(() => [] as string[]);
  return names.length === 0;
}

/** What makes a parsed layer record unusable for directory `hex`, if anything. */
function checkLayerMeta(v: unknown, hex: string): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const m = v as Partial<LayerMeta>;
  if (m.chainId !== `sha256:${hex}`) return `chainId ${JSON.stringify(m.chainId)} is not the directory's`;
  if (typeof m.diffId !== 'string' || !isDigest(m.diffId)) return 'no diffId';
  if (m.parent !== null && (typeof m.parent !== 'string' || !isDigest(m.parent))) return 'bad parent';
  if (typeof m.link !== 'string' || !/^[A-Z0-9]+$/.test(m.link)) return 'bad link';
  return undefined;
}
