// The registry side of a push (distribution spec, "Pushing blobs" and "Pushing Manifests"):
// HEAD a blob first; mount it from another repository of the same registry when we know one
// that has it; otherwise upload it, in one PUT when it is small, else in PATCH chunks closed by
// PUT ?digest=. Then the manifest, whose digest is the registry's (Docker-Content-Digest).
// Knows nothing of images or stores: the caller hands in ranged readers of the blobs.
import { sha256 } from '../lib/digest';
import { UnavailableError } from '../lib/errors';
import { UnauthorizedError, type AuthConfig } from './auth';
import { RegistryClient, registryErrorText, type RegistryRequest } from './client';
import type { RegistryResponse } from './transport';

/**
 * Blobs up to this size go in one PUT (one round trip: what the registry is fastest at); bigger
 * ones in PATCH chunks of this size, so memory stays bounded.
 */
export const CHUNK_SIZE = 64 << 20;

export interface PushTarget {
  /** Registry host as the transport reaches it (`127.0.0.1:5000`, `registry-1.docker.io`). */
  host: string;
  /** Repository path (`library/busybox`, `team/app`). */
  repo: string;
  creds?: AuthConfig;
}

export interface BlobSource {
  digest: string;
  size: number;
  /** Bytes [start, end) of the blob. */
  read(start: number, end: number): Promise<Buffer>;
}

export type BlobPushResult = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

export interface BlobPushOptions {
  /** Repositories of this registry known to hold the blob (paths), tried for a mount. */
  mountFrom?: string[];
  onProgress?: (bytesSent: number) => void;
  chunkSize?: number;
  signal?: AbortSignal;
}

const scopesFor = (t: PushTarget, extra: string[] = []) => [`repository:${t.repo}:pull,push`, ...extra.map((r) => `repository:${r}:pull`)];

/** A registry answer that is not what the step needs: the registry's own words when it sent some. */
async function failure(res: RegistryResponse, what: string): Promise<Error> {
  const text = await res.text().catch(() => '');
  const reason = registryErrorText(text) ?? text.trim().slice(0, 200);
  // HEAD answers carry no body: Docker's words for the bare statuses
  if (res.status === 401) return new UnauthorizedError(reason || 'unauthorized: authentication required');
  if (res.status === 403) return new UnauthorizedError(reason || 'denied: requested access to the resource is denied');
  return new UnavailableError(`${what}: ${reason || `${res.status} ${res.headers.status ?? ''}`.trim()}`);
}

export class RegistryPusher {
  constructor(private readonly client: RegistryClient) {}

  private req(t: PushTarget, method: string, path: string, r: RegistryRequest = {}, extraScopes: string[] = []): Promise<RegistryResponse> {
    return this.client.request(t.host, method, path, { scopes: scopesFor(t, extraScopes), creds: t.creds, ...r });
  }

  /** Requests to an upload Location: relative, or absolute on the same host (through auth), else as is. */
  private upload(t: PushTarget, location: string, method: string, r: RegistryRequest, query: Record<string, string> = {}): Promise<RegistryResponse> {
    const base = new URL(`http://${t.host}`);
    const url = new URL(location, base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    if (url.host === t.host || !/^https?:/.test(location)) return this.req(t, method, url.pathname + url.search, r);
    return this.client.transport.requestUrl(url, method, { headers: r.headers, body: r.body, signal: r.signal });
  }

  async blobExists(t: PushTarget, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.req(t, 'HEAD', `/v2/${t.repo}/blobs/${digest}`, { signal });
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await failure(res, `checking blob ${digest}`);
  }

  async pushBlob(t: PushTarget, blob: BlobSource, opts: BlobPushOptions = {}): Promise<BlobPushResult> {
    if (await this.blobExists(t, blob.digest, opts.signal)) return { kind: 'exists' };
    let location: string | undefined;
    for (const from of opts.mountFrom ?? []) {
      if (from === t.repo) continue;
      const q = new URLSearchParams({ mount: blob.digest, from });
      const res = await this.req(t, 'POST', `/v2/${t.repo}/blobs/uploads/?${q}`, { signal: opts.signal }, [from]);
      res.body.resume();
      if (res.status === 201) return { kind: 'mounted', from };
      if (res.status === 202 && res.headers.location) { location = String(res.headers.location); break; }
      // a mount refused (no access to `from`, gone there) falls back to an upload
    }
    if (!location) {
      const res = await this.req(t, 'POST', `/v2/${t.repo}/blobs/uploads/`, { signal: opts.signal });
      if (res.status !== 202 || !res.headers.location) throw await failure(res, `starting the upload of ${blob.digest}`);
      res.body.resume();
      location = String(res.headers.location);
    }
    const chunk = opts.chunkSize ?? CHUNK_SIZE;
    if (blob.size <= chunk) {
      // monolithic: the whole blob with the closing PUT
      const body = await blob.read(0, blob.size);
      const res = await this.upload(t, location, 'PUT', { body, headers: { 'Content-Type': 'application/octet-stream' }, signal: opts.signal }, { digest: blob.digest });
      if (res.status !== 201) throw await failure(res, `uploading ${blob.digest}`);
      res.body.resume();
      opts.onProgress?.(blob.size);
      return { kind: 'pushed' };
    }
    let sent = 0;
    while (sent < blob.size) {
      const end = Math.min(blob.size, sent + chunk);
      const body = await blob.read(sent, end);
      const res = await this.upload(t, location, 'PATCH', {
        body, signal: opts.signal,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${sent}-${end - 1}` },
      });
      if (res.status !== 202) throw await failure(res, `uploading ${blob.digest} (bytes ${sent}-${end - 1})`);
      res.body.resume();
      if (res.headers.location) location = String(res.headers.location);
      sent = end;
      opts.onProgress?.(sent);
    }
    const res = await this.upload(t, location, 'PUT', { body: Buffer.alloc(0), signal: opts.signal }, { digest: blob.digest });
    if (res.status !== 201) throw await failure(res, `closing the upload of ${blob.digest}`);
    res.body.resume();
    return { kind: 'pushed' };
  }

  /** PUT the manifest under `reference` (a tag); the digest is the registry's Docker-Content-Digest. */
  async putManifest(t: PushTarget, reference: string, body: Buffer, mediaType: string): Promise<{ digest: string; size: number }> {
    const res = await this.req(t, 'PUT', `/v2/${t.repo}/manifests/${reference}`, { body, headers: { 'Content-Type': mediaType } });
    if (res.status !== 201 && res.status !== 200) throw await failure(res, `pushing the manifest of ${t.repo}:${reference}`);
    res.body.resume();
    const header = res.headers['docker-content-digest'];
    const digest = typeof header === 'string' && /^sha256:[a-f0-9]{64}$/.test(header) ? header : sha256(body);
    return { digest, size: body.length };
  }
}
