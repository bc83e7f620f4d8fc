// The registry's storage on the file system:
//
//   <root>/content/...                         blobs by digest, once for all repositories, and
//                                              upload sessions: store/content's LocalContentStore
//   <root>/repositories/<name>/layers/<hex>    an empty link: the blob belongs to this repository
//   <root>/repositories/<name>/manifests/<hex> the manifest's record (media type, size, subject,
//                                              artifact type, annotations); its bytes are a blob
//   <root>/repositories/<name>/tags/<tag>      the digest the tag points at
//
// (<name> with '/' written as '+', which the name grammar does not allow.)
// Uploads are named ingests of the content store ("<name>@<uuid>"): their data file is their
// state, so a restarted registry resumes them at their offset; bytes become a blob only after
// their digest checks, by rename. Every record is written temp + fsync + rename, and in an order
// that never shows something half-done: blob, then manifest record, then tag.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalContentStore } from '../store/content/ContentStore';
import { ContentExistsError, type IngestStatus } from '../store/content/types';
import { removeStaleTemps, writeFileAtomic, writeJsonAtomic } from '../lib/atomic';
import { type Digest, digestHex, sha256 } from '../lib/digest';
import { InvalidParameterError, NotFoundError } from '../lib/errors';
import { blobUnknown, digestInvalid, manifestInvalid, manifestUnknown, nameUnknown, RegistryError, uploadUnknown } from './errors';
import { checkDigest, checkTag, isDigestRef, repoDirName, repoFromDirName } from './names';

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const UUID_RE = /^[a-f0-9-]{36}$/;

export interface ManifestRecord {
  digest: Digest;
  mediaType: string;
  size: number;
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** What a manifest references: blobs that must be in the repository, manifests that must be too. */
interface References { blobs: Digest[]; manifests: Digest[]; subject?: Digest; artifactType?: string; annotations?: Record<string, string> }

function isEnoent(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try { return await fsp.readdir(dir); } catch (e) { if (isEnoent(e)) return []; throw e; }
}

/** The references of a manifest body, by its media type (or its `mediaType` field). */
export function manifestReferences(mediaType: string, doc: any): References {
  const refs: References = { blobs: [], manifests: [] };
  const desc = (d: any, what: string): Digest => {
    if (!d || typeof d !== 'object' || typeof d.digest !== 'string') throw manifestInvalid(`${what}: not a descriptor`);
    try { return checkDigest(d.digest); } catch { throw manifestInvalid(`${what}: invalid digest ${d.digest}`); }
  };
  if (Array.isArray(doc.manifests)) {
    doc.manifests.forEach((m: any, i: number) => refs.manifests.push(desc(m, `manifests[${i}]`)));
  } else {
    if (doc.config !== undefined) refs.blobs.push(desc(doc.config, 'config'));
    else if (/manifest/.test(mediaType)) throw manifestInvalid('manifest has no config');
    if (doc.layers !== undefined && !Array.isArray(doc.layers)) throw manifestInvalid('layers: not an array');
    (doc.layers ?? []).forEach((l: any, i: number) => {
      const d = desc(l, `layers[${i}]`);
      // Foreign layers (Windows base layers) live elsewhere, at their urls.
      if (!(Array.isArray(l.urls) && l.urls.length > 0)) refs.blobs.push(d);
    });
    if (doc.blobs !== undefined && Array.isArray(doc.blobs)) doc.blobs.forEach((b: any, i: number) => refs.blobs.push(desc(b, `blobs[${i}]`)));
  }
  if (doc.subject !== undefined) refs.subject = desc(doc.subject, 'subject');
  const artifactType = typeof doc.artifactType === 'string' && doc.artifactType !== '' ? doc.artifactType
    : (!Array.isArray(doc.manifests) && typeof doc.config?.mediaType === 'string' ? doc.config.mediaType : undefined);
  if (artifactType) refs.artifactType = artifactType;
  if (doc.annotations && typeof doc.annotations === 'object') refs.annotations = doc.annotations;
  return refs;
}

export class RegistryStorage {
  readonly content: LocalContentStore;
  private readonly reposDir: string;
  /** Manifest bytes by digest: immutable, so a cache never goes stale (bounded by count). */
  private readonly manifestCache = new Map<Digest, Buffer>();
  /** Manifest records by `<name>@<digest>` (see manifestRecord). */
  private readonly recordCache = new Map<string, ManifestRecord>();

  constructor(readonly root: string) {
    this.content = new LocalContentStore(root);
    this.reposDir = path.join(root, 'repositories');
  }

  /** Start-up: drops anonymous (monolithic) uploads a crash cut off and temp files of record writes. */
  async open(): Promise<void> {
    await this.content.reconcile();
    await fsp.mkdir(this.reposDir, { recursive: true, mode: 0o700 });
    for (const repo of await readdirOrEmpty(this.reposDir)) {
      for (const sub of ['layers', 'manifests', 'tags']) await removeStaleTemps(path.join(this.reposDir, repo, sub));
    }
  }

  repoDir(name: string): string { return path.join(this.reposDir, repoDirName(name)); }
  private layerLink(name: string, d: Digest): string { return path.join(this.repoDir(name), 'layers', digestHex(d)); }
  private manifestFile(name: string, d: Digest): string { return path.join(this.repoDir(name), 'manifests', digestHex(d)); }
  private tagFile(name: string, tag: string): string { return path.join(this.repoDir(name), 'tags', tag); }

  async repoExists(name: string): Promise<boolean> {
    try { await fsp.access(this.repoDir(name)); return true; } catch { return false; }
  }

  // ---- blobs

  /** The blob's size when it is in repository `name` (as a layer or as a manifest). */
  async blobSize(name: string, d: Digest): Promise<number> {
    const linked = await fsp.access(this.layerLink(name, d)).then(() => true, () => false)
      || await fsp.access(this.manifestFile(name, d)).then(() => true, () => false);
    if (!linked) throw blobUnknown(d);
    try {
      return (await this.content.info(d)).size;
    } catch (e) {
      if (e instanceof NotFoundError) throw blobUnknown(d); // linked, but collected
      throw e;
    }
  }

  /** The committed blob's file, open for reading (server.ts sends it with its own buffers). */
  async openBlob(d: Digest): Promise<fsp.FileHandle> {
    try {
      return await fsp.open(this.content.blobPath(d), 'r');
    } catch (e) {
      if (isEnoent(e)) throw blobUnknown(d);
      throw e;
    }
  }

  async readBlob(d: Digest, range?: { start: number; end: number }): Promise<Readable> {
    try {
      return await this.content.readStream(d, range);
    } catch (e) {
      if (e instanceof NotFoundError) throw blobUnknown(d);
      throw e;
    }
  }

  /** Links a committed blob into a repository; the link is durable before the client hears 201. */
  async linkBlob(name: string, d: Digest): Promise<void> {
    const file = this.layerLink(name, d);
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, '', 0o600);
  }

  async deleteBlob(name: string, d: Digest): Promise<void> {
    try {
      await fsp.unlink(this.layerLink(name, d));
    } catch (e) {
      if (isEnoent(e)) throw blobUnknown(d);
      throw e;
    }
  }

  /** Cross-repository mount: true when `from` has the blob (and now `name` does too). */
  async mountBlob(name: string, from: string, d: Digest): Promise<boolean> {
    try {
      await this.blobSize(from, d);
    } catch (e) {
      if (e instanceof RegistryError) return false;
      throw e;
    }
    await this.linkBlob(name, d);
    return true;
  }

  // ---- uploads

  private uploadRef(name: string, uuid: string): string {
    if (!UUID_RE.test(uuid)) throw uploadUnknown();
    return `${name}@${uuid}`;
  }

  async startUpload(name: string): Promise<string> {
    const uuid = randomUUID();
    await fsp.mkdir(this.repoDir(name), { recursive: true, mode: 0o700 });
    const w = await this.content.openIngest(this.uploadRef(name, uuid));
    await w.close(); // the ingest's meta is on disk: the upload exists, and survives a restart
    return uuid;
  }

  async uploadStatus(name: string, uuid: string): Promise<IngestStatus> {
    try {
      return await this.content.ingestStatus(this.uploadRef(name, uuid));
    } catch (e) {
      if (e instanceof NotFoundError) throw uploadUnknown();
      throw e;
    }
  }

  /**
   * Appends `body` to the upload. `start`, when the client sent a Content-Range, must be the
   * upload's offset (416 otherwise). The bytes are fsynced before this resolves (close()), so
   * the Range the client is told survives a crash. Returns the new offset.
   */
  async appendUpload(name: string, uuid: string, body: Readable, start?: number, length?: number): Promise<number> {
    await this.uploadStatus(name, uuid);
    const w = await this.content.openIngest(this.uploadRef(name, uuid));
    try {
      if (start !== undefined && start !== w.offset) {
        throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `chunk starts at ${start}, the upload is at ${w.offset}`, undefined,
          { Range: rangeHeader(w.offset), 'Docker-Upload-UUID': uuid });
      }
      const before = w.offset;
      await pipeline(body, w.stream);
      if (length !== undefined && w.offset - before !== length) {
        await w.truncate(before);
        throw new RegistryError(400, 'SIZE_INVALID', `chunk of ${w.offset - before} bytes, Content-Length said ${length}`);
      }
      return w.offset;
    } finally {
      await w.close();
    }
  }

  /** Appends the last chunk (if any), verifies the digest and makes the blob visible in `name`. */
  async finishUpload(name: string, uuid: string, digest: Digest, body?: Readable, start?: number): Promise<void> {
    await this.uploadStatus(name, uuid);
    const ref = this.uploadRef(name, uuid);
    let w;
    try {
      w = await this.content.openIngest(ref);
    } catch (e) {
      if (e instanceof NotFoundError) throw uploadUnknown();
      throw e;
    }
    try {
      if (start !== undefined && start !== w.offset) {
        await w.close();
        throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `chunk starts at ${start}, the upload is at ${w.offset}`, undefined,
          { Range: rangeHeader(w.offset), 'Docker-Upload-UUID': uuid });
      }
      if (body) await pipeline(body, w.stream);
    } catch (e) {
      await w.close().catch(() => undefined);
      throw e;
    }
    try {
      await w.commit(undefined, digest);
    } catch (e) {
      // commit dropped the upload: the spec's client starts over after DIGEST_INVALID
      if (e instanceof InvalidParameterError) throw digestInvalid('provided digest did not match uploaded content', { digest });
      throw e;
    }
    await this.linkBlob(name, digest);
  }

  async cancelUpload(name: string, uuid: string): Promise<void> {
    await this.uploadStatus(name, uuid);
    await this.content.abortIngest(this.uploadRef(name, uuid));
  }

  /** A monolithic upload (POST with digest=): streamed through an anonymous ingest. */
  async putBlob(name: string, digest: Digest, body: Readable, size?: number): Promise<void> {
    await fsp.mkdir(this.repoDir(name), { recursive: true, mode: 0o700 });
    try {
      await this.content.writeStream(body, { digest, ...(size !== undefined ? { size } : {}) });
    } catch (e) {
      if (e instanceof ContentExistsError) { /* already there */ } else if (e instanceof InvalidParameterError) {
        if (/size/.test(e.message)) throw new RegistryError(400, 'SIZE_INVALID', e.message);
        throw digestInvalid('provided digest did not match uploaded content', { digest });
      } else throw e;
    }
    await this.linkBlob(name, digest);
  }

  // ---- manifests

  /** The digest a tag or digest reference names in `name`. */
  async resolve(name: string, reference: string): Promise<Digest> {
    if (isDigestRef(reference)) return checkDigest(reference);
    checkTag(reference);
    try {
      const d = (await fsp.readFile(this.tagFile(name, reference), 'utf8')).trim();
      return checkDigest(d);
    } catch (e) {
      if (isEnoent(e)) throw manifestUnknown(reference);
      throw e;
    }
  }

  async manifestRecord(name: string, d: Digest): Promise<ManifestRecord | undefined> {
    // A record never changes while it exists (same digest, same bytes) and only this process
    // removes it (deleteManifest; gc removes blobs, not records): cached, a manifest GET under
    // load reads one small file (the tag), not two plus a JSON parse.
    const key = `${name}@${d}`;
    const hit = this.recordCache.get(key);
    if (hit) return hit;
    try {
      const r = JSON.parse(await fsp.readFile(this.manifestFile(name, d), 'utf8')) as ManifestRecord;
      if (this.recordCache.size >= 4096) this.recordCache.delete(this.recordCache.keys().next().value as string);
      this.recordCache.set(key, r);
      return r;
    } catch (e) {
      if (isEnoent(e)) return undefined;
      throw e;
    }
  }

  async getManifest(name: string, reference: string): Promise<{ record: ManifestRecord; body: Buffer }> {
    const d = await this.resolve(name, reference);
    const record = await this.manifestRecord(name, d);
    if (!record) throw manifestUnknown(reference);
    let body = this.manifestCache.get(d);
    if (!body) {
      try {
        body = await this.content.readBlob(d);
      } catch (e) {
        if (e instanceof NotFoundError) throw manifestUnknown(reference);
        throw e;
      }
      if (this.manifestCache.size >= 1024) this.manifestCache.delete(this.manifestCache.keys().next().value as Digest);
      this.manifestCache.set(d, body);
    }
    return { record, body };
  }

  /**
   * Stores a manifest exactly as sent. Every blob it references must be in the repository and
   * every manifest an index lists must be too (MANIFEST_BLOB_UNKNOWN); its subject need not be.
   */
  async putManifest(name: string, reference: string, contentType: string, body: Buffer, tags: string[] = [], opts: { cached?: boolean } = {}): Promise<ManifestRecord> {
    if (body.length > MAX_MANIFEST_BYTES) throw new RegistryError(413, 'SIZE_INVALID', `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
    let doc: any;
    try { doc = JSON.parse(body.toString('utf8')); } catch { throw manifestInvalid('manifest is not JSON'); }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw manifestInvalid('manifest is not a JSON object');
    const mediaType = contentType || (typeof doc.mediaType === 'string' ? doc.mediaType : '');
    if (!mediaType) throw manifestInvalid('manifest has neither a Content-Type nor a mediaType');
    if (typeof doc.mediaType === 'string' && doc.mediaType !== mediaType) {
      throw manifestInvalid(`mediaType ${doc.mediaType} does not match Content-Type ${mediaType}`);
    }
    if (doc.schemaVersion === 1) throw new RegistryError(400, 'MANIFEST_INVALID', 'schema 1 manifests are not supported');
    const digest = sha256(body);
    if (isDigestRef(reference) && checkDigest(reference) !== digest) {
      throw digestInvalid('manifest digest did not match', { digest: reference, computed: digest });
    }
    const allTags = [...(isDigestRef(reference) ? [] : [checkTag(reference)]), ...tags.map(checkTag)];
    const refs = manifestReferences(mediaType, doc);
    // A pull-through cache stores a manifest before its blobs: they come when they are pulled.
    for (const b of opts.cached ? [] : refs.blobs) {
      // Fresh link times tell a concurrent gc that this blob is in use again; touched before the
      // check, so a gc that took the blob away after its own look at the links is seen here.
      const now = new Date();
      await fsp.utimes(this.layerLink(name, b), now, now).catch(() => undefined);
      try { await this.blobSize(name, b); } catch (e) {
        if (e instanceof RegistryError) throw new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: b });
        throw e;
      }
    }
    for (const m of opts.cached ? [] : refs.manifests) {
      if (!(await this.manifestRecord(name, m))) throw new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: m });
    }
    await fsp.mkdir(path.join(this.repoDir(name), 'manifests'), { recursive: true, mode: 0o700 });
    await this.content.writeBlob(body, { digest });
    const record: ManifestRecord = {
      digest, mediaType, size: body.length,
      ...(refs.subject ? { subject: refs.subject } : {}),
      ...(refs.artifactType ? { artifactType: refs.artifactType } : {}),
      ...(refs.annotations ? { annotations: refs.annotations } : {}),
    };
    await writeJsonAtomic(this.manifestFile(name, digest), record);
    this.recordCache.set(`${name}@${digest}`, record); // the same bytes may come again with another Content-Type
    if (allTags.length) await fsp.mkdir(path.join(this.repoDir(name), 'tags'), { recursive: true, mode: 0o700 });
    for (const t of allTags) await writeFileAtomic(this.tagFile(name, t), digest);
    return record;
  }

  /** By tag: the tag goes. By digest: the manifest and every tag that points at it. */
  async deleteManifest(name: string, reference: string): Promise<void> {
    if (!(await this.repoExists(name))) throw nameUnknown(name);
    if (!isDigestRef(reference)) {
      checkTag(reference);
      try { await fsp.unlink(this.tagFile(name, reference)); } catch (e) {
        if (isEnoent(e)) throw manifestUnknown(reference);
        throw e;
      }
      return;
    }
    const d = checkDigest(reference);
    // Tags first: a crash in between leaves a manifest without tags, never a tag without a manifest.
    for (const t of await this.tags(name)) {
      const target = await fsp.readFile(this.tagFile(name, t), 'utf8').catch(() => '');
      if (target.trim() === d) await fsp.rm(this.tagFile(name, t), { force: true });
    }
    this.recordCache.delete(`${name}@${d}`);
    try { await fsp.unlink(this.manifestFile(name, d)); } catch (e) {
      if (isEnoent(e)) throw manifestUnknown(reference);
      throw e;
    }
  }

  async manifests(name: string): Promise<ManifestRecord[]> {
    const out: ManifestRecord[] = [];
    for (const n of await readdirOrEmpty(path.join(this.repoDir(name), 'manifests'))) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      const r = await this.manifestRecord(name, `sha256:${n}`);
      if (r) out.push(r);
    }
    return out;
  }

  async referrers(name: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    return (await this.manifests(name))
      .filter((r) => r.subject === subject && (artifactType === undefined || r.artifactType === artifactType))
      .sort((a, b) => (a.digest < b.digest ? -1 : 1))
      .map((r) => ({
        mediaType: r.mediaType, digest: r.digest, size: r.size,
        ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        ...(r.annotations ? { annotations: r.annotations } : {}),
      }));
  }

  // ---- discovery

  async tags(name: string): Promise<string[]> {
    return (await readdirOrEmpty(path.join(this.repoDir(name), 'tags'))).filter((t) => !t.startsWith('.')).sort();
  }

  async repositories(): Promise<string[]> {
    return (await readdirOrEmpty(this.reposDir)).filter((n) => !n.startsWith('.')).map(repoFromDirName).sort();
  }

  /** Every repository name with its directory, for gc. */
  async repositoryDirs(): Promise<Array<{ name: string; dir: string }>> {
    return (await this.repositories()).map((name) => ({ name, dir: this.repoDir(name) }));
  }
}

/** The Range header of an upload at `offset` bytes: the last byte's position (0-0 when empty, as distribution does). */
export function rangeHeader(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}
