// berth registry: the OCI distribution spec v1.1 over HTTP/1.1 (routes, headers and status
// codes); storage.ts keeps the bytes, auth.ts decides who may do what.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { FileHandle } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors';
import { checkDigest, checkName, isDigestRef } from './names';
import { MAX_MANIFEST_BYTES, RegistryStorage, rangeHeader } from './storage';
import { type Access, type Authorizer, openAccess } from './auth';
import type { Upstream } from './proxy';
import { BufferPool } from './bufferpool';

export interface RegistryServerOptions {
  root: string;
  /** PEM files: HTTPS when both are given. */
  tlsCert?: string;
  tlsKey?: string;
  authorizer?: Authorizer;
  /** Requests served at once; more get 429 TOOMANYREQUESTS (0: no cap). */
  maxInflight?: number;
  /** Pull-through cache of this upstream registry; pushes and deletes are refused. */
  upstream?: Upstream;
  /** Extra routes served before /v2/ (the token service). */
  extraRoute?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<boolean>;
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

// /v2/<name>/<what>: the name is checked against the grammar after the split.
const ROUTE_RE = /^\/v2\/(.+)\/(tags\/list|manifests\/[^/]+|blobs\/uploads\/[^/]*|blobs\/[^/]+|referrers\/[^/]+)$/;

function send(res: http.ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string | Buffer): void {
  const h: Record<string, string | number> = { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers };
  if (body !== undefined && h['Content-Length'] === undefined) h['Content-Length'] = Buffer.byteLength(body);
  if (body === undefined && h['Content-Length'] === undefined) h['Content-Length'] = 0;
  res.writeHead(status, h);
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

function sendError(res: http.ServerResponse, e: RegistryError, head: boolean): void {
  const body = e.body();
  const headers = { ...(body ? { 'Content-Type': 'application/json' } : {}), ...e.headers };
  if (head) send(res, e.status, { ...headers, 'Content-Length': 0 });
  else send(res, e.status, headers, body);
}

/** Reads a request body into memory, refusing more than `max` bytes (manifests); the rest stays unread for drain(). */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const tooBig = () => new RegistryError(413, 'SIZE_INVALID', `manifest larger than ${max} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooBig());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const stop = () => { req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.pause(); };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > max) { stop(); reject(tooBig()); return; }
      chunks.push(c);
    };
    const onEnd = () => { stop(); resolve(Buffer.concat(chunks)); };
    const onError = (e: Error) => { stop(); reject(e); };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}

/** Bodies up to this size are read to their end before an error answer, so the client sees the answer, not a reset. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads and drops the rest of a request body; false (and reading stops) past `limit` bytes. */
function drain(req: http.IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    let n = 0;
    const done = (ok: boolean) => { req.off('data', onData); req.off('end', onEnd); req.off('error', onEnd); resolve(ok); };
    const onData = (c: Buffer) => { n += c.length; if (n > limit) { req.pause(); done(false); } };
    const onEnd = () => done(true);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => done(false));
    req.resume();
  });
}

/** `Content-Range: <start>-<end>` of an upload chunk (the spec's form; `bytes ` allowed too). */
function parseContentRange(v: string | undefined): { start: number; end: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(?:bytes )?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(v.trim());
  if (!m) throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `invalid Content-Range: ${v}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `invalid Content-Range: ${v}`);
  return { start, end };
}

/** `Range: bytes=a-b | a- | -n` of a blob GET, resolved against its size; undefined for the whole blob. */
function parseRange(v: string | undefined, size: number): { start: number; end: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(v.trim());
  const bad = () => new RegistryError(416, 'RANGE_INVALID', `range not satisfiable: ${v}`, undefined, { 'Content-Range': `bytes */${size}` });
  if (!m || (m[1] === '' && m[2] === '')) throw bad();
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw bad();
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) throw bad();
  return { start, end };
}

function contentLength(req: http.IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  return v === undefined ? undefined : Number(v);
}

function hasBody(req: http.IncomingMessage): boolean {
  return (contentLength(req) ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** `n` of a listing: a non-negative integer, or undefined. */
function parseN(url: URL): number | undefined {
  const n = url.searchParams.get('n');
  if (n === null || n === '') return undefined;
  if (!/^\d+$/.test(n)) throw new RegistryError(400, 'UNSUPPORTED', `invalid n: ${n}`);
  return Number(n);
}

/** One page of a sorted list after `last`, with the Link header to the next page when there is one. */
function paginate(all: string[], url: URL, base: string): { items: string[]; headers: Record<string, string> } {
  const n = parseN(url);
  const last = url.searchParams.get('last');
  let items = last ? all.filter((x) => x > last) : all;
  const headers: Record<string, string> = {};
  if (n !== undefined) {
    if (n === 0) return { items: [], headers };
    if (items.length > n) {
      items = items.slice(0, n);
      headers.Link = `<${base}?n=${n}&last=${encodeURIComponent(items[items.length - 1])}>; rel="next"`;
    }
  }
  return { items, headers };
}

/** A referrers answer is an index a client reads whole: at most this many descriptors or bytes of them. */
const REFERRERS_PAGE = 1000;
const REFERRERS_PAGE_BYTES = 1024 * 1024;

/**
 * One page of a subject's referrers (sorted by digest) after `last`: `n` of them when asked
 * (the tags list's parameter; the spec leaves the page size to the registry), never more than
 * REFERRERS_PAGE or REFERRERS_PAGE_BYTES; `next` is the cursor when more follow (the Link).
 */
function referrersPage<T extends { digest: string }>(all: T[], url: URL): { manifests: T[]; next?: string } {
  const n = Math.min(parseN(url) ?? REFERRERS_PAGE, REFERRERS_PAGE);
  const last = url.searchParams.get('last');
  const rest = last ? all.filter((d) => d.digest > last) : all;
  const manifests: T[] = [];
  let bytes = 0;
  for (const d of rest) {
    if (manifests.length >= n) break;
    bytes += JSON.stringify(d).length + 1;
    if (manifests.length > 0 && bytes > REFERRERS_PAGE_BYTES) break;
    manifests.push(d);
  }
  return manifests.length < rest.length && manifests.length > 0 ? { manifests, next: manifests[manifests.length - 1].digest } : { manifests };
}

const CHUNK = 256 * 1024;
/** All blob GETs share these: 32 x 256 KiB = 8 MiB at most, however many clients. */
const blobBuffers = new BufferPool(CHUNK, 32);

/**
 * Streams bytes [start, end) of an open file into the response through at most two buffers of
 * the shared pool at a time: a buffer goes back to the pool only after the socket has taken it
 * (the write's callback) or the connection is gone, so reading the next chunk overlaps sending
 * this one without a buffer ever being refilled while the kernel may still read it.
 */
async function sendFileRange(fh: FileHandle, res: http.ServerResponse, start: number, end: number): Promise<void> {
  const pending: Array<Promise<void> | undefined> = [undefined, undefined];
  let closed = false;
  res.once('close', () => { closed = true; });
  let pos = start;
  let i = 0;
  while (pos < end && !closed) {
    await pending[i];
    const buf = await blobBuffers.acquire();
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos), pos));
    } catch (e) {
      blobBuffers.release(buf);
      throw e;
    }
    if (bytesRead === 0 || closed) { blobBuffers.release(buf); break; }
    pos += bytesRead;
    pending[i] = new Promise<void>((resolve) => {
      let back = false;
      const giveBack = () => { if (back) return; back = true; res.socket?.off('close', giveBack); blobBuffers.release(buf); resolve(); };
      // a destroyed socket may never call the write back; once it is closed the kernel has let go
      res.socket?.once('close', giveBack);
      res.write(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead), giveBack);
    });
    i ^= 1;
  }
  if (closed || pos < end) { res.destroy(); await Promise.all(pending); return; }
  await new Promise<void>((resolve) => { res.end(() => resolve()); });
}

/** A percent-decoded path segment; a malformed escape is the client's error, not a 500. */
function pathPart(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new RegistryError(400, 'UNSUPPORTED', `malformed path segment: ${s}`); }
}

export class RegistryServer {
  readonly storage: RegistryStorage;
  private server?: http.Server;
  private inflight = 0;

  constructor(readonly opts: RegistryServerOptions) {
    this.storage = new RegistryStorage(opts.root);
  }

  get scheme(): 'http' | 'https' { return this.opts.tlsCert ? 'https' : 'http'; }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await this.storage.open();
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => { void this.handle(req, res); };
    this.server = this.opts.tlsCert && this.opts.tlsKey
      ? https.createServer({ cert: fs.readFileSync(this.opts.tlsCert), key: fs.readFileSync(this.opts.tlsKey) }, handler)
      : http.createServer(handler);
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => { this.server!.off('error', reject); resolve(); });
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    const max = this.opts.maxInflight ?? 0;
    if (max > 0 && this.inflight >= max) {
      req.resume();
      sendError(res, new RegistryError(429, 'TOOMANYREQUESTS', 'too many requests', undefined, { 'Retry-After': '1' }), head);
      return;
    }
    this.inflight++;
    try {
      const url = new URL(req.url ?? '/', 'http://registry');
      if (this.opts.extraRoute && (await this.opts.extraRoute(req, res, url))) return;
      await this.route(req, res, url);
    } catch (e) {
      if (!(e instanceof RegistryError)) {
        process.stderr.write(`berth registry: ${req.method} ${req.url}: ${(e as Error).stack ?? e}\n`);
      }
      if (res.headersSent) { res.destroy(); return; }
      if (hasBody(req) && !req.readableEnded && !(await drain(req, DRAIN_LIMIT))) {
        // An unread body would be taken for the next request: close this connection after the answer.
        res.setHeader('Connection', 'close');
      }
      sendError(res, e instanceof RegistryError ? e : new RegistryError(500, 'UNSUPPORTED', 'internal error'), head);
    } finally {
      this.inflight--;
    }
  }

  private async authorize(req: http.IncomingMessage, access: Access | undefined): Promise<void> {
    if (this.opts.authorizer) await this.opts.authorizer.authorize(req, access);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const p = url.pathname;
    if (p === '/v2/' || p === '/v2') {
      if (method !== 'GET' && method !== 'HEAD') throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
      await this.authorize(req, undefined);
      return sendJson(res, 200, {});
    }
    if (p === '/v2/_catalog') {
      if (method !== 'GET') throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
      await this.authorize(req, openAccess('registry', 'catalog', ['*']));
      const { items, headers } = paginate(await this.storage.repositories(), url, '/v2/_catalog');
      return sendJson(res, 200, { repositories: items }, headers);
    }
    const m = ROUTE_RE.exec(p);
    if (!m) throw new RegistryError(404, 'UNSUPPORTED', `no such endpoint: ${p}`);
    const name = checkName(m[1]);
    const what = m[2];
    const read = method === 'GET' || method === 'HEAD';
    if (this.opts.upstream && !read) throw new RegistryError(405, 'UNSUPPORTED', 'a pull-through cache takes no pushes or deletes');
    const actions = read ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
    const access = openAccess('repository', name, actions);

    if (what === 'tags/list') {
      if (method !== 'GET') throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
      await this.authorize(req, access);
      if (!(await this.storage.repoExists(name))) throw new RegistryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
      const { items, headers } = paginate(await this.storage.tags(name), url, `/v2/${name}/tags/list`);
      return sendJson(res, 200, { name, tags: items }, headers);
    }
    if (what.startsWith('manifests/')) {
      const reference = pathPart(what.slice('manifests/'.length));
      await this.authorize(req, access);
      return this.manifest(req, res, url, name, reference);
    }
    if (what.startsWith('referrers/')) {
      if (method !== 'GET') throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
      await this.authorize(req, access);
      const subject = checkDigest(pathPart(what.slice('referrers/'.length)));
      const artifactType = url.searchParams.get('artifactType') ?? undefined;
      const { manifests, next } = referrersPage(await this.storage.referrers(name, subject, artifactType), url);
      const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
      if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
      if (next !== undefined) {
        const q = new URLSearchParams({ ...(url.searchParams.has('n') ? { n: url.searchParams.get('n')! } : {}), last: next, ...(artifactType !== undefined ? { artifactType } : {}) });
        headers.Link = `</v2/${name}/referrers/${subject}?${q}>; rel="next"`;
      }
      return send(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
    }
    if (what.startsWith('blobs/uploads/')) {
      const uuid = what.slice('blobs/uploads/'.length);
      if (uuid === '') {
        if (method !== 'POST') throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
        const from = url.searchParams.get('from');
        const mount = url.searchParams.get('mount');
        await this.authorize(req, access);
        if (mount !== null && from !== null) await this.authorize(req, openAccess('repository', checkName(from), ['pull']));
        return this.startUpload(req, res, url, name);
      }
      await this.authorize(req, access);
      return this.upload(req, res, url, name, uuid);
    }
    // blobs/<digest>
    await this.authorize(req, access);
    const digest = checkDigest(pathPart(what.slice('blobs/'.length)));
    return this.blob(req, res, name, digest);
  }

  private async blob(req: http.IncomingMessage, res: http.ServerResponse, name: string, digest: `sha256:${string}`): Promise<void> {
    const method = req.method;
    if (method === 'DELETE') {
      await this.storage.deleteBlob(name, digest);
      return send(res, 202, { 'Docker-Content-Digest': digest });
    }
    if (method !== 'GET' && method !== 'HEAD') throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
    const size = await this.storage.blobSize(name, digest).catch(async (e: unknown) => {
      if (!(e instanceof RegistryError) || e.code !== 'BLOB_UNKNOWN' || !this.opts.upstream) throw e;
      // A HEAD asks the upstream's HEAD; the bytes come (and are stored) with the first GET.
      if (method === 'HEAD') return this.opts.upstream.blobSize(name, digest);
      const { stream, size: declared } = await this.opts.upstream.blob(name, digest);
      await this.storage.putBlob(name, digest, stream, declared);
      return this.storage.blobSize(name, digest);
    });
    const range = parseRange(req.headers.range, size);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes',
      ETag: `"${digest}"`, 'Cache-Control': 'max-age=31536000',
    };
    const status = range ? 206 : 200;
    headers['Content-Length'] = range ? range.end - range.start + 1 : size;
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    if (method === 'HEAD' || size === 0) return send(res, status, headers);
    const fh = await this.storage.openBlob(digest);
    try {
      res.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers });
      await sendFileRange(fh, res, range?.start ?? 0, range ? range.end + 1 : size);
    } finally {
      await fh.close();
    }
  }

  private async startUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, name: string): Promise<void> {
    const mount = url.searchParams.get('mount');
    const from = url.searchParams.get('from');
    const alg = url.searchParams.get('digest-algorithm');
    if (alg !== null && alg !== 'sha256') throw new RegistryError(400, 'UNSUPPORTED', `unsupported digest algorithm: ${alg}`);
    if (mount !== null) {
      const d = checkDigest(mount);
      if (from !== null && (await this.storage.mountBlob(name, checkName(from), d))) {
        req.resume();
        return send(res, 201, { Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
      }
      // not mountable: an ordinary upload session, as the spec allows (202)
    }
    const digest = url.searchParams.get('digest');
    if (digest !== null) {
      const d = checkDigest(digest);
      await this.storage.putBlob(name, d, req, contentLength(req));
      return send(res, 201, { Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
    }
    req.resume();
    const uuid = await this.storage.startUpload(name);
    return send(res, 202, { Location: `/v2/${name}/blobs/uploads/${uuid}`, Range: '0-0', 'Docker-Upload-UUID': uuid });
  }

  private async upload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, name: string, uuid: string): Promise<void> {
    const method = req.method;
    const location = `/v2/${name}/blobs/uploads/${uuid}`;
    if (method === 'GET') {
      const st = await this.storage.uploadStatus(name, uuid);
      return send(res, 204, { Location: location, Range: rangeHeader(st.offset), 'Docker-Upload-UUID': uuid });
    }
    if (method === 'DELETE') {
      await this.storage.cancelUpload(name, uuid);
      return send(res, 204);
    }
    if (method === 'PATCH') {
      const cr = parseContentRange(req.headers['content-range'] as string | undefined);
      const len = contentLength(req);
      if (cr && len !== undefined && cr.end - cr.start + 1 !== len) {
        throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `Content-Range ${cr.start}-${cr.end} does not match Content-Length ${len}`);
      }
      const offset = await this.storage.appendUpload(name, uuid, req, cr?.start, len);
      return send(res, 202, { Location: location, Range: rangeHeader(offset), 'Docker-Upload-UUID': uuid });
    }
    if (method === 'PUT') {
      const digest = url.searchParams.get('digest');
      if (digest === null) throw new RegistryError(400, 'DIGEST_INVALID', 'digest missing');
      const d = checkDigest(digest);
      const cr = parseContentRange(req.headers['content-range'] as string | undefined);
      await this.storage.finishUpload(name, uuid, d, hasBody(req) ? (req as Readable) : undefined, cr?.start);
      if (!req.readableEnded) req.resume();
      return send(res, 201, { Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
    }
    throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
  }

  /** Proxy mode: a digest from the cache when there; a tag from the upstream, the cache when it is unreachable. */
  private async cachedManifest(name: string, reference: string): Promise<Awaited<ReturnType<RegistryStorage['getManifest']>>> {
    const upstream = this.opts.upstream!;
    if (isDigestRef(reference)) {
      try { return await this.storage.getManifest(name, reference); } catch (e) {
        if (!(e instanceof RegistryError) || e.code !== 'MANIFEST_UNKNOWN') throw e;
      }
    }
    let fetched;
    try {
      fetched = await upstream.manifest(name, reference);
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) throw e;
      // upstream unreachable or failing: what the cache has
      return this.storage.getManifest(name, reference);
    }
    await this.storage.putManifest(name, reference, fetched.mediaType, fetched.body, [], { cached: true });
    return this.storage.getManifest(name, reference);
  }

  private async manifest(req: http.IncomingMessage, res: http.ServerResponse, url: URL, name: string, reference: string): Promise<void> {
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      const { record, body } = this.opts.upstream ? await this.cachedManifest(name, reference) : await this.storage.getManifest(name, reference);
      const headers = { 'Content-Type': record.mediaType, 'Docker-Content-Digest': record.digest, ETag: `"${record.digest}"`, 'Content-Length': body.length };
      if (method === 'HEAD') return send(res, 200, headers);
      return send(res, 200, headers, body);
    }
    if (method === 'PUT') {
      const body = await readBody(req, MAX_MANIFEST_BYTES);
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
      const tags = url.searchParams.getAll('tag');
      if (tags.length && !isDigestRef(reference)) throw new RegistryError(400, 'UNSUPPORTED', 'tag= is for a push by digest');
      const record = await this.storage.putManifest(name, reference, contentType, body, tags);
      const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${record.digest}`, 'Docker-Content-Digest': record.digest };
      if (record.subject) headers['OCI-Subject'] = record.subject;
      if (tags.length) headers['OCI-Tag'] = tags.join(', ');
      return send(res, 201, headers);
    }
    if (method === 'DELETE') {
      await this.storage.deleteManifest(name, reference);
      return send(res, 202);
    }
    throw new RegistryError(405, 'UNSUPPORTED', `${method} not allowed`);
  }
}
