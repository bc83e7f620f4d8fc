// One registry conversation: transport + authorizer. A request that gets 401 learns the
// challenge, fetches a token for its scopes (or uses basic credentials) and is sent once more;
// a second 401 is the caller's to report. Also the registry's error bodies in Docker's words.
import { UnavailableError } from '../lib/errors';
import { Authorizer, parseChallenges, UnauthorizedError, type AuthConfig } from './auth';
import { Transport, type RegistryResponse, type TransportOptions } from './transport';

export interface RegistryRequest {
  /** Token scopes the request needs, e.g. `repository:library/busybox:pull`. */
  scopes?: string[];
  creds?: AuthConfig;
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

export interface RegistryErrorEntry { code?: string; message?: string; detail?: unknown }

/** `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}` -> `manifest unknown: manifest unknown` (distribution's errcode text). */
export function registryErrorText(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as { errors?: RegistryErrorEntry[] };
    if (!Array.isArray(j.errors) || j.errors.length === 0) return undefined;
    return j.errors.map((e) => {
      const code = (e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ');
      return e.message ? `${code}: ${e.message}` : code;
    }).join(', ');
  } catch {
    return undefined;
  }
}

/** The first registry error code of a body (`MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `UNAUTHORIZED`, ...). */
export function registryErrorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { errors?: RegistryErrorEntry[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

export class RegistryClient {
  readonly transport: Transport;
  readonly auth: Authorizer;

  constructor(opts: TransportOptions | Transport = {}) {
    this.transport = opts instanceof Transport ? opts : new Transport(opts);
    this.auth = new Authorizer(this.transport);
  }

  async request(host: string, method: string, path: string, r: RegistryRequest = {}): Promise<RegistryResponse> {
    const scopes = r.scopes ?? [];
    for (let attempt = 0; ; attempt++) {
      const auth = await this.auth.headers(host, scopes, r.creds);
      const res = await this.transport.request(host, method, path, { headers: { ...r.headers, ...auth }, body: r.body, signal: r.signal });
      if (res.status !== 401 || attempt > 0) return res;
      const challenge = res.headers['www-authenticate'];
      if (!this.auth.noteChallenge(host, challenge)) return res;
      if (auth.Authorization) this.auth.invalidate(host, scopes, r.creds);
      res.body.resume();
    }
  }

  /**
   * `docker login`: checks `creds` against the registry at `host` (GET /v2/, then the token
   * server or basic auth as it challenges). UnauthorizedError with the registry's reason when refused.
   */
  async login(host: string, creds: AuthConfig): Promise<void> {
    const ping = await this.transport.request(host, 'GET', '/v2/');
    const text = await ping.text();
    if (ping.status === 200) return;
    if (ping.status !== 401) throw new UnavailableError(`login to ${host}: registry answered ${ping.status}: ${registryErrorText(text) ?? text.slice(0, 200)}`);
    const c = parseChallenges(ping.headers['www-authenticate']).find((x) => x.scheme === 'bearer' || x.scheme === 'basic');
    if (!c) throw new UnavailableError(`login to ${host}: unsupported challenge ${JSON.stringify(ping.headers['www-authenticate'])}`);
    this.auth.noteChallenge(host, ping.headers['www-authenticate']);
    const base = ping.url.origin;
    if (c.scheme === 'bearer') {
      try {
        await this.auth.fetchToken(c, [], creds);
      } catch (e) {
        // Docker's words: Get "https://host/v2/": unauthorized: incorrect username or password
        if (e instanceof UnauthorizedError) throw new UnauthorizedError(`Get "${base}/v2/": ${e.message}`);
        throw e;
      }
      return;
    }
    const res = await this.request(host, 'GET', '/v2/', { creds });
    await res.text();
    if (res.status === 200) return;
    if (res.status === 401) throw new UnauthorizedError(`login attempt to ${base}/v2/ failed with status: 401 Unauthorized`);
    throw new UnavailableError(`login to ${host}: registry answered ${res.status}`);
  }

  close(): void { this.transport.close(); }
}
