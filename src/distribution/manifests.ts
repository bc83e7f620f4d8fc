// Manifests: fetching one by tag or digest (its bytes verified against the digest asked for, or
// the one the registry names), telling the kinds apart (Docker schema2, OCI manifest, Docker
// manifest list, OCI index; schema1 refused with Docker's message) and choosing the platform's
// manifest from a list (linux/amd64 here unless --platform says otherwise).
import { isDigest, sha256, type Digest } from '../lib/digest';
import { InvalidParameterError, NotFoundError, UnavailableError } from '../lib/errors';
import { normalizedString, type Reference } from '../lib/reference';
import type { AuthConfig } from './auth';
import { registryErrorCode, registryErrorText, type RegistryClient } from './client';
import type { Endpoint } from './resolver';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest, MEDIA.schema1Signed, MEDIA.schema1].join(', ');
const MAX_MANIFEST = 4 << 20;

export interface Platform { os: string; architecture: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] }

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  urls?: string[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface IndexManifest {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface FetchedManifest {
  /** As the registry labelled it (Content-Type), or as the body says. */
  mediaType: string;
  digest: Digest;
  body: Buffer;
}

export interface ResolvedImage {
  /** What the reference named: the index when it is one, else the manifest (`Digest:` line, RepoDigests). */
  top: FetchedManifest;
  /** The platform's image manifest. */
  manifest: ImageManifest;
  manifestDigest: Digest;
  endpoint: Endpoint;
}

export function schema1Refusal(ref: Reference): InvalidParameterError {
  return new InvalidParameterError(`Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${normalizedString(ref)} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`);
}

function kindOf(mediaType: string, body: unknown): 'index' | 'manifest' | 'schema1' | 'unknown' {
  const b = body as { schemaVersion?: number; mediaType?: string; manifests?: unknown; layers?: unknown; config?: unknown };
  const mt = b.mediaType || mediaType;
  if (b.schemaVersion === 1 || mt === MEDIA.schema1 || mt === MEDIA.schema1Signed) return 'schema1';
  if (mt === MEDIA.dockerList || mt === MEDIA.ociIndex) return 'index';
  if (mt === MEDIA.dockerManifest || mt === MEDIA.ociManifest) return 'manifest';
  // an OCI document without mediaType: tell by shape
  if (Array.isArray(b.manifests)) return 'index';
  if (Array.isArray(b.layers) && b.config) return 'manifest';
  return 'unknown';
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x !== 'object' || typeof x.digest !== 'string' || !isDigest(x.digest) || typeof x.size !== 'number' || x.size < 0 || !Number.isSafeInteger(x.size)) {
    throw new InvalidParameterError(`invalid manifest: bad ${what} descriptor ${JSON.stringify(d)?.slice(0, 200)}`);
  }
  return x;
}

export function parseImageManifest(body: Buffer): ImageManifest {
  const m = JSON.parse(body.toString()) as ImageManifest;
  checkDescriptor(m.config, 'config');
  if (!Array.isArray(m.layers)) throw new InvalidParameterError('invalid manifest: no layers');
  m.layers.forEach((l, i) => checkDescriptor(l, `layer ${i}`));
  return m;
}

function normArch(p: Platform): { os: string; architecture: string; variant?: string } {
  const arch = p.architecture;
  let variant = p.variant;
  // containerd's normalisation: arm64's default variant is v8, amd64's v1
  if (arch === 'arm64' && (variant === 'v8' || !variant)) variant = undefined;
  if (arch === 'amd64' && (variant === 'v1' || !variant)) variant = undefined;
  if (arch === 'arm' && !variant) variant = 'v7';
  return { os: p.os, architecture: arch, ...(variant ? { variant } : {}) };
}

export function platformString(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The entry of an index for `want` (os and architecture equal, variant equal after normalising). */
export function selectPlatform(index: IndexManifest, want: { os: string; architecture?: string; variant?: string }): Descriptor | undefined {
  const w = normArch({ os: want.os, architecture: want.architecture ?? 'amd64', variant: want.variant });
  const candidates = index.manifests.filter((d) => d.platform && (d.mediaType === undefined || kindOf(d.mediaType, {}) !== 'index'));
  const matches = candidates.filter((d) => {
    const p = normArch(d.platform!);
    return p.os === w.os && p.architecture === w.architecture && (!w.variant || p.variant === w.variant);
  });
  // an exact variant first, then none, then any
  return matches.find((d) => normArch(d.platform!).variant === w.variant) ?? matches[0];
}

/**
 * GET a manifest by tag or digest from `ep`. NotFoundError in Docker's words when it is
 * not there; the body is checked against the digest.
 */
export async function fetchManifest(client: RegistryClient, ep: Endpoint, ref: Reference, reference: string, creds?: AuthConfig, signal?: AbortSignal): Promise<FetchedManifest> {
  const res = await client.request(ep.host, 'GET', `/v2/${ref.path}/manifests/${reference}`, {
    scopes: [`repository:${ref.path}:pull`], creds, headers: { Accept: ACCEPT }, signal,
  });
  if (res.status !== 200) {
    const text = await res.text().catch(() => '');
    throw registryFailure(res.status, text, ref, reference);
  }
  const body = await res.buffer(MAX_MANIFEST);
  const digest = sha256(body);
  const ct = String(res.headers['content-type'] ?? '').split(';')[0].trim();
  // a signed schema1 manifest's digest is of its payload without the signatures: refuse it first
  if (ct === MEDIA.schema1 || ct === MEDIA.schema1Signed || /"schemaVersion"\s*:\s*1\b/.test(body.subarray(0, 4096).toString())) {
    try {
      if (kindOf(ct, JSON.parse(body.toString())) === 'schema1') throw schema1Refusal(ref);
    } catch (e) {
      if (e instanceof InvalidParameterError) throw e;
    }
  }
  if (isDigest(reference) && digest !== reference) {
    throw new UnavailableError(`manifest verification failed for digest ${reference}`);
  }
  const said = res.headers['docker-content-digest'];
  if (!isDigest(reference) && typeof said === 'string' && isDigest(said) && said !== digest) {
    throw new UnavailableError(`manifest verification failed for digest ${said}`);
  }
  return { mediaType: ct, digest, body };
}

/** A non-200 answer as Docker reports it. */
export function registryFailure(status: number, text: string, ref: Reference, reference: string): Error {
  const reason = registryErrorText(text);
  const code = registryErrorCode(text);
  const name = `${ref.domain}/${ref.path}${isDigest(reference) ? '@' : ':'}${reference}`;
  if (status === 404 || code === 'MANIFEST_UNKNOWN' || code === 'NAME_UNKNOWN') {
    return new NotFoundError(`manifest for ${name} not found: ${reason ?? 'manifest unknown'}`);
  }
  if (status === 401 || status === 403) {
    return new NotFoundError(`pull access denied for ${familiarRepoOf(ref)}, repository does not exist or may require 'docker login': ${reason ?? 'denied: requested access to the resource is denied'}`);
  }
  return new UnavailableError(`error from registry ${ref.domain} for ${name}: ${status}${reason ? ' ' + reason : ''}`);
}

function familiarRepoOf(ref: Reference): string {
  if (ref.domain === 'docker.io') return ref.path.startsWith('library/') && !ref.path.slice(8).includes('/') ? ref.path.slice(8) : ref.path;
  return `${ref.domain}/${ref.path}`;
}

export interface ResolveOptions {
  platform?: { os: string; architecture?: string; variant?: string };
  creds?: AuthConfig;
  signal?: AbortSignal;
}

/** Interprets a fetched manifest: the image manifest for the platform (fetched by digest from an index). */
export async function resolveManifest(client: RegistryClient, ep: Endpoint, ref: Reference, top: FetchedManifest, opts: ResolveOptions = {}): Promise<ResolvedImage> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(top.body.toString());
  } catch {
    throw new InvalidParameterError(`invalid manifest for ${normalizedString(ref)}: not JSON`);
  }
  const kind = kindOf(top.mediaType, parsed);
  if (kind === 'schema1') throw schema1Refusal(ref);
  if (kind === 'manifest') return { top, manifest: parseImageManifest(top.body), manifestDigest: top.digest, endpoint: ep };
  if (kind !== 'index') throw new InvalidParameterError(`unsupported manifest media type ${JSON.stringify((parsed as { mediaType?: string }).mediaType ?? top.mediaType)} for ${normalizedString(ref)}`);
  const index = parsed as IndexManifest;
  if (!Array.isArray(index.manifests)) throw new InvalidParameterError('invalid manifest list: no manifests');
  index.manifests.forEach((d, i) => checkDescriptor(d, `manifest ${i}`));
  const want = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const d = selectPlatform(index, want);
  if (!d) {
    throw new NotFoundError(`no matching manifest for ${platformString(normArch({ os: want.os, architecture: want.architecture ?? 'amd64', variant: want.variant }))} in the manifest list entries`);
  }
  const child = await fetchManifest(client, ep, ref, d.digest, opts.creds, opts.signal);
  let cp: unknown;
  try {
    cp = JSON.parse(child.body.toString());
  } catch {
    throw new InvalidParameterError(`invalid manifest ${d.digest}: not JSON`);
  }
  const ck = kindOf(child.mediaType || d.mediaType, cp);
  if (ck === 'schema1') throw schema1Refusal(ref);
  if (ck !== 'manifest') throw new InvalidParameterError(`unsupported manifest ${d.digest} in the list for ${normalizedString(ref)}`);
  return { top, manifest: parseImageManifest(child.body), manifestDigest: child.digest, endpoint: ep };
}

/** Platforms an index lists (for /distribution/{name}/json). */
export function indexPlatforms(top: FetchedManifest): Platform[] | undefined {
  const parsed = JSON.parse(top.body.toString()) as IndexManifest;
  if (kindOf(top.mediaType, parsed) !== 'index') return undefined;
  return parsed.manifests.filter((d) => d.platform).map((d) => d.platform!);
}

export function manifestKind(top: FetchedManifest): 'index' | 'manifest' | 'schema1' | 'unknown' {
  try {
    return kindOf(top.mediaType, JSON.parse(top.body.toString()));
  } catch {
    return 'unknown';
  }
}
