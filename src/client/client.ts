// A typed Docker Engine API client over a unix socket or TCP (optionally TLS).
import type * as http from 'node:http';
import type * as net from 'node:net';
import { Readable } from 'node:stream';
import { compareVersions } from '../lib/apiVersion';
import { ApiError, ConnectionError, StreamError } from './errors';
import { Endpoint, parseHost, resolveHost } from './host';
import { jsonLines, jsonLinesRaw } from './stream';
import { readBody, Response, Transport } from './transport';
import type {
  NetworkSummary,
  ContainerCreateBody, ContainerInspect, ContainerPruneReport, ContainerSummary, CreateResponse, EventMessage,
  Filters, HistoryItem, ImageDeleteItem, ImageInspect, ImagePruneReport, ImageSummary, JsonMessage, StatsJSON,
  SystemInfo, TopResult, VersionInfo, WaitResult,
  VolumeSummary,
} from './types';

export const MAX_API_VERSION = '1.44';
export const FALLBACK_API_VERSION = '1.24';
export const CLIENT_VERSION = '0.1.0';

export type QueryValue = string | number | boolean | undefined | null | string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** object → JSON (with Go's trailing newline); Buffer/string → as is; Readable → chunked upload */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** false for /_ping: no /vX.Y prefix */
  versioned?: boolean;
  /** a dedicated connection (not from the keep-alive pool) */
  dedicated?: boolean;
}

export interface ClientOptions {
  /** -H/--host value; falls back to DOCKER_HOST, BERTH_HOST, then the default socket */
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** fixed API version (skips negotiation); DOCKER_API_VERSION is honoured too */
  apiVersion?: string;
  userAgent?: string;
  tls?: boolean;
}

export interface PingResult {
  apiVersion?: string;
  osType?: string;
  experimental?: boolean;
  builderVersion?: string;
  swarm?: string;
}

export interface HijackedStream {
  socket: net.Socket;
  contentType?: string;
  /** half-close: no more stdin */
  closeWrite(): void;
  close(): void;
}

export interface WaitHandle {
  /** resolves with the wait body once the container reached the condition */
  result: Promise<WaitResult>;
  /** abandon the wait (closes its connection) */
  cancel(): void;
}

export interface JsonStream<T> extends AsyncIterable<T> {
  close(): void;
}

export interface AttachOptions {
  stdin?: boolean; stdout?: boolean; stderr?: boolean; stream?: boolean; logs?: boolean; detachKeys?: string;
}

export interface LogsOptions {
  follow?: boolean; stdout?: boolean; stderr?: boolean; since?: string; until?: string; timestamps?: boolean;
  tail?: string; details?: boolean;
}

export { compareVersions };

/** Encode query parameters as Go's url.Values.Encode does: keys sorted, repeated keys for lists. */
export function encodeQuery(q?: Query): string {
  if (!q) return '';
  const sp = new URLSearchParams();
  for (const k of Object.keys(q).sort()) {
    const v = q[k];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) sp.append(k, x);
    else if (typeof v === 'boolean') sp.append(k, v ? '1' : '0');
    else sp.append(k, String(v));
  }
  return sp.toString();
}

/** Encode filters as the API wants them: {"key":{"value":true}}, keys sorted like Go's encoder. */
export function encodeFilters(f?: Filters): string | undefined {
  if (!f) return undefined;
  const keys = Object.keys(f).filter((k) => f[k].length > 0).sort();
  if (!keys.length) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const k of keys) {
    out[k] = {};
    for (const v of [...f[k]].sort()) out[k][v] = true;
  }
  return JSON.stringify(out);
}

export { Response };

export class Client {
  readonly host: string;
  readonly endpoint: Endpoint;
  private apiVer: string | undefined;
  private negotiating: Promise<string> | undefined;
  private readonly wire: Transport;
  private readonly userAgent: string;

  constructor(opts: ClientOptions = {}) {
    const env = opts.env ?? process.env;
    this.host = resolveHost(opts.host, env);
    this.endpoint = parseHost(this.host, env, opts.tls);
    this.apiVer = opts.apiVersion || env.DOCKER_API_VERSION || undefined;
    this.userAgent = opts.userAgent ?? `Berth-Client/${CLIENT_VERSION} (linux)`;
    this.wire = new Transport(this.endpoint);
  }

  // ---------------------------------------------------------------- transport

  private wrapError(e: unknown): Error {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code && ['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EPERM'].includes(code)) {
      if (code === 'EACCES' || code === 'EPERM') {
        const err = new ConnectionError(this.host, e);
        err.message = `permission denied while trying to connect to the berth daemon socket at ${this.host}`;
        return err;
      }
      return new ConnectionError(this.host, e);
    }
    return e instanceof Error ? e : new Error(String(e));
  }

  private async buildPath(path: string, o: RequestOptions, version?: string): Promise<string> {
    const prefix = o.versioned === false ? '' : `/v${version ?? await this.apiVersion()}`;
    const qs = encodeQuery(o.query);
    return prefix + path + (qs ? `?${qs}` : '');
  }

  /**
   * Before any version is known, a request that can be sent twice goes out as MAX_API_VERSION
   * with no ping first (one round trip less per command): a daemon that speaks it answers, and
   * one that does not says 400 "client version ... is too new" before doing anything, after
   * which the version is negotiated and the request sent again.
   */
  private optimisticVersion(o: RequestOptions): string | undefined {
    return o.versioned !== false && !this.apiVer && !this.negotiating && !(o.body instanceof Readable) ? MAX_API_VERSION : undefined;
  }

  private prepareBody(method: string, o: RequestOptions): { headers: Record<string, string>; body?: Buffer | Readable } {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    let body: Buffer | Readable | undefined;
    if (o.body instanceof Readable) {
      body = o.body;
      headers['Transfer-Encoding'] = 'chunked';
      if (o.contentType) headers['Content-Type'] = o.contentType;
    } else if (Buffer.isBuffer(o.body) || typeof o.body === 'string') {
      body = Buffer.from(o.body);
      headers['Content-Length'] = String(body.length);
      if (o.contentType) headers['Content-Type'] = o.contentType;
    } else if (o.body !== undefined) {
      body = Buffer.from(JSON.stringify(o.body) + '\n');
      headers['Content-Type'] = o.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    } else if (method === 'POST' || method === 'PUT') {
      headers['Content-Length'] = '0';
      if (o.contentType) headers['Content-Type'] = o.contentType;
    }
    return { headers, body };
  }

  /** Send a request; resolves with the response once its headers arrived. Error statuses throw ApiError. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const optimistic = this.optimisticVersion(o);
    const fullPath = await this.buildPath(path, o, optimistic);
    const { headers, body } = this.prepareBody(method, o);
    const res = await this.send(method, fullPath, headers, body, !!o.dedicated);
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const err = await this.errorFrom(res, fullPath);
      if (optimistic && status === 400 && /^client version \S+ is too new/.test(err.message)) {
        await this.apiVersion(); // the ping: the version to send again with (not optimistic any more)
        return this.request(method, path, o);
      }
      throw err;
    }
    // the daemon took it: it speaks MAX_API_VERSION, which is what negotiation would have chosen
    if (optimistic) this.apiVer ??= optimistic;
    return res;
  }

  /** One exchange through the transport, with the headers every request carries. */
  private async send(method: string, path: string, headers: Record<string, string>, body: Buffer | Readable | undefined, dedicated: boolean): Promise<Response> {
    try {
      return await this.wire.send({
        method, path, body, dedicated,
        headers: { Host: 'api.moby.localhost', 'User-Agent': this.userAgent, ...headers },
      });
    } catch (e) {
      throw this.wrapError(e);
    }
  }

  private async errorFrom(res: Response, fullPath: string): Promise<ApiError> {
    const status = res.statusCode ?? 0;
    const statusText = res.statusMessage || (require('node:http') as typeof http).STATUS_CODES[status] || '';
    let raw = '';
    try { raw = (await readBody(res)).toString('utf8'); } catch { /* ignore */ }
    const ct = String(res.headers['content-type'] ?? '');
    if (!raw.trim()) {
      const url = this.endpoint.kind === 'unix'
        ? `http://${encodeURIComponent(this.endpoint.socketPath)}${fullPath}`
        : `http://${this.endpoint.host}:${this.endpoint.port}${fullPath}`;
      return new ApiError(status, `request returned ${status} ${statusText} for API route and version ${url}, check if the server supports the requested API version`, false);
    }
    if (ct.includes('json') || /^\s*\{/.test(raw)) {
      try {
        const j = JSON.parse(raw) as { message?: unknown };
        if (typeof j?.message === 'string' && j.message) return new ApiError(status, j.message);
        return new ApiError(status, `API returned a ${status} (${statusText}) but provided no error-message`);
      } catch { /* not JSON: use verbatim */ }
    }
    return new ApiError(status, raw.replace(/\r?\n$/, ''));
  }

  /** Request and decode a JSON body. */
  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    const raw = (await readBody(res)).toString('utf8');
    return (raw.trim() ? JSON.parse(raw) : null) as T;
  }

  /** Request and return the raw body text. */
  async text(method: string, path: string, o: RequestOptions = {}): Promise<string> {
    const res = await this.request(method, path, o);
    return (await readBody(res)).toString('utf8');
  }

  /** Request without a useful body; returns the status code (204, 304, ...). */
  async noContent(method: string, path: string, o: RequestOptions = {}): Promise<number> {
    const res = await this.request(method, path, o);
    await readBody(res).catch(() => undefined);
    return res.statusCode ?? 0;
  }

  // ---------------------------------------------------------------- networks

  networkList(filters?: Filters): Promise<NetworkSummary[]> {
    return this.json<NetworkSummary[]>('GET', '/networks', { query: { filters: encodeFilters(filters) } });
  }

  networkCreate(body: Record<string, unknown>): Promise<{ Id: string; Warning?: string }> {
    return this.json('POST', '/networks/create', { body });
  }

  async networkRemove(id: string): Promise<void> {
    await this.noContent('DELETE', `/networks/${encodeURIComponent(id)}`);
  }

  networkPrune(filters?: Filters): Promise<{ NetworksDeleted: string[] | null }> {
    return this.json('POST', '/networks/prune', { query: { filters: encodeFilters(filters) } });
  }

  async networkConnect(id: string, container: string, endpoint: Record<string, unknown> = {}): Promise<void> {
    await this.noContent('POST', `/networks/${encodeURIComponent(id)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }

  async networkDisconnect(id: string, container: string, force = false): Promise<void> {
    await this.noContent('POST', `/networks/${encodeURIComponent(id)}/disconnect`, { body: { Container: container, Force: force } });
  }

  networkInspect(id: string): Promise<NetworkSummary & { IPAM?: { Driver?: string; Config?: Array<Record<string, string>> | null }; Options?: Record<string, string> | null; Attachable?: boolean }> {
    return this.json('GET', `/networks/${encodeURIComponent(id)}`);
  }

  // ---------------------------------------------------------------- volumes

  volumeCreate(body: { Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }): Promise<VolumeSummary> {
    return this.json('POST', '/volumes/create', { body });
  }

  volumeInspect(name: string): Promise<VolumeSummary> {
    return this.json('GET', `/volumes/${encodeURIComponent(name)}`);
  }

  async volumeList(filters?: Filters): Promise<VolumeSummary[]> {
    const r = await this.json<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters: encodeFilters(filters) } });
    return r.Volumes ?? [];
  }

  async volumeRemove(name: string, force = false): Promise<void> {
    await this.noContent('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: force ? '1' : undefined } });
  }

  /** Connects ahead for the next `n` requests (Transport.preconnect), e.g. while the daemon works on one. */
  preconnect(n: number): void {
    this.wire.preconnect(n);
  }

  /** Close every connection (pending waits, follows, pooled sockets). */
  close(): void {
    this.wire.destroy();
  }

  // ---------------------------------------------------------------- version negotiation

  async ping(): Promise<PingResult> {
    let res: Response;
    try {
      res = await this.request('HEAD', '/_ping', { versioned: false });
    } catch (e) {
      if (e instanceof ApiError && e.status === 405) res = await this.request('GET', '/_ping', { versioned: false });
      else throw e;
    }
    res.resume();
    const h = res.headers;
    return {
      apiVersion: h['api-version'] as string | undefined,
      osType: h['ostype'] as string | undefined,
      experimental: h['docker-experimental'] === 'true',
      builderVersion: h['builder-version'] as string | undefined,
      swarm: h['swarm'] as string | undefined,
    };
  }

  /** The API version used in paths: min(1.44, the daemon's Api-Version), or 1.24 if the daemon sends none. */
  async apiVersion(): Promise<string> {
    if (this.apiVer) return this.apiVer;
    if (!this.negotiating) {
      this.negotiating = this.ping().then((p) => {
        let v = p.apiVersion || FALLBACK_API_VERSION;
        if (!/^\d+\.\d+$/.test(v)) v = FALLBACK_API_VERSION;
        if (compareVersions(v, MAX_API_VERSION) > 0) v = MAX_API_VERSION;
        this.apiVer = v;
        return v;
      });
      this.negotiating.catch(() => { this.negotiating = undefined; });
    }
    return this.negotiating;
  }

  /** The version negotiated so far (undefined before the first request). */
  get negotiatedVersion(): string | undefined {
    return this.apiVer;
  }

  // ---------------------------------------------------------------- hijack

  /** POST with Connection: Upgrade / Upgrade: tcp; resolves with the raw socket after 101. */
  async hijack(path: string, o: RequestOptions = {}): Promise<HijackedStream> {
    const fullPath = await this.buildPath(path, o);
    const { headers, body } = this.prepareBody('POST', o);
    headers['Connection'] = 'Upgrade';
    headers['Upgrade'] = 'tcp';
    if (!headers['Content-Type']) headers['Content-Type'] = 'text/plain';
    const res = await this.send('POST', fullPath, headers, body instanceof Readable ? undefined : body, true);
    const socket = res.socket;
    if (res.statusCode !== 101 || !socket) {
      if (res.statusCode >= 400) throw await this.errorFrom(res, fullPath);
      res.resume();
      throw new Error(`unexpected response to upgrade request: ${res.statusCode}`);
    }
    if (res.head?.length) socket.unshift(res.head);
    socket.setNoDelay?.(true);
    return {
      socket,
      contentType: res.headers['content-type'] as string | undefined,
      closeWrite: () => { if (!socket.destroyed && socket.writable) socket.end(); },
      close: () => socket.destroy(),
    };
  }

  // ---------------------------------------------------------------- containers

  containerCreate(body: ContainerCreateBody | Record<string, unknown>, opts: { name?: string; platform?: string } = {}): Promise<CreateResponse> {
    return this.json<CreateResponse>('POST', '/containers/create', { query: { name: opts.name || undefined, platform: opts.platform || undefined }, body });
  }

  containerList(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.json<ContainerSummary[]>('GET', '/containers/json', {
      query: {
        all: opts.all ? '1' : undefined,
        limit: opts.limit !== undefined && opts.limit > 0 ? String(opts.limit) : undefined,
        size: opts.size ? '1' : undefined,
        filters: encodeFilters(opts.filters),
      },
    });
  }

  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(id)}/json`, { query: { size: opts.size ? '1' : undefined } });
  }

  /** The raw inspect body (for byte-faithful printing). */
  containerInspectRaw(id: string, opts: { size?: boolean } = {}): Promise<string> {
    return this.text('GET', `/containers/${encodeURIComponent(id)}/json`, { query: { size: opts.size ? '1' : undefined } });
  }

  /** Start; resolves false when the daemon answered 304 (already started). */
  async containerStart(id: string, opts: { detachKeys?: string } = {}): Promise<boolean> {
    return (await this.noContent('POST', `/containers/${encodeURIComponent(id)}/start`, { query: { detachKeys: opts.detachKeys }, dedicated: true })) !== 304;
  }

  /** Stop; resolves false on 304 (already stopped). */
  async containerStop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<boolean> {
    return (await this.noContent('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t: opts.timeout, signal: opts.signal || undefined } })) !== 304;
  }

  async containerRestart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.noContent('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t: opts.timeout, signal: opts.signal || undefined } });
  }

  async containerKill(id: string, signal?: string): Promise<void> {
    await this.noContent('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: signal || undefined } });
  }

  async containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    await this.noContent('DELETE', `/containers/${encodeURIComponent(id)}`, {
      query: { force: opts.force ? '1' : undefined, v: opts.volumes ? '1' : undefined, link: opts.link ? '1' : undefined },
    });
  }

  async containerRename(id: string, name: string): Promise<void> {
    await this.noContent('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } });
  }

  async containerPause(id: string): Promise<void> {
    await this.noContent('POST', `/containers/${encodeURIComponent(id)}/pause`);
  }

  async containerUnpause(id: string): Promise<void> {
    await this.noContent('POST', `/containers/${encodeURIComponent(id)}/unpause`);
  }

  containerTop(id: string, psArgs?: string): Promise<TopResult> {
    return this.json<TopResult>('GET', `/containers/${encodeURIComponent(id)}/top`, { query: { ps_args: psArgs || undefined } });
  }

  async containerResize(id: string, height: number, width: number): Promise<void> {
    await this.noContent('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h: String(height), w: String(width) } });
  }

  /**
   * Register a wait. Resolves once the response headers arrived (the daemon has registered the waiter),
   * so that `start` can safely follow; `result` resolves at the container's exit.
   */
  async containerWait(id: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<WaitHandle> {
    // a pooled connection, as the docker CLI's: run's ping and create leave it idle just before
    const res = await this.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
    const result = readBody(res).then((b) => {
      const text = b.toString('utf8').trim();
      if (!text) throw new Error('wait: the connection closed before the container exited');
      const line = text.split('\n').filter((l) => l.trim()).pop() as string;
      const r = JSON.parse(line) as WaitResult & { message?: string };
      if (r.StatusCode === undefined && r.message) throw new ApiError(500, r.message);
      return r;
    });
    result.catch(() => undefined);
    // a body still open closes its connection; an ended one's went back to the pool and is left alone
    return { result, cancel: () => { res.destroy(); } };
  }

  containerAttach(id: string, o: AttachOptions): Promise<HijackedStream> {
    return this.hijack(`/containers/${encodeURIComponent(id)}/attach`, {
      query: {
        detachKeys: o.detachKeys, logs: o.logs ? '1' : undefined, stderr: o.stderr ? '1' : undefined,
        stdin: o.stdin ? '1' : undefined, stdout: o.stdout ? '1' : undefined, stream: o.stream === false ? undefined : '1',
      },
    });
  }

  /** The logs response (framed for non-TTY containers, raw otherwise). */
  containerLogs(id: string, o: LogsOptions): Promise<Response> {
    return this.request('GET', `/containers/${encodeURIComponent(id)}/logs`, {
      query: {
        details: o.details ? '1' : undefined, follow: o.follow ? '1' : undefined, since: o.since || undefined,
        stderr: o.stderr === false ? undefined : '1', stdout: o.stdout === false ? undefined : '1', tail: o.tail ?? 'all',
        timestamps: o.timestamps ? '1' : undefined, until: o.until || undefined,
      },
      dedicated: !!o.follow,
    });
  }

  /** One stats sample (stream=0). */
  containerStatsOnce(id: string): Promise<StatsJSON> {
    return this.json<StatsJSON>('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: '0' } });
  }

  /** A stream of stats samples, about one per second. */
  async containerStats(id: string): Promise<JsonStream<StatsJSON>> {
    const res = await this.request('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: '1' }, dedicated: true });
    return this.jsonStream<StatsJSON>(res);
  }

  containerPrune(filters?: Filters): Promise<ContainerPruneReport> {
    return this.json<ContainerPruneReport>('POST', '/containers/prune', { query: { filters: encodeFilters(filters) } });
  }

  containerExport(id: string): Promise<Response> {
    return this.request('GET', `/containers/${encodeURIComponent(id)}/export`);
  }

  /** HEAD /containers/{id}/archive: what is at a container path (404: ApiError). */
  async containerStatPath(id: string, p: string): Promise<ContainerPathStat> {
    const res = await this.request('HEAD', `/containers/${encodeURIComponent(id)}/archive`, { query: { path: p } });
    res.resume();
    return decodePathStat(res);
  }

  /** GET /containers/{id}/archive: the path as a tar, and its stat. */
  async containerArchive(id: string, p: string): Promise<{ stat: ContainerPathStat; stream: Response }> {
    const res = await this.request('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path: p }, dedicated: true });
    return { stat: decodePathStat(res), stream: res };
  }

  /** PUT /containers/{id}/archive: extracts the tar `body` into the directory at `p`. */
  async containerPutArchive(id: string, p: string, body: Readable, opts: { copyUIDGID?: boolean; noOverwriteDirNonDir?: boolean } = {}): Promise<void> {
    const query: Query = { path: p, noOverwriteDirNonDir: opts.noOverwriteDirNonDir === false ? 'false' : 'true' };
    if (opts.copyUIDGID) query.copyUIDGID = 'true';
    const res = await this.request('PUT', `/containers/${encodeURIComponent(id)}/archive`, { query, body, contentType: 'application/x-tar', dedicated: true });
    res.resume();
  }

  // ---------------------------------------------------------------- images

  imageList(opts: { all?: boolean; filters?: Filters; digests?: boolean; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    return this.json<ImageSummary[]>('GET', '/images/json', {
      query: { all: opts.all ? '1' : undefined, filters: encodeFilters(opts.filters), 'shared-size': opts.sharedSize ? '1' : undefined },
    });
  }

  imageInspect(ref: string): Promise<ImageInspect> {
    return this.json<ImageInspect>('GET', `/images/${ref}/json`);
  }

  imageInspectRaw(ref: string): Promise<string> {
    return this.text('GET', `/images/${ref}/json`);
  }

  imageHistory(ref: string): Promise<HistoryItem[]> {
    return this.json<HistoryItem[]>('GET', `/images/${ref}/history`);
  }

  imageRemove(ref: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.json<ImageDeleteItem[]>('DELETE', `/images/${ref}`, { query: { force: opts.force ? '1' : undefined, noprune: opts.noPrune ? '1' : undefined } });
  }

  async imageTag(source: string, repo: string, tag?: string): Promise<void> {
    await this.noContent('POST', `/images/${source}/tag`, { query: { repo, tag: tag || undefined } });
  }

  imagePrune(filters?: Filters): Promise<ImagePruneReport> {
    return this.json<ImagePruneReport>('POST', '/images/prune', { query: { filters: encodeFilters(filters) } });
  }

  /** POST /images/create?fromImage=..&tag=.. (pull); the JSON-message progress stream. */
  async imagePull(fromImage: string, tag: string | undefined, opts: { platform?: string; registryAuth?: string } = {}): Promise<JsonStream<JsonMessage>> {
    const res = await this.request('POST', '/images/create', {
      query: { fromImage, tag: tag || undefined, platform: opts.platform || undefined },
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
      dedicated: true,
    });
    return this.jsonStream<JsonMessage>(res);
  }

  /** POST /images/{name}/push?tag=..: the JSON-message progress stream (name unescaped, as the docker CLI sends it). */
  async imagePush(name: string, tag: string | undefined, opts: { registryAuth?: string } = {}): Promise<JsonStream<JsonMessage>> {
    const res = await this.request('POST', `/images/${name}/push`, {
      query: { tag: tag || undefined },
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
      dedicated: true,
    });
    return this.jsonStream<JsonMessage>(res);
  }

  /** POST /auth: the daemon checks the credentials against the registry (docker login). */
  registryLogin(auth: Record<string, string>): Promise<{ IdentityToken?: string; Status?: string }> {
    return this.json<{ IdentityToken?: string; Status?: string }>('POST', '/auth', { body: auth });
  }

  /** POST /images/create?fromSrc=-: import a rootfs tarball. */
  async imageImport(body: Readable, opts: { repo?: string; changes?: string[]; message?: string; platform?: string; fromSrc?: string } = {}): Promise<JsonStream<JsonMessage>> {
    const res = await this.request('POST', '/images/create', {
      query: {
        changes: opts.changes && opts.changes.length ? opts.changes : undefined, fromSrc: opts.fromSrc ?? '-',
        message: opts.message || undefined, platform: opts.platform || undefined, repo: opts.repo || undefined,
      },
      body: opts.fromSrc && opts.fromSrc !== '-' ? undefined : body,
      contentType: 'text/plain',
      dedicated: true,
    });
    return this.jsonStream<JsonMessage>(res);
  }

  /** POST /build (classic builder): the context tar streamed as the body. */
  async imageBuild(body: Readable, opts: {
    tags?: string[]; dockerfile?: string; buildArgs?: Record<string, string>; labels?: Record<string, string>;
    target?: string; noCache?: boolean; pull?: boolean; quiet?: boolean; networkMode?: string;
    cacheFrom?: string[]; registryConfig?: string;
  } = {}): Promise<JsonStream<JsonMessage>> {
    const res = await this.request('POST', '/build', {
      query: {
        t: opts.tags && opts.tags.length ? opts.tags : undefined,
        dockerfile: opts.dockerfile ?? 'Dockerfile',
        buildargs: opts.buildArgs && Object.keys(opts.buildArgs).length ? JSON.stringify(opts.buildArgs) : undefined,
        labels: opts.labels && Object.keys(opts.labels).length ? JSON.stringify(opts.labels) : undefined,
        target: opts.target || undefined,
        nocache: opts.noCache ? '1' : undefined,
        pull: opts.pull ? '1' : undefined,
        q: opts.quiet ? '1' : undefined,
        networkmode: opts.networkMode || undefined,
        cachefrom: opts.cacheFrom && opts.cacheFrom.length ? JSON.stringify(opts.cacheFrom) : undefined,
        version: '1',
      },
      ...(opts.registryConfig ? { headers: { 'X-Registry-Config': opts.registryConfig } } : {}),
      body, contentType: 'application/x-tar', dedicated: true,
    });
    return this.jsonStream<JsonMessage>(res);
  }

  /** POST /images/load with a tar body. */
  async imageLoad(body: Readable, opts: { quiet?: boolean } = {}): Promise<JsonStream<JsonMessage>> {
    const res = await this.request('POST', '/images/load', { query: { quiet: opts.quiet ? '1' : '0' }, body, contentType: 'application/x-tar', dedicated: true });
    return this.jsonStream<JsonMessage>(res);
  }

  /** GET /images/get?names=..: the tar stream. */
  imageSave(names: string[]): Promise<Response> {
    return this.request('GET', '/images/get', { query: { names }, dedicated: true });
  }

  // ---------------------------------------------------------------- system

  version(): Promise<VersionInfo> {
    return this.json<VersionInfo>('GET', '/version');
  }

  info(): Promise<SystemInfo> {
    return this.json<SystemInfo>('GET', '/info');
  }

  async events(opts: { since?: string; until?: string; filters?: Filters } = {}): Promise<JsonStream<EventMessage & { timeNanoExact?: string }>> {
    const res = await this.request('GET', '/events', {
      query: { filters: encodeFilters(opts.filters), since: opts.since || undefined, until: opts.until || undefined },
      dedicated: true,
    });
    const inner = this.jsonStream<EventMessage & { timeNanoExact?: string }>(res, (raw, v) => {
      // timeNano exceeds 2^53: keep the exact digits next to the (rounded) number
      const m = /"timeNano"\s*:\s*(\d+)/.exec(raw);
      if (m) Object.defineProperty(v, 'timeNanoExact', { value: m[1], enumerable: false });
      return v;
    });
    return inner;
  }

  // ---------------------------------------------------------------- helpers

  /** Wrap a line-delimited JSON response as an async iterable that can be closed. */
  jsonStream<T>(res: Response, map?: (raw: string, v: T) => T): JsonStream<T> {
    const iterate = async function* (): AsyncGenerator<T> {
      try {
        if (map) {
          for await (const { raw, value } of jsonLinesRaw<T>(res)) yield map(raw, value);
        } else {
          for await (const v of jsonLines<T>(res)) yield v;
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ECONNRESET' || (e as Error).message === 'aborted' || code === 'ERR_STREAM_PREMATURE_CLOSE') return;
        throw e;
      }
    };
    return {
      [Symbol.asyncIterator]: iterate,
      close: () => { res.destroy(); res.socket?.destroy(); },
    };
  }
}

/** Consume a JSON-message stream; calls onMessage for each and throws StreamError on an `error` message. */
export async function consumeJsonMessages(stream: AsyncIterable<JsonMessage>, onMessage?: (m: JsonMessage) => void): Promise<JsonMessage[]> {
  const all: JsonMessage[] = [];
  for await (const m of stream) {
    if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
    all.push(m);
    onMessage?.(m);
  }
  return all;
}

/** X-Docker-Container-Path-Stat, decoded. */
export interface ContainerPathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

function decodePathStat(res: Response): ContainerPathStat {
  const h = res.headers['x-docker-container-path-stat'];
  if (typeof h !== 'string') throw new Error('no X-Docker-Container-Path-Stat header in the response');
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as ContainerPathStat;
}
