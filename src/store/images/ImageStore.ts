// Image records and references.
//
//   <root>/images/meta/<idHex>.json    { id, parent, lastTagTime, added }   (the image exists iff this exists)
//   <root>/images/repositories.json    { refs: { "docker.io/library/busybox:latest": "sha256:<id>", ... } }
//
// The image ID is the digest of the config JSON, which lives in the ContentStore. References
// are kept fully qualified and shown familiar. Every write is atomic (temp, fsync, rename);
// mutations are serialised by one in-process lock. At start, a record that cannot be read goes
// to the quarantine and an image that cannot be used is held back; neither drops its layers or tags.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Digest, digestHex, isDigest, sha256 } from '../../lib/digest';
import { errorMessage, InvalidParameterError, NotFoundError } from '../../lib/errors';
import { readRecord, removeStaleTemps, writeJsonAtomic } from '../../lib/atomic';
import { crashPoint } from '../../lib/crashpoint';
import { log } from '../../lib/log';
import { Mutex } from '../../lib/mutex';
import { type Quarantine, quarantineAt } from '../../lib/quarantine';
import type { ContentStore } from '../content/types';
import type { LayerStore } from '../layers/types';
import { chainIdsOf } from '../layers/chainid';
import type { ImageConfig, ImageRecord, ImageStore } from './types';
import {
  familiarString, isIdPrefix, normalizedString, parseNormalizedNamed, parseNormalizedTagged, Reference,
} from '../../lib/reference';

export type { HealthConfig, HistoryEntry, ImageConfig, ImageRecord, ImageRunConfig } from './types';

interface ImageMetaFile {
  id: Digest;
  parent?: Digest | '';
  lastTagTime?: string;
  added: string;
}

interface RefsFile {
  refs: Record<string, Digest>;
}

interface Entry {
  meta: ImageMetaFile;
  config: ImageConfig;
  configSize: number;
}

export class LocalImageStore implements ImageStore {
  private readonly dir: string;
  private readonly metaDir: string;
  private readonly refsFile: string;
  private readonly images = new Map<Digest, Entry>();
  private refs = new Map<string, Digest>();
  /**
   * Images whose record is kept on disk (or quarantined) but that cannot be used this start:
   * an unreadable record, a missing config blob, a missing layer. Not listed; their layers are
   * pinned (never collected) and their references kept in `heldRefs`, so a repair brings back
   * the whole image at the next start, or at once when the image is loaded again.
   */
  private readonly held = new Map<Digest, { meta?: ImageMetaFile; pinned: Digest[] }>();
  /** References to images that are not loaded: kept in repositories.json, not resolvable. */
  private heldRefs = new Map<string, Digest>();
  /** Found by init(), dealt with by reconcile(): record files that cannot be read, and why. */
  private readonly unreadable = new Map<string, string>();
  private readonly noConfig = new Map<Digest, { meta: ImageMetaFile; why: string }>();
  private refsUnreadable: string | undefined;
  /** Unreadable records that could not be moved to the quarantine (this start). */
  private readonly leftInPlace = new Set<string>();
  private readonly quarantine: Quarantine;
  private readonly mutex = new Mutex();
  private initialised = false;

  constructor(dataRoot: string, private readonly content: ContentStore, private readonly layers: LayerStore) {
    this.dir = path.join(dataRoot, 'images');
    this.metaDir = path.join(this.dir, 'meta');
    this.refsFile = path.join(this.dir, 'repositories.json');
    this.quarantine = quarantineAt(dataRoot);
  }

  /** Runs `fn` exclusively with other store mutations. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(fn);
  }

  async init(): Promise<void> {
    if (this.initialised) return;
    await fsp.mkdir(this.metaDir, { recursive: true, mode: 0o700 });
    this.images.clear();
    this.unreadable.clear();
    this.noConfig.clear();
    for (const n of await fsp.readdir(this.metaDir)) {
      const m = /^([a-f0-9]{64})\.json$/.exec(n);
      if (!m) continue;
      const id = `sha256:${m[1]}` as Digest;
      let meta: ImageMetaFile | undefined;
      try {
        meta = await readRecord<ImageMetaFile>(path.join(this.metaDir, n), (v) => checkImageMeta(v, id));
      } catch (e) {
        this.unreadable.set(n, errorMessage(e));
        continue;
      }
      if (!meta) continue;
      try {
        const raw = await this.content.readBlob(meta.id);
        if (sha256(raw) !== meta.id) throw new Error('its digest does not match');
        this.images.set(meta.id, { meta, config: JSON.parse(raw.toString('utf8')) as ImageConfig, configSize: raw.length });
      } catch (e) {
        this.noConfig.set(id, { meta, why: `its config blob cannot be read: ${errorMessage(e)}` });
      }
    }
    let rf: RefsFile | undefined;
    this.refsUnreadable = undefined;
    try {
      rf = await readRecord<RefsFile>(this.refsFile, checkRefsFile);
    } catch (e) {
      this.refsUnreadable = errorMessage(e);
    }
    this.refs = new Map();
    this.heldRefs = new Map();
    for (const [ref, id] of Object.entries(rf?.refs ?? {})) {
      if (!isDigest(id)) continue;
      (this.images.has(id) ? this.refs : this.heldRefs).set(ref, id);
    }
    this.initialised = true;
  }

  /**
   * At daemon start: drops temp files; moves unreadable records (image and reference records)
   * to the quarantine; holds back images that cannot be used (config blob or a layer missing).
   * Nothing is deleted: whatever a bad record may have referenced stays.
   */
  async reconcile(): Promise<void> {
    await fsp.mkdir(this.metaDir, { recursive: true });
    await removeStaleTemps(this.dir);
    await removeStaleTemps(this.metaDir);
    for (const h of this.held.values()) this.layers.unpin(h.pinned);
    this.held.clear();
    this.leftInPlace.clear();
    this.initialised = false;
    await this.init();
    for (const [n, reason] of this.unreadable) {
      const id = `sha256:${n.slice(0, 64)}` as Digest;
      const moved = await this.quarantine.moveOrLeave('image', n.slice(0, 64), path.join(this.metaDir, n), reason);
      if (!moved) this.leftInPlace.add(path.join(this.metaDir, n));
      // The record is gone but the config blob says which layers the image had.
      this.hold(id, undefined, await this.chainIdsFromBlob(id));
    }
    for (const [id, { meta, why }] of this.noConfig) {
      this.holdWithNotice(id, meta, undefined, why);
    }
    for (const [id, e] of [...this.images]) {
      try {
        this.layers.chain(this.topOf(e.config));
      } catch (err) {
        this.images.delete(id);
        for (const [ref, target] of [...this.refs]) if (target === id) { this.refs.delete(ref); this.heldRefs.set(ref, id); }
        this.holdWithNotice(id, e.meta, chainIdsOf(e.config.rootfs?.diff_ids ?? []), `a layer is missing: ${errorMessage(err)}`);
      }
    }
    if (this.refsUnreadable !== undefined) {
      const moved = await this.quarantine.moveOrLeave('reference', path.basename(this.refsFile), this.refsFile, this.refsUnreadable);
      if (!moved) this.leftInPlace.add(this.refsFile);
    }
    await this.dropOrphanConfigs();
  }

  /**
   * Where records of this store are that could not be read: in the quarantine, or left in
   * place when they could not be moved. While there is one, an image may have tags (a
   * reference record) or children (an image record) that this store does not know.
   */
  async unreadableRecords(): Promise<string[]> {
    const quarantined = [...await this.quarantine.list('reference'), ...await this.quarantine.list('image')];
    return [...quarantined.map((q) => q.path), ...this.leftInPlace];
  }

  /**
   * The one leak a crash leaves in the content store: the config blob of an image whose record
   * was never written (crash point image.add.after-config). Deleted here, at start, before the
   * daemon serves: no operation is in flight, so no blob is younger than this start or held by
   * one (a pull or build that committed a config and had not yet added the image is gone with
   * the process; resumed, it writes the blob again). Only blobs that are image configs and that
   * no image names (loaded, held, quarantined, or with a record left in place) are deleted:
   * layer blobs, manifests and anything else a later store keeps are never looked at beyond
   * their size and first byte. A new kind of record that names config blobs must be added here.
   */
  private async dropOrphanConfigs(): Promise<void> {
    const keep = new Set<string>([...this.images.keys(), ...this.held.keys(), ...this.noConfig.keys()]);
    for (const l of this.layers.list()) if (l.blob) keep.add(l.blob.digest);
    for (const q of await this.quarantine.list('image')) keep.add(`sha256:${q.name}`);
    for (const n of await fsp.readdir(this.metaDir)) if (/^[a-f0-9]{64}\.json$/.test(n)) keep.add(`sha256:${n.slice(0, 64)}`);
    for (const digest of await this.content.list()) {
      if (keep.has(digest)) continue;
      try {
        if ((await this.content.info(digest)).size > MAX_CONFIG_BYTES) continue;
        const raw = await this.content.readBlob(digest);
        if (raw[0] !== 0x7b /* '{' */ || !isImageConfig(raw)) continue;
        await this.content.delete(digest);
        log.info('deleted the config blob of an image that was never recorded', { digest });
      } catch (e) {
        log.warn('could not check an unreferenced blob; kept', { digest, error: errorMessage(e) });
      }
    }
  }

  private holdWithNotice(id: Digest, meta: ImageMetaFile | undefined, chainIds: Digest[] | undefined, why: string): void {
    log.error('image cannot be used, its record is kept', { id, reason: why });
    this.quarantine.notice(`image:${id}`, `WARNING: image ${id} cannot be used (${why}); its record and layers are kept`);
    this.hold(id, meta, chainIds);
  }

  /** Keeps an unusable image's layers from collection; `undefined` chains (not known): every layer. */
  private hold(id: Digest, meta: ImageMetaFile | undefined, chainIds: Digest[] | undefined): void {
    if (!chainIds) log.error('the layers of an unusable image are not known: no layer is collected until it is repaired', { id });
    const pinned = chainIds ?? this.layers.list().map((l) => l.chainId);
    this.layers.pin(pinned);
    this.held.set(id, { ...(meta ? { meta } : {}), pinned });
  }

  private async chainIdsFromBlob(id: Digest): Promise<Digest[] | undefined> {
    try {
      const raw = await this.content.readBlob(id);
      if (sha256(raw) !== id) return undefined;
      const diffIds = (JSON.parse(raw.toString('utf8')) as ImageConfig).rootfs?.diff_ids;
      return Array.isArray(diffIds) && diffIds.every((d) => isDigest(d)) ? chainIdsOf(diffIds) : undefined;
    } catch {
      return undefined;
    }
  }

  /** An image that was held is whole again (loaded anew): its references come back, its pins go. */
  private release(id: Digest): void {
    const h = this.held.get(id);
    if (h) {
      this.held.delete(id);
      this.layers.unpin(h.pinned);
      this.quarantine.clearNotice(`image:${id}`);
    }
    for (const [ref, target] of [...this.heldRefs]) if (target === id) { this.heldRefs.delete(ref); this.refs.set(ref, id); }
  }

  private topOf(config: ImageConfig): Digest | null {
    const ids = chainIdsOf(config.rootfs?.diff_ids ?? []);
    return ids.length ? ids[ids.length - 1] : null;
  }

  private async saveRefs(): Promise<void> {
    const all = [...this.heldRefs, ...this.refs];
    const obj: RefsFile = { refs: Object.fromEntries(all.sort(([a], [b]) => a.localeCompare(b))) };
    await writeJsonAtomic(this.refsFile, obj, 0o600);
  }

  private record(e: Entry): ImageRecord {
    const chainIds = chainIdsOf(e.config.rootfs?.diff_ids ?? []);
    let size = 0;
    for (const c of chainIds) size += this.layers.get(c)?.size ?? 0;
    const repoTags: string[] = [];
    const repoDigests: string[] = [];
    for (const [ref, id] of this.refs) {
      if (id !== e.meta.id) continue;
      const r = parseNormalizedNamed(ref);
      if (r.digest !== undefined) repoDigests.push(familiarString(r));
      else repoTags.push(familiarString(r));
    }
    return {
      id: e.meta.id,
      config: e.config,
      configSize: e.configSize,
      chainIds,
      topChainId: chainIds.length ? chainIds[chainIds.length - 1] : null,
      repoTags,
      repoDigests,
      parent: e.meta.parent ?? '',
      lastTagTime: e.meta.lastTagTime ?? null,
      size,
      added: e.meta.added,
    };
  }

  get(id: Digest): ImageRecord | undefined {
    const e = this.images.get(id);
    return e ? this.record(e) : undefined;
  }

  has(id: Digest): boolean { return this.images.has(id); }

  list(): ImageRecord[] {
    return [...this.images.values()].map((e) => this.record(e));
  }

  /**
   * Stores an image whose layers are already in the LayerStore: config blob, then record.
   * Idempotent: an existing image is returned unchanged.
   */
  async add(configBytes: Buffer, opts: { parent?: Digest } = {}): Promise<ImageRecord> {
    await this.init();
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch {
      throw new InvalidParameterError('invalid image config: not JSON');
    }
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw new InvalidParameterError('invalid image config: no rootfs');
    for (const d of config.rootfs.diff_ids) if (!isDigest(d)) throw new InvalidParameterError(`invalid image config: bad diff ID ${d}`);
    this.layers.chain(this.topOf(config)); // all layers must exist
    return this.exclusive(async () => {
      const { digest: id, size } = await this.content.writeBlob(configBytes);
      crashPoint('image.add.after-config');
      const have = this.images.get(id);
      if (have) return this.record(have);
      const meta: ImageMetaFile = this.held.get(id)?.meta
        ?? { id, added: new Date().toISOString(), ...(opts.parent ? { parent: opts.parent } : {}) };
      await writeJsonAtomic(path.join(this.metaDir, `${digestHex(id)}.json`), meta, 0o600);
      const e: Entry = { meta, config, configSize: size };
      this.images.set(id, e);
      this.release(id);
      return this.record(e);
    });
  }

  /** Points `ref` (any form; normalised here) at image `id`. Returns the previous image of that ref. */
  async setRef(ref: Reference | string, id: Digest): Promise<Digest | undefined> {
    const key = normalizedString(typeof ref === 'string' ? parseNormalizedTagged(ref) : ref);
    return this.exclusive(async () => {
      const e = this.images.get(id);
      if (!e) throw new NotFoundError(`No such image: ${id}`);
      const prev = this.refs.get(key);
      this.refs.set(key, id);
      this.heldRefs.delete(key);
      await this.saveRefs();
      crashPoint('image.tag.after-refs');
      e.meta.lastTagTime = new Date().toISOString();
      await writeJsonAtomic(path.join(this.metaDir, `${digestHex(id)}.json`), e.meta, 0o600);
      return prev;
    });
  }

  /** Removes a reference; returns the image it pointed at. */
  async removeRef(ref: Reference | string): Promise<Digest | undefined> {
    const key = normalizedString(typeof ref === 'string' ? parseNormalizedTagged(ref) : ref);
    return this.exclusive(async () => {
      const id = this.refs.get(key);
      if (id === undefined) return undefined;
      this.refs.delete(key);
      await this.saveRefs();
      return id;
    });
  }

  /** The image a reference points at. */
  refTarget(ref: Reference): Digest | undefined {
    return this.refs.get(normalizedString(ref));
  }

  /** Normalised references of an image (tags and digests). */
  refsOf(id: Digest): Reference[] {
    const out: Reference[] = [];
    for (const [ref, target] of this.refs) if (target === id) out.push(parseNormalizedNamed(ref));
    return out;
  }

  /** Deletes an image record and all its references. Layers are the caller's business. */
  async delete(id: Digest): Promise<void> {
    await this.exclusive(async () => {
      let changed = false;
      for (const [ref, target] of this.refs) if (target === id) { this.refs.delete(ref); changed = true; }
      if (changed) await this.saveRefs();
      await fsp.rm(path.join(this.metaDir, `${digestHex(id)}.json`), { force: true });
      this.images.delete(id);
      await this.content.delete(id); // the config blob belongs to this image alone
    });
  }

  /** Images whose parent is `id` (builder lineage). */
  children(id: Digest): Digest[] {
    return [...this.images.values()].filter((e) => e.meta.parent === id).map((e) => e.meta.id);
  }

  /**
   * Resolves what a user typed: full ID, `sha256:<id>`, `name`, `name:tag`, `name@digest`,
   * or a unique ID prefix. Throws NotFoundError(`No such image: <ref>`).
   */
  resolve(s: string): ImageRecord {
    const id = this.resolveId(s);
    if (!id) throw new NotFoundError(`No such image: ${notFoundName(s)}`);
    return this.get(id)!;
  }

  resolveId(s: string): Digest | undefined {
    if (/^sha256:[a-f0-9]{64}$/.test(s)) return this.images.has(s as Digest) ? (s as Digest) : undefined;
    if (/^[a-f0-9]{64}$/.test(s)) return this.images.has(`sha256:${s}` as Digest) ? (`sha256:${s}` as Digest) : undefined;
    let ref: Reference | undefined;
    try { ref = parseNormalizedNamed(s); } catch { ref = undefined; }
    if (ref) {
      if (ref.digest !== undefined && ref.tag === undefined) {
        const byRef = this.refs.get(normalizedString(ref));
        if (byRef) return byRef;
        if (this.images.has(ref.digest as Digest)) return ref.digest as Digest;
      } else {
        if (ref.tag === undefined) ref.tag = 'latest';
        const byRef = this.refs.get(normalizedString({ ...ref, digest: undefined }));
        if (byRef) return byRef;
      }
    }
    if (isIdPrefix(s)) {
      const hex = s.replace(/^sha256:/, '');
      const matches = [...this.images.keys()].filter((id) => id.startsWith('sha256:' + hex));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${s}`);
    }
    return undefined;
  }

  /** True when `s` names the image by (a prefix of) its ID rather than by a reference. */
  isIdReference(s: string, id: Digest): boolean {
    if (!isIdPrefix(s)) return false;
    const hex = s.replace(/^sha256:/, '');
    if (!id.startsWith('sha256:' + hex)) return false;
    // A string that is both a valid name and an existing reference is a reference.
    try {
      const r = parseNormalizedNamed(s);
      if (r.tag === undefined && r.digest === undefined) r.tag = 'latest';
      if (this.refs.has(normalizedString(r))) return false;
    } catch { /* hex-only 64: not a name */ }
    return true;
  }
}

/** Image configs are small (Docker Hub caps them at a few MB); anything bigger is not looked into. */
const MAX_CONFIG_BYTES = 8 << 20;

/** True for an image config: a JSON object whose rootfs has diff_ids (what ImageStore.add accepts). */
function isImageConfig(raw: Buffer): boolean {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<ImageConfig>;
    return !!v && typeof v === 'object' && !!v.rootfs && Array.isArray(v.rootfs.diff_ids);
  } catch {
    return false;
  }
}

/** What makes a parsed image record unusable as the record of image `id`, if anything. */
function checkImageMeta(v: unknown, id: Digest): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  if ((v as Partial<ImageMetaFile>).id !== id) return `id ${JSON.stringify((v as Partial<ImageMetaFile>).id)} is not the file's`;
  return undefined;
}

function checkRefsFile(v: unknown): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const refs = (v as Partial<RefsFile>).refs;
  if (!refs || typeof refs !== 'object' || Array.isArray(refs)) return 'no refs object';
  return undefined;
}

/** `busybox` -> `busybox:latest`, as Docker's "No such image" messages show it. */
export function notFoundName(s: string): string {
  if (/^(sha256:)?[a-f0-9]{64}$/.test(s)) return s;
  try {
    const r = parseNormalizedNamed(s);
    if (r.tag === undefined && r.digest === undefined) r.tag = 'latest';
    return familiarString(r);
  } catch {
    return s;
  }
}
