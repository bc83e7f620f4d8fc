// The client's HTTP/1.1, written over net.Socket (tls.TLSSocket for TLS) instead of node:http:
// loading node:http and making its first request (agent, ClientRequest, the parser binding)
// costs a CLI run 6-10 ms of CPU, more than the rest of a `berth ps` after Node's own start.
// It speaks what the Engine API needs and no more: one request at a time per connection,
// Content-Length and chunked bodies both ways, keep-alive reuse of idle connections, and the
// 101 upgrade that attach and exec hijack. Its responses carry the fields of
// http.IncomingMessage that the client reads (statusCode, statusMessage, headers, socket).
import * as net from 'node:net';
import { Readable } from 'node:stream';
import type * as tls from 'node:tls';
import type { Endpoint } from './host';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface WireRequest {
  method: string;
  /** the request target: path and query */
  path: string;
  /** sent as given, in order; the body's framing headers (Content-Length, Transfer-Encoding) included */
  headers: Record<string, string>;
  /** a Buffer is sent with the head; a Readable is sent chunked (Transfer-Encoding: chunked in headers) */
  body?: Buffer | Readable;
  /** a connection of its own, closed after the response instead of pooled (waits, follows, streams) */
  dedicated?: boolean;
}

/** Header fields are capped as Node caps them (16 KiB): a daemon that sends more is not an Engine API. */
const MAX_HEAD = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

function resetError(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

/** A response: the body as a Readable, ended when its framing says so. */
export class Response extends Readable {
  statusCode = 0;
  statusMessage = '';
  headers: ResponseHeaders = {};
  /** the connection; after a 101, the raw stream handed over to the caller */
  socket: net.Socket | null;
  /** after a 101: the bytes that came behind the response head */
  head?: Buffer;
  /** the body was read to its end (the connection is at a message boundary) */
  complete = false;
  /** set by the connection: resume reading the socket when the consumer wants more */
  onRead?: () => void;

  constructor(socket: net.Socket) {
    super();
    this.socket = socket;
  }

  override _read(): void {
    this.onRead?.();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // a body left unread: the connection is mid-message and cannot serve another request
    if (!this.complete) this.socket?.destroy();
    cb(err);
  }
}

/** A whole body; rejects when the connection breaks before its end (ECONNRESET, "aborted"). */
export function readBody(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

type BodyMode = 'none' | 'length' | 'chunked' | 'eof';

function parseHead(text: string, res: Response): void {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw resetError(`invalid HTTP response line: ${JSON.stringify(lines[0].slice(0, 80))}`);
  res.statusCode = Number(m[1]);
  res.statusMessage = m[2] ?? '';
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon).trim().toLowerCase();
    const value = lines[i].slice(colon + 1).trim();
    const prev = res.headers[name];
    // as Node joins repeated fields: set-cookie as a list, the others with ", "
    if (name === 'set-cookie') res.headers[name] = [...((prev as string[] | undefined) ?? []), value];
    else res.headers[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
}

function bodyMode(method: string, res: Response): BodyMode {
  const s = res.statusCode;
  if (method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200)) return 'none';
  if (/\bchunked\b/i.test(String(res.headers['transfer-encoding'] ?? ''))) return 'chunked';
  if (res.headers['content-length'] !== undefined) return 'length';
  return 'eof';
}

/** What becomes of a connection after its exchange. */
type Outcome = 'reuse' | 'close' | 'handover';

/**
 * One exchange on one connection: writes the request, parses the response head, then feeds the
 * body into the Response until its framing ends. `done` is called once: 'reuse' when the
 * connection is at a clean message boundary, 'handover' after a 101, else 'close'.
 */
class Exchange {
  private buf: Buffer = Buffer.alloc(0);
  private res: Response | undefined;
  private mode: BodyMode = 'none';
  /** bytes left of a Content-Length body or of the current chunk */
  private left = 0;
  private chunkState: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  private requestSent = false;
  private finished = false;
  private readonly onData = (d: Buffer) => this.data(d);
  private readonly onEnd = () => this.closed(null);
  private readonly onError = (e: Error) => this.closed(e);

  constructor(
    private readonly socket: net.Socket,
    private readonly req: WireRequest,
    private readonly upgrade: boolean,
    private readonly resolve: (r: Response) => void,
    private readonly reject: (e: Error) => void,
    private readonly done: (outcome: Outcome) => void,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    // a pooled connection may have been paused by the previous body's backpressure
    socket.resume();
    this.send();
  }

  private send(): void {
    const { method, path, headers, body } = this.req;
    let head = `${method} ${path} HTTP/1.1\r\n`;
    for (const k of Object.keys(headers)) head += `${k}: ${headers[k]}\r\n`;
    head += '\r\n';
    if (!(body instanceof Readable)) {
      this.socket.write(body && body.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head, 'latin1');
      this.requestSent = true;
      return;
    }
    this.socket.write(head, 'latin1');
    body.on('data', (c: Buffer | string) => {
      const chunk = typeof c === 'string' ? Buffer.from(c) : c;
      if (!chunk.length || this.socket.destroyed) return;
      if (!this.socket.write(Buffer.concat([Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, CRLF]))) {
        body.pause();
        this.socket.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      if (this.socket.destroyed) return;
      this.socket.write('0\r\n\r\n');
      this.requestSent = true;
    });
    body.once('error', (e) => this.fail(e));
  }

  private fail(e: Error): void {
    this.closed(e);
    this.socket.destroy();
  }

  /** The socket ended, closed or failed. */
  private closed(e: Error | null): void {
    if (this.finished) return;
    const res = this.res;
    if (!res) {
      this.finish('close');
      this.reject(e ?? resetError('socket hang up'));
      return;
    }
    if (this.mode === 'eof' && !e) {
      this.endBody(false);
      return;
    }
    this.finish('close');
    res.destroy(e && (e as NodeJS.ErrnoException).code !== 'ECONNRESET' ? e : resetError('aborted'));
  }

  private finish(outcome: Outcome): void {
    this.finished = true;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.done(outcome);
  }

  private data(d: Buffer): void {
    if (this.finished) return;
    if (!this.res) {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.head();
      return;
    }
    this.body(d);
  }

  private head(): void {
    for (;;) {
      const end = this.buf.indexOf(HEAD_END);
      if (end < 0) {
        if (this.buf.length > MAX_HEAD) this.fail(resetError('the response head is too large'));
        return;
      }
      const res = new Response(this.socket);
      try {
        parseHead(this.buf.subarray(0, end).toString('latin1'), res);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      const rest = this.buf.subarray(end + 4);
      this.buf = Buffer.alloc(0);
      // 100 Continue and other interim heads come before the real one
      if (res.statusCode >= 100 && res.statusCode < 200 && !(res.statusCode === 101 && this.upgrade)) {
        this.buf = rest;
        continue;
      }
      this.res = res;
      if (res.statusCode === 101) {
        // the connection is the caller's raw stream from here on
        res.head = rest;
        res.complete = true;
        this.finish('handover');
        res.push(null);
        this.resolve(res);
        return;
      }
      this.mode = bodyMode(this.req.method, res);
      this.left = Number(res.headers['content-length'] ?? 0);
      res.onRead = () => { if (!this.finished) this.socket.resume(); };
      this.resolve(res);
      if (this.mode === 'none' || (this.mode === 'length' && this.left === 0)) this.endBody(true);
      else if (rest.length) this.body(rest);
      return;
    }
  }

  private push(chunk: Buffer): void {
    if (chunk.length && !this.res!.push(chunk)) this.socket.pause();
  }

  private body(d: Buffer): void {
    if (this.mode === 'eof') { this.push(d); return; }
    if (this.mode === 'length') {
      const take = d.subarray(0, this.left);
      this.left -= take.length;
      this.push(take);
      if (this.left === 0) this.endBody(d.length === take.length);
      return;
    }
    this.chunked(d);
  }

  /** Chunked transfer coding: size line, data, CRLF, ..., a zero size, trailer lines, an empty line. */
  private chunked(d: Buffer): void {
    let buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.buf = Buffer.alloc(0);
    while (buf.length) {
      if (this.chunkState === 'data') {
        const take = buf.subarray(0, this.left);
        this.left -= take.length;
        this.push(take);
        buf = buf.subarray(take.length);
        if (this.left === 0) this.chunkState = 'crlf';
        continue;
      }
      const eol = buf.indexOf(CRLF);
      if (eol < 0) {
        if (buf.length > MAX_HEAD) { this.fail(resetError('invalid chunked encoding')); return; }
        this.buf = buf;
        return;
      }
      const line = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      if (this.chunkState === 'crlf') {
        if (line !== '') { this.fail(resetError('invalid chunked encoding')); return; }
        this.chunkState = 'size';
      } else if (this.chunkState === 'size') {
        const size = parseInt(line, 16);
        if (!/^[0-9a-fA-F]+/.test(line) || !Number.isSafeInteger(size)) { this.fail(resetError('invalid chunked encoding')); return; }
        if (size === 0) this.chunkState = 'trailer';
        else { this.left = size; this.chunkState = 'data'; }
      } else if (line === '') {
        this.endBody(buf.length === 0);
        return;
      }
    }
  }

  private endBody(clean: boolean): void {
    const res = this.res!;
    res.complete = true;
    const keepAlive = clean && this.requestSent && !/\bclose\b/i.test(String(res.headers.connection ?? ''));
    this.finish(keepAlive ? 'reuse' : 'close');
    res.push(null);
  }
}

/** A spare connection older than this is not used (Transport.takeSpare). */
const SPARE_MAX_AGE_MS = 5000;

/**
 * The connections of one client to one endpoint: idle keep-alive ones are reused (and unref'd
 * while idle, so they never hold the process open); dedicated ones are closed after their response.
 */
export class Transport {
  private readonly idle: net.Socket[] = [];
  /** connections opened ahead of need (preconnect), never used yet: any request may take one */
  private readonly spare: net.Socket[] = [];
  /** when each spare connection was opened */
  private readonly spareSince = new WeakMap<net.Socket, number>();
  private readonly live = new Set<net.Socket>();

  constructor(private readonly endpoint: Endpoint) {}

  private connect(): net.Socket {
    const ep = this.endpoint;
    if (ep.kind === 'unix') return net.connect(ep.socketPath);
    if (!ep.tls) return net.connect({ host: ep.host, port: ep.port, noDelay: true });
    // node:tls (and its certificate work) only for a TLS endpoint
    const t = require('node:tls') as typeof tls;
    return t.connect({
      host: ep.host, port: ep.port, ca: ep.tls.ca, cert: ep.tls.cert, key: ep.tls.key, rejectUnauthorized: ep.tls.verify,
      // SNI takes a name, never an address (RFC 6066)
      ...(net.isIP(ep.host) ? {} : { servername: ep.host }),
    });
  }

  private socket(dedicated: boolean): net.Socket {
    const reused = (dedicated ? undefined : this.idle.pop()) ?? this.takeSpare();
    if (reused) {
      reused.ref();
      return reused;
    }
    return this.open();
  }

  private open(): net.Socket {
    const s = this.connect();
    this.live.add(s);
    s.once('close', () => {
      this.live.delete(s);
      for (const list of [this.idle, this.spare]) {
        const i = list.indexOf(s);
        if (i >= 0) list.splice(i, 1);
      }
    });
    // an idle connection the daemon closes is dropped (above); its error must not be unhandled
    s.on('error', () => undefined);
    return s;
  }

  /**
   * A spare connection young enough that the daemon has not closed it as idle (berthd gives a
   * connection 15 s for its first request): an old one could be closing as the request goes out.
   */
  private takeSpare(): net.Socket | undefined {
    for (let s = this.spare.shift(); s; s = this.spare.shift()) {
      if (Date.now() - (this.spareSince.get(s) ?? 0) < SPARE_MAX_AGE_MS) return s;
      s.destroy();
    }
    return undefined;
  }

  /**
   * Opens connections until `n` stand spare, for requests about to come: their connect (and the
   * event-loop turn it takes before the first write) then falls in a wait for the daemon, not
   * on the way to the request. Spare ones are unref'd, like idle ones, and any request, dedicated
   * or not, may take one.
   */
  preconnect(n: number): void {
    while (this.spare.length < n) {
      const s = this.open();
      s.unref();
      this.spareSince.set(s, Date.now());
      this.spare.push(s);
    }
  }

  /**
   * Sends a request; resolves with the response once its head arrived. With `Upgrade` among
   * the headers, a 101 resolves with the raw connection in `socket` (and early bytes in `head`).
   */
  send(req: WireRequest): Promise<Response> {
    const upgrade = req.headers.Upgrade !== undefined;
    const dedicated = !!req.dedicated || upgrade;
    const socket = this.socket(dedicated);
    return new Promise<Response>((resolve, reject) => {
      new Exchange(socket, req, upgrade, resolve, reject, (outcome) => {
        if (outcome === 'handover') {
          // the caller's raw stream now: not closed by destroy()
          this.live.delete(socket);
        } else if (outcome === 'reuse' && !dedicated && !socket.destroyed) {
          socket.unref();
          this.idle.push(socket);
        } else {
          socket.destroy();
        }
      });
    });
  }

  /** Closes every connection: idle, in use, waiting (hijacked streams are the caller's). */
  destroy(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
    this.idle.length = 0;
    this.spare.length = 0;
  }
}
