// Image records and references.
//
//   <root>/images/meta/<idHex>.json    { id, parent, lastTagTime, added }   (the image exists iff this exists)
//   <root>/images/repositories.json    { refs: { "docker.io/library/busybox:latest": "sha256:<id>", ... } }
//
// The image ID is the digest of the config JSON, which lives in the ContentStore. References
// are kept fully qualified and shown familiar. Every write is atomic (temp, fsync, rename);
// mutations are serialised by one in-process lock.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Digest, digestHex, isDigest, sha256 } from '../../lib/digest';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { readJsonIfExists, removeStaleTemps, writeJsonAtomic } from '../../lib/atomic';
import { Mutex } from '../../lib/mutex';
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
  private readonly mutex = new Mutex();
  private initialised = false;

  constructor(dataRoot: string, private readonly content: ContentStore, private readonly layers: LayerStore) {
    this.dir = path.join(dataRoot, 'images');
    this.metaDir = path.join(this.dir, 'meta');
    this.refsFile = path.join(this.dir, 'repositories.json');
  }

  /** Runs `fn` exclusively with other store mutations. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(fn);
  }

  async init(): Promise<void> {
    if (this.initialised) return;
    await fsp.mkdir(this.metaDir, { recursive: true, mode: 0o700 });
    this.images.clear();
    for (const n of await fsp.readdir(this.metaDir)) {
      const m = /^([a-f0-9]{64})\.json$/.exec(n);
      if (!m) continue;
      const meta = await readJsonIfExists<ImageMetaFile>(path.join(this.metaDir, n)).catch(() => undefined);
      if (!meta) continue;
      try {
        const raw = await this.content.readBlob(meta.id);
        if (sha256(raw) !== meta.id) continue;
        this.images.set(meta.id, { meta, config: JSON.parse(raw.toString('utf8')) as ImageConfig, configSize: raw.length });
      } catch {
        // config missing: dropped by reconcile
      }
    }
    const rf = await readJsonIfExists<RefsFile>(this.refsFile).catch(() => undefined);
    this.refs = new Map(Object.entries(rf?.refs ?? {}).filter(([, id]) => isDigest(id)) as [string, Digest][]);
    this.initialised = true;
  }

  /** Crash recovery: drops temp files, records whose config or layers are gone, and dangling refs. */
  async reconcile(): Promise<void> {
    await fsp.mkdir(this.metaDir, { recursive: true });
    await removeStaleTemps(this.dir);
    await removeStaleTemps(this.metaDir);
    this.initialised = false;
    await this.init();
    for (const n of await fsp.readdir(this.metaDir)) {
      const m = /^([a-f0-9]{64})\.json$/.exec(n);
      if (!m) continue;
      const id = `sha256:${m[1]}` as Digest;
      const e = this.images.get(id);
      let ok = !!e;
      if (e) {
        try { this.layers.chain(this.topOf(e.config)); } catch { ok = false; }
      }
      if (!ok) {
        this.images.delete(id);
        await fsp.rm(path.join(this.metaDir, n), { force: true });
      }
    }
    let changed = false;
    for (const [ref, id] of this.refs) if (!this.images.has(id)) { this.refs.delete(ref); changed = true; }
    if (changed) await this.saveRefs();
  }

  private topOf(config: ImageConfig): Digest | null {
    const ids = chainIdsOf(config.rootfs?.diff_ids ?? []);
    return ids.length ? ids[ids.length - 1] : null;
  }

  private async saveRefs(): Promise<void> {
    const obj: RefsFile = { refs: Object.fromEntries([...this.refs].sort(([a], [b]) => a.localeCompare(b))) };
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
      const have = this.images.get(id);
      if (have) return this.record(have);
      const meta: ImageMetaFile = { id, added: new Date().toISOString(), ...(opts.parent ? { parent: opts.parent } : {}) };
      await writeJsonAtomic(path.join(this.metaDir, `${digestHex(id)}.json`), meta, 0o600);
      const e: Entry = { meta, config, configSize: size };
      this.images.set(id, e);
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
      await this.saveRefs();
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
