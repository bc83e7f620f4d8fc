// Pull-through cache: a registry started with --proxy-upstream URL answers pulls from its own
// storage and fetches what it lacks from the upstream, storing it (digest-verified, like any
// push) before it answers, so the next pull is local and survives the upstream going away.
// Manifests by tag are asked of the upstream each time (tags move), with the cached copy as
// the fallback when the upstream cannot be reached; by digest they are immutable.
import { Readable } from 'node:stream';
import { type Digest, sha256 } from '../lib/digest';
import { blobUnknown, manifestUnknown, RegistryError } from './errors';
import { isDigestRef } from './names';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface UpstreamOptions {
  url: string;
  username?: string;
  password?: string;
}

/** A small distribution client: anonymous, basic, or the bearer-token challenge flow. */
export class Upstream {
  private readonly base: string;
  /** Bearer tokens by scope, until they expire. */
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(private readonly opts: UpstreamOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  private basic(): string | undefined {
    if (this.opts.username === undefined) return undefined;
    return `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`;
  }

  private async token(challenge: string, scope: string): Promise<string | undefined> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) return undefined;
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope ?? scope);
    const basic = this.basic();
    const r = await fetch(u, { headers: basic ? { Authorization: basic } : {} });
    if (!r.ok) throw new RegistryError(502, 'UNAUTHORIZED', `upstream token service answered ${r.status}`);
    const j = (await r.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = j.token ?? j.access_token;
    if (token) this.tokens.set(scope, { token, until: Date.now() + Math.max(30, (j.expires_in ?? 60) - 10) * 1000 });
    return token;
  }

  private async get(name: string, p: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> {
    const scope = `repository:${name}:pull`;
    const url = `${this.base}/v2/${name}/${p}`;
    const cached = this.tokens.get(scope);
    const auth = cached && cached.until > Date.now() ? `Bearer ${cached.token}` : this.basic();
    let r = await fetch(url, { method, headers: { ...headers, ...(auth ? { Authorization: auth } : {}) } });
    if (r.status === 401) {
      const challenge = r.headers.get('www-authenticate') ?? '';
      await r.body?.cancel();
      let retry: string | undefined;
      if (/^bearer /i.test(challenge)) retry = (await this.token(challenge, scope)) && `Bearer ${this.tokens.get(scope)!.token}`;
      else if (/^basic /i.test(challenge)) retry = this.basic();
      if (retry) r = await fetch(url, { method, headers: { ...headers, Authorization: retry } });
    }
    return r;
  }

  async manifest(name: string, reference: string): Promise<{ mediaType: string; body: Buffer; digest: Digest }> {
    const r = await this.get(name, `manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    if (r.status === 404) { await r.body?.cancel(); throw manifestUnknown(reference); }
    if (!r.ok) { await r.body?.cancel(); throw new RegistryError(502, 'MANIFEST_UNKNOWN', `upstream answered ${r.status}`, { reference }); }
    const body = Buffer.from(await r.arrayBuffer());
    const digest = sha256(body);
    if (isDigestRef(reference) && reference !== digest) throw new RegistryError(502, 'DIGEST_INVALID', 'upstream manifest does not match its digest', { reference, digest });
    return { mediaType: (r.headers.get('content-type') ?? '').split(';')[0].trim(), body, digest };
  }

  /** The blob's size upstream, by a HEAD: a client's HEAD costs the cache no download. */
  async blobSize(name: string, digest: Digest): Promise<number> {
    const r = await this.get(name, `blobs/${digest}`, {}, 'HEAD');
    await r.body?.cancel();
    if (r.status === 404) throw blobUnknown(digest);
    const len = Number(r.headers.get('content-length'));
    if (!r.ok || !Number.isSafeInteger(len) || len < 0) throw new RegistryError(502, 'BLOB_UNKNOWN', `upstream answered ${r.status}`, { digest });
    return len;
  }

  async blob(name: string, digest: Digest): Promise<{ stream: Readable; size?: number }> {
    const r = await this.get(name, `blobs/${digest}`);
    if (r.status === 404) { await r.body?.cancel(); throw blobUnknown(digest); }
    if (!r.ok || !r.body) { await r.body?.cancel(); throw new RegistryError(502, 'BLOB_UNKNOWN', `upstream answered ${r.status}`, { digest }); }
    const len = r.headers.get('content-length');
    return { stream: Readable.fromWeb(r.body as import('node:stream/web').ReadableStream), ...(len ? { size: Number(len) } : {}) };
  }
}
