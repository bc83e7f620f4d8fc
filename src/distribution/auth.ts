// Registry authentication as the distribution spec and Docker do it: the registry answers 401
// with `WWW-Authenticate: Bearer realm=...,service=...,scope=...` (a token server issues a
// token, anonymously or for the user's basic credentials / identity token) or `Basic realm=...`
// (the credentials go on every request). Tokens are cached per host, service and scope until
// shortly before they expire; the challenge is remembered per host so later requests carry a
// token from the first try.
import { createHash } from 'node:crypto';
import { UnauthorizedError, UnavailableError } from '../lib/errors';
import type { AuthConfig } from '../lib/authConfig';
import type { Transport } from './transport';

export type { AuthConfig };

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses WWW-Authenticate values (several challenges possible) into scheme + params. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const v of values) {
    let s = v.trim();
    let cur: Challenge | undefined;
    while (s.length) {
      // a scheme token, unless it is followed by '=' (then it is a param of the current challenge)
      const scheme = /^([A-Za-z][A-Za-z0-9._~+/-]*)\s*(?!=)/.exec(s);
      const param = /^([A-Za-z0-9._~+/-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/.exec(s);
      if (param && cur) {
        cur.params[param[1].toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3];
        s = s.slice(param[0].length);
      } else if (scheme) {
        cur = { scheme: scheme[1].toLowerCase(), params: {} };
        out.push(cur);
        s = s.slice(scheme[0].length).replace(/^,\s*/, '');
      } else break;
    }
  }
  return out;
}

/** Username and password of an auth config, decoding `auth` (base64 user:pass) when that is what it has. */
export function basicCredentials(a: AuthConfig | undefined): { username: string; password: string } | undefined {
  if (!a) return undefined;
  if (a.username && a.password !== undefined) return { username: a.username, password: a.password };
  if (a.auth) {
    const dec = Buffer.from(a.auth, 'base64').toString();
    const i = dec.indexOf(':');
    if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  return undefined;
}

function decodeBase64Json(header: string): unknown {
  try {
    return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString());
  } catch {
    return undefined;
  }
}

function nonEmptyAuth(json: unknown): AuthConfig | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const a = json as AuthConfig;
  const empty = !a.username && !a.password && !a.auth && !a.identitytoken && !a.registrytoken;
  return empty ? undefined : a;
}

/** Decodes X-Registry-Auth (base64url or base64 JSON; empty or `{}` is anonymous). */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  return header ? nonEmptyAuth(decodeBase64Json(header)) : undefined;
}

/**
 * Decodes X-Registry-Config (what docker build sends: base64url JSON of registry key -> auth
 * config, `e30=` for none); unreadable or empty entries are left out, as dockerd ignores them.
 */
export function decodeRegistryConfig(header: string | undefined): Record<string, AuthConfig> {
  const json = header ? decodeBase64Json(header) : undefined;
  const out: Record<string, AuthConfig> = {};
  if (!json || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    const a = nonEmptyAuth(v);
    if (a) out[k] = a;
  }
  return out;
}

export { UnauthorizedError };

interface CachedToken { token: string; expires: number }

export class Authorizer {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly transport: Transport) {}

  /** Remembers the challenge of a 401 (the first Bearer or Basic). Returns false when there is none we can answer. */
  noteChallenge(host: string, header: string | string[] | undefined): boolean {
    const c = parseChallenges(header).find((x) => x.scheme === 'bearer' || x.scheme === 'basic');
    if (!c) return false;
    this.challenges.set(host, c);
    return true;
  }

  hasChallenge(host: string): boolean { return this.challenges.has(host); }

  /** Drops cached tokens for `host` and `scopes` (after a 401 with a token). */
  invalidate(host: string, scopes: string[], creds?: AuthConfig): void {
    const c = this.challenges.get(host);
    if (c) this.tokens.delete(this.key(host, c, scopes, creds));
  }

  /**
   * The Authorization header for a request to `host` needing `scopes`
   * (`repository:library/busybox:pull`), from what the host challenged with; {} before any challenge.
   */
  async headers(host: string, scopes: string[], creds?: AuthConfig): Promise<Record<string, string>> {
    const c = this.challenges.get(host);
    if (!c) return {};
    if (c.scheme === 'basic') {
      const b = basicCredentials(creds);
      if (!b) return {};
      return { Authorization: 'Basic ' + Buffer.from(`${b.username}:${b.password}`).toString('base64') };
    }
    if (creds?.registrytoken) return { Authorization: `Bearer ${creds.registrytoken}` };
    return { Authorization: `Bearer ${await this.token(host, c, scopes, creds)}` };
  }

  private key(host: string, c: Challenge, scopes: string[], creds?: AuthConfig): string {
    // the secret is part of the key: a token got with one password is never handed to another
    const b = basicCredentials(creds);
    const secret = b ? `basic:${b.username}:${b.password}` : creds?.identitytoken ? `identity:${creds.identitytoken}` : '';
    const who = secret ? createHash('sha256').update(secret).digest('hex') : '';
    return [host, c.params.realm, c.params.service ?? '', [...scopes].sort().join(' '), who].join('|');
  }

  private async token(host: string, c: Challenge, scopes: string[], creds?: AuthConfig): Promise<string> {
    const k = this.key(host, c, scopes, creds);
    const hit = this.tokens.get(k);
    if (hit && hit.expires > Date.now()) return hit.token;
    // one token request per key at a time (parallel layer downloads share it)
    let p = this.inflight.get(k);
    if (!p) {
      p = this.fetchToken(c, scopes, creds).then((t) => {
        this.tokens.set(k, { token: t.token, expires: Date.now() + Math.max(10, t.expiresIn - 10) * 1000 });
        return t.token;
      }).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  /** Asks the token server of challenge `c` for a token (GET with basic auth, or POST for an identity token). */
  async fetchToken(c: Challenge, scopes: string[], creds?: AuthConfig): Promise<{ token: string; expiresIn: number }> {
    const realm = c.params.realm;
    if (!realm) throw new UnavailableError('bearer challenge without a realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UnavailableError(`invalid token realm ${JSON.stringify(realm)}`);
    }
    const insecureTls = await this.transport.insecure.isInsecure(url.host);
    const b = basicCredentials(creds);
    let res;
    if (creds?.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identitytoken, client_id: 'docker' });
      if (c.params.service) form.set('service', c.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.transport.requestUrl(url, 'POST', { body: Buffer.from(form.toString()), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, insecureTls);
    } else {
      if (c.params.service) url.searchParams.set('service', c.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (b) {
        url.searchParams.set('account', b.username);
        headers.Authorization = 'Basic ' + Buffer.from(`${b.username}:${b.password}`).toString('base64');
      }
      res = await this.transport.requestUrl(url, 'GET', { headers }, insecureTls);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      let detail = text.trim();
      try {
        const j = JSON.parse(text) as { details?: string; errors?: { message?: string }[] };
        detail = j.details ?? j.errors?.[0]?.message ?? detail;
      } catch { /* not JSON */ }
      throw new UnauthorizedError(`unauthorized: ${detail || 'authentication required'}`);
    }
    if (res.status !== 200) throw new UnavailableError(`token server ${url.host} answered ${res.status}: ${text.slice(0, 200)}`);
    let j: { token?: string; access_token?: string; expires_in?: number };
    try {
      j = JSON.parse(text);
    } catch {
      throw new UnavailableError(`token server ${url.host}: invalid JSON`);
    }
    const token = j.token ?? j.access_token;
    if (!token) throw new UnavailableError(`token server ${url.host} returned no token`);
    // the spec's default lifetime is 60 s
    return { token, expiresIn: j.expires_in && j.expires_in > 0 ? j.expires_in : 60 };
  }
}
