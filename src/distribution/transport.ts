// HTTP(S) to registries. Which hosts may be reached over plain HTTP or unverified TLS is decided
// here, as Docker does: hosts listed in insecure-registries, hosts whose address falls in a listed
// CIDR, and 127.0.0.0/8 and ::1/128 always (so `localhost:5000` and `127.0.0.1:5000` work with no
// configuration). A secure host is HTTPS with verification, nothing else; an insecure one is
// tried over HTTPS without verification first, then HTTP, and the scheme that answered is kept.
import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { UnavailableError } from '../lib/errors';

export const DEFAULT_INSECURE_CIDRS = ['127.0.0.0/8', '::1/128'];
const USER_AGENT = 'berth/0.1 (docker-compatible distribution client)';
const MAX_REDIRECTS = 5;

export interface TransportOptions {
  /** daemon.json `insecure-registries`: hosts (`host[:port]`) and CIDRs. */
  insecureRegistries?: string[];
  /** Per-request timeout for the response headers (ms). */
  headerTimeoutMs?: number;
}

export interface RegistryResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The response body; consume or destroy it. */
  body: Readable & http.IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
  text(): Promise<string>;
  buffer(limit?: number): Promise<Buffer>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

interface Cidr { family: 4 | 6; bits: bigint; prefix: number }

function ipToBig(ip: string): { family: 4 | 6; v: bigint } | undefined {
  if (net.isIPv4(ip)) return { family: 4, v: ip.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n) };
  if (net.isIPv6(ip)) {
    const [head, tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
    // an embedded IPv4 tail (::ffff:1.2.3.4)
    const expand = (parts: string[]): string[] => parts.flatMap((p) => (p.includes('.') ? (() => {
      const n = ipToBig(p)!.v;
      return [(n >> 16n).toString(16), (n & 0xffffn).toString(16)];
    })() : [p]));
    const hh = expand(h);
    const tt = expand(t);
    const groups = ip.includes('::') ? [...hh, ...Array(8 - hh.length - tt.length).fill('0'), ...tt] : hh;
    return { family: 6, v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
  }
  return undefined;
}

function parseCidr(s: string): Cidr | undefined {
  const m = /^(.+)\/(\d+)$/.exec(s);
  if (!m) return undefined;
  const ip = ipToBig(m[1]);
  if (!ip) return undefined;
  return { family: ip.family, bits: ip.v, prefix: Number(m[2]) };
}

function inCidr(ip: string, c: Cidr): boolean {
  const a = ipToBig(ip);
  if (!a || a.family !== c.family) return false;
  const width = c.family === 4 ? 32 : 128;
  const shift = BigInt(width - c.prefix);
  return a.v >> shift === c.bits >> shift;
}

/** `host[:port]` -> host without brackets or port. */
export function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const i = hostPort.lastIndexOf(':');
  return i > 0 && !hostPort.slice(0, i).includes(':') ? hostPort.slice(0, i) : hostPort;
}

export class InsecureRegistries {
  readonly hosts: Set<string>;
  readonly cidrs: string[];
  private parsedCidrs?: Cidr[];

  constructor(entries: string[] = []) {
    const hosts = new Set<string>();
    const cidrs: string[] = [...DEFAULT_INSECURE_CIDRS];
    for (const raw of entries) {
      // Docker accepts "http://host" and strips the scheme
      const e = raw.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      if (parseCidr(e)) { if (!cidrs.includes(e)) cidrs.push(e); } else hosts.add(e);
    }
    this.hosts = hosts;
    this.cidrs = cidrs;
  }

  /** Parsed on first use: net.isIPv4/isIPv6 compile their regexes on their first call (ms of a daemon start). */
  private get parsed(): Cidr[] {
    return (this.parsedCidrs ??= this.cidrs.map((c) => parseCidr(c)!));
  }

  /** Whether `hostPort` (a registry domain, e.g. `127.0.0.1:5000`) may use HTTP or unverified TLS. */
  async isInsecure(hostPort: string): Promise<boolean> {
    if (this.hosts.has(hostPort) || this.hosts.has(hostOnly(hostPort))) return true;
    const h = hostOnly(hostPort);
    let addrs: string[];
    if (net.isIP(h)) addrs = [h];
    else {
      try {
        addrs = (await lookup(h, { all: true })).map((a) => a.address);
      } catch {
        return false;
      }
    }
    return addrs.some((a) => this.parsed.some((c) => inCidr(a, c)));
  }
}

function collect(res: http.IncomingMessage, limit = 16 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        res.destroy();
        reject(new UnavailableError(`response from ${res.url ?? 'registry'} larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** A connection-level failure: the scheme did not answer at all (so HTTP may be tried after HTTPS). */
export class ConnectError extends UnavailableError {}

export class Transport {
  readonly insecure: InsecureRegistries;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsInsecureAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });
  /** host -> the base URL that answered (`https://h` or `http://h`). */
  private readonly bases = new Map<string, string>();
  private readonly headerTimeoutMs: number;

  constructor(opts: TransportOptions = {}) {
    this.insecure = new InsecureRegistries(opts.insecureRegistries);
    this.headerTimeoutMs = opts.headerTimeoutMs ?? 60_000;
  }

  /** Uses `scheme` for `hostPort` from now on (a mirror configured as `http://host`). */
  pinScheme(hostPort: string, scheme: 'http' | 'https'): void {
    this.bases.set(hostPort, `${scheme}://${hostPort}`);
  }

  /** The base URLs to try for a registry host, best first. */
  async candidates(hostPort: string): Promise<string[]> {
    const known = this.bases.get(hostPort);
    if (known) return [known];
    if (await this.insecure.isInsecure(hostPort)) return [`https://${hostPort}`, `http://${hostPort}`];
    return [`https://${hostPort}`];
  }

  /**
   * A request to `path` (e.g. `/v2/library/busybox/manifests/latest`) on registry `hostPort`,
   * over the first scheme that connects. Redirects are followed for GET and HEAD; the
   * Authorization header is dropped when a redirect leaves the host (blob storage URLs).
   */
  async request(hostPort: string, method: string, pathAndQuery: string, opts: RequestOptions = {}): Promise<RegistryResponse> {
    const bases = await this.candidates(hostPort);
    let lastErr: unknown;
    for (const base of bases) {
      try {
        const res = await this.requestUrl(new URL(base + pathAndQuery), method, opts, await this.insecure.isInsecure(hostPort));
        this.bases.set(hostPort, base);
        return res;
      } catch (e) {
        if (!(e instanceof ConnectError)) throw e;
        lastErr = e;
      }
    }
    throw lastErr;
  }

  /** A request to an absolute URL (token realms, upload locations). */
  async requestUrl(url: URL, method: string, opts: RequestOptions = {}, insecureTls = false, redirects = 0): Promise<RegistryResponse> {
    const res = await this.once(url, method, opts, insecureTls);
    const loc = res.headers.location;
    if ((method === 'GET' || method === 'HEAD') && res.status >= 300 && res.status < 400 && res.status !== 304 && loc) {
      res.body.resume();
      if (redirects >= MAX_REDIRECTS) throw new UnavailableError(`too many redirects from ${url.host}`);
      const next = new URL(loc, url);
      const headers = { ...opts.headers };
      if (next.host !== url.host) delete headers.Authorization;
      return this.requestUrl(next, method, { ...opts, headers }, insecureTls, redirects + 1);
    }
    return res;
  }

  private once(url: URL, method: string, opts: RequestOptions, insecureTls: boolean): Promise<RegistryResponse> {
    const isHttps = url.protocol === 'https:';
    const agent = isHttps ? (insecureTls ? this.httpsInsecureAgent : this.httpsAgent) : this.httpAgent;
    const mod = isHttps ? https : http;
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = mod.request(url, {
        method, agent, signal: opts.signal,
        headers: { 'User-Agent': USER_AGENT, ...(opts.body ? { 'Content-Length': String(opts.body.length) } : {}), ...opts.headers },
      }, (res) => {
        answered = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0, headers: res.headers, body: res, url,
          text: async () => (await collect(res)).toString(),
          buffer: (limit) => collect(res, limit),
        });
      });
      const timer = setTimeout(() => req.destroy(new UnavailableError(`${method} ${url}: no response within ${this.headerTimeoutMs} ms`)), this.headerTimeoutMs);
      timer.unref();
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (answered) return;
        if (opts.signal?.aborted) { reject(e); return; }
        // Docker's wording: Get "https://h/v2/": <cause>
        const verb = method[0] + method.slice(1).toLowerCase();
        const connectLevel = !!e.code && /^(ECONNREFUSED|ECONNRESET|EPROTO|ERR_SSL_|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|DEPTH_ZERO|UNABLE_TO|SELF_SIGNED|CERT_|ERR_TLS)/.test(e.code);
        const err = new (connectLevel ? ConnectError : UnavailableError)(`${verb} "${url}": ${e.message}`, { cause: e });
        reject(err);
      });
      req.end(opts.body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.httpsInsecureAgent.destroy();
  }
}
