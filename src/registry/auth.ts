// Who may do what. Three modes: none (no authorizer), htpasswd basic auth (any valid user may
// do anything), and a token service of the registry's own (the Docker Hub flow): a client that
// is refused gets `WWW-Authenticate: Bearer realm,service,scope`, asks the realm (GET /token,
// served by this registry) with its basic credentials, and gets an HS256-signed JWT whose
// `access` claim lists what the access file grants it, per repository.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { jwtVerify, SignJWT } from 'jose';

import { RegistryError } from './errors';

/** What a request needs: `type:name:actions`, the token scope's grammar. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export function openAccess(type: string, name: string, actions: string[]): Access {
  return { type, name, actions };
}

export function scopeString(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

export interface Authorizer {
  /** Resolves when the request may go on; throws UNAUTHORIZED (401) or DENIED (403). */
  authorize(req: http.IncomingMessage, access: Access | undefined): Promise<void>;
}

/** An htpasswd file's bcrypt entries (`htpasswd -B`). Other hash kinds are refused at load. */
export class Htpasswd {
  private readonly users = new Map<string, string>();
  /** sha256(user:password) of pairs already checked: bcrypt costs ~50 ms a check, not per request. */
  private readonly verified = new Set<string>();

  constructor(file: string) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      const i = t.indexOf(':');
      if (i <= 0) throw new Error(`${file}: not an htpasswd line: ${t}`);
      const hash = t.slice(i + 1);
      if (!/^\$2[aby]\$/.test(hash)) throw new Error(`${file}: user ${t.slice(0, i)}: only bcrypt entries are supported (htpasswd -B)`);
      this.users.set(t.slice(0, i), hash);
    }
  }

  async check(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (this.verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash);
    if (ok) {
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.add(key);
    }
    return ok;
  }
}

function basicCredentials(req: http.IncomingMessage): { user: string; password: string } | undefined {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return undefined;
  const s = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = s.indexOf(':');
  if (i < 0) return undefined;
  return { user: s.slice(0, i), password: s.slice(i + 1) };
}

const unauthorized = (challenge: string, detail?: unknown) =>
  new RegistryError(401, 'UNAUTHORIZED', 'authentication required', detail, { 'WWW-Authenticate': challenge });

export class BasicAuthorizer implements Authorizer {
  constructor(private readonly htpasswd: Htpasswd, private readonly realm = 'berth-registry') {}

  async authorize(req: http.IncomingMessage): Promise<void> {
    const c = basicCredentials(req);
    if (!c || !(await this.htpasswd.check(c.user, c.password))) throw unauthorized(`Basic realm="${this.realm}"`);
  }
}

/**
 * The access file: one grant a line, `USER REPOSITORY-GLOB ACTIONS`, e.g.
 *
 *     alice      *          pull,push,delete
 *     bob        team/*     pull,push
 *     *          public/*   pull          (any user with valid credentials)
 *     anonymous  public/*   pull          (no credentials at all)
 *
 * `*` in a glob matches any characters, '/' included. A grant on `*` includes the catalog.
 */
export class AccessFile {
  private readonly grants: Array<{ user: string; glob: RegExp; catalog: boolean; actions: Set<string> }> = [];

  constructor(file: string) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const t = line.replace(/#.*/, '').trim();
      if (!t) continue;
      const [user, glob, actions, ...rest] = t.split(/\s+/);
      if (!actions || rest.length) throw new Error(`${file}: not a grant (USER REPOSITORY-GLOB ACTIONS): ${t}`);
      const acts = actions.split(',');
      for (const a of acts) if (!['pull', 'push', 'delete', '*'].includes(a)) throw new Error(`${file}: unknown action ${a}`);
      const re = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      this.grants.push({ user, glob: re, catalog: glob === '*', actions: new Set(acts.includes('*') ? ['pull', 'push', 'delete'] : acts) });
    }
  }

  /** The actions of `wanted` that `user` (undefined: anonymous) holds. */
  granted(user: string | undefined, wanted: Access): string[] {
    const out = new Set<string>();
    for (const g of this.grants) {
      if (user === undefined ? g.user !== 'anonymous' : g.user !== user && g.user !== '*') continue;
      if (wanted.type === 'registry') {
        if (wanted.name === 'catalog' && g.catalog) wanted.actions.forEach((a) => out.add(a));
        continue;
      }
      if (wanted.type !== 'repository' || !g.glob.test(wanted.name)) continue;
      for (const a of wanted.actions) if (g.actions.has(a)) out.add(a);
    }
    return [...out];
  }
}

export interface TokenOptions {
  htpasswd: Htpasswd;
  access: AccessFile;
  /** The HS256 key; kept in the root so tokens outlive a restart. */
  secretFile: string;
  service: string;
  /** Absolute realm URL; default: this registry's own /token at the Host the client used. */
  realm?: string;
  lifetimeSeconds?: number;
}

interface TokenClaims { access?: Access[] }

export class TokenService implements Authorizer {
  private readonly key: Uint8Array;

  constructor(private readonly opts: TokenOptions, private readonly scheme: 'http' | 'https') {
    let key: Buffer;
    try {
      key = fs.readFileSync(opts.secretFile);
    } catch {
      key = randomBytes(32);
      fs.mkdirSync(path.dirname(opts.secretFile), { recursive: true, mode: 0o700 });
      // synchronous start-up write; rename makes it whole or absent
      const tmp = `${opts.secretFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, key, { mode: 0o600 });
      fs.fsyncSync(fs.openSync(tmp, 'r'));
      fs.renameSync(tmp, opts.secretFile);
    }
    if (key.length < 32) throw new Error(`${opts.secretFile}: token key shorter than 32 bytes`);
    this.key = key;

  }

  private realm(req: http.IncomingMessage): string {
    return this.opts.realm ?? `${this.scheme}://${req.headers.host ?? 'localhost'}/token`;
  }

  private challenge(req: http.IncomingMessage, access: Access | undefined, error?: string): string {
    let c = `Bearer realm="${this.realm(req)}",service="${this.opts.service}"`;
    if (access) c += `,scope="${scopeString(access)}"`;
    if (error) c += `,error="${error}"`;
    return c;
  }

  async authorize(req: http.IncomingMessage, access: Access | undefined): Promise<void> {
    const h = req.headers.authorization;
    if (!h || !/^bearer /i.test(h)) throw unauthorized(this.challenge(req, access));
    let claims: TokenClaims;
    try {
      ({ payload: claims } = await jwtVerify(h.slice(7).trim(), this.key, { audience: this.opts.service, issuer: this.opts.service, algorithms: ['HS256'] }) as { payload: TokenClaims });
    } catch {
      throw unauthorized(this.challenge(req, access, 'invalid_token'));
    }
    if (!access) return;
    const held = new Set((claims.access ?? []).filter((a) => a.type === access.type && a.name === access.name).flatMap((a) => a.actions));
    if (!access.actions.every((a) => held.has(a) || held.has('*'))) {
      throw unauthorized(this.challenge(req, access, 'insufficient_scope'), [{ type: access.type, name: access.name, action: access.actions.join(',') }]);
    }
  }

  /** GET /token?service=&scope=...: the realm. Anonymous callers get the anonymous grants. */
  async serveToken(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    let user: string | undefined;
    const c = basicCredentials(req);
    if (c) {
      if (!(await this.opts.htpasswd.check(c.user, c.password))) {
        throw new RegistryError(401, 'UNAUTHORIZED', 'invalid username or password', undefined, { 'WWW-Authenticate': 'Basic realm="berth-registry-token"' });
      }
      user = c.user;
    }
    const service = url.searchParams.get('service');
    if (service !== null && service !== this.opts.service) throw new RegistryError(400, 'UNSUPPORTED', `unknown service ${service}`);
    const access: Access[] = [];
    for (const scope of url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean)) {
      const m = /^([a-z]+):(.+):([a-z*,]*)$/.exec(scope);
      if (!m) throw new RegistryError(400, 'UNSUPPORTED', `invalid scope ${scope}`);
      const wanted = { type: m[1], name: m[2], actions: m[3].split(',').filter(Boolean) };
      const actions = this.opts.access.granted(user, wanted);
      access.push({ type: wanted.type, name: wanted.name, actions });
    }
    const lifetime = this.opts.lifetimeSeconds ?? 300;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.opts.service).setAudience(this.opts.service).setSubject(user ?? '')
      .setIssuedAt(now).setNotBefore(now - 1).setExpirationTime(now + lifetime).setJti(randomBytes(12).toString('hex'))
      .sign(this.key);
    const body = JSON.stringify({ token, access_token: token, expires_in: lifetime, issued_at: new Date(now * 1000).toISOString() });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
