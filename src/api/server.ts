// The Engine API HTTP server: version prefix handling, common headers, routing, hijack.
import * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../lib/errors';
import { log } from '../lib/log';
import { sendError, statusOf } from './errors';
import { sendJson, sendText } from './respond';
import { Router, type RequestContext } from './router';
import { API_VERSION, MIN_API_VERSION, compareVersions } from './version';

export const SERVER_VERSION = '0.1.0';
const SERVER_HEADER = `Berth/${SERVER_VERSION} (linux)`;
const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;

export function commonHeaders(): Record<string, string> {
  return { 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: SERVER_HEADER };
}

export interface TlsOptions { ca: Buffer; cert: Buffer; key: Buffer }

/**
 * The limits on a connection. The headers of a request must arrive whole within
 * `headersTimeoutMs` of the connection (or the previous response), a connection between
 * requests is closed after `keepAliveTimeoutMs`: a client that opens connections and sends
 * nothing, or a header byte now and then, holds nothing for long. Once the headers are in,
 * nothing times out here (requestTimeout 0): uploads, `logs -f`, `events`, `wait` and
 * hijacked attach/exec streams last as long as they need; JSON bodies have their own idle
 * timeout and size cap (body.ts).
 */
export const CONNECTION_LIMITS = {
  headersTimeoutMs: 15_000,
  keepAliveTimeoutMs: 30_000,
  /** How often Node looks for connections past headersTimeout. */
  checkIntervalMs: 2_000,
  /** Go's net/http allows 1 MiB; Node's default 16 KiB is tight for X-Registry-Config. */
  maxHeaderBytes: 64 * 1024,
  /** A refused body up to this size is read and dropped rather than cut (see endRefusedBody). */
  maxDiscardedBodyBytes: 64 * 1024 * 1024,
  /** Connections the kernel queues before berthd accepts them (capped by net.core.somaxconn; Node's 511 drops a burst of 1,000). */
  listenBacklog: 4096,
};

/** What the server routes through: the engine's Router, or berthd's startup table in front of it (daemon/startup.ts). */
export type RouteTable = Pick<Router, 'match'>;

/** The route for a request: HEAD falls back to GET where no HEAD route is registered. */
export function findRoute(router: RouteTable, method: string | undefined, path: string): ReturnType<Router['match']> {
  return router.match(method === 'HEAD' && !router.match('HEAD', path) ? 'GET' : (method ?? 'GET'), path);
}

/** Docker's 404 for a path no route serves (without the API headers, as dockerd's mux). */
export function sendNotFound(res: http.ServerResponse): void {
  for (const k of Object.keys(commonHeaders())) res.removeHeader(k);
  sendJson(res, 404, { message: 'page not found' });
}

export function createApiServer(router: RouteTable, tls?: TlsOptions): http.Server {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void dispatch(router, req, res);
  };
  const limits: http.ServerOptions = {
    headersTimeout: CONNECTION_LIMITS.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: CONNECTION_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: CONNECTION_LIMITS.checkIntervalMs,
    maxHeaderSize: CONNECTION_LIMITS.maxHeaderBytes,
  };
  // Mutual TLS only: a TCP listener never serves an unauthenticated client.
  // node:https (and tls) is loaded only for a TCP listener: a unix-socket daemon starts without it
  const server = tls
    ? (require('node:https') as typeof https).createServer({ ...limits, ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true }, onRequest)
    : http.createServer(limits, onRequest);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    // Error replies on an upgrade request end the connection: it was never going to be reused.
    res.on('finish', () => { if (!(res as { upgraded?: boolean }).upgraded) socket.end(); });
    void dispatch(router, req, res, { socket, head });
  });
  server.on('clientError', (err, socket) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    // Node answers a headers timeout with its own 408 before this event; what is left is a parse error.
    const [status, message] = code === 'HPE_HEADER_OVERFLOW' ? ['431 Request Header Fields Too Large', 'request headers are too large']
      : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ['408 Request Timeout', 'timed out waiting for the request headers'] : ['400 Bad Request', 'bad request'];
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message })}\n`);
  });
  return server;
}

async function dispatch(router: RouteTable, req: http.IncomingMessage, res: http.ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://berth');
  let path = url.pathname;
  let apiVersion = API_VERSION;
  const m = VERSION_PREFIX.exec(path);
  for (const [k, v] of Object.entries(commonHeaders())) res.setHeader(k, v);
  if (m) {
    apiVersion = m[1];
    path = m[2];
    if (compareVersions(apiVersion, API_VERSION) > 0) {
      return sendJson(res, 400, { message: `client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}` });
    }
    if (compareVersions(apiVersion, MIN_API_VERSION) < 0) {
      return sendText(res, 400, `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
    }
  }
  const found = findRoute(router, req.method, path);
  if (!found) return sendNotFound(res);
  const ctx: RequestContext = { req, res, params: found.params, query: url.searchParams, apiVersion, upgrade };
  const started = process.hrtime.bigint();
  try {
    await found.handler(ctx);
  } catch (err) {
    if (upgrade && (res as { upgraded?: boolean }).upgraded) {
      upgrade.socket.destroy();
    } else {
      if (!res.headersSent) endRefusedBody(req, res, statusOf(err));
      sendError(res, err);
    }
  } finally {
    log.debug('request', { method: req.method, path: req.url, ms: Number(process.hrtime.bigint() - started) / 1e6 });
  }
}

/**
 * After a refused or stalled body. A body announced too large but of a bounded size is read
 * and dropped, so that a client still writing it gets to read the 413 (else it meets EPIPE
 * first) and the connection is reused; any other is not read: the connection closes.
 */
function endRefusedBody(req: http.IncomingMessage, res: http.ServerResponse, status: number): void {
  if (status !== 408 && status !== 413) return;
  const declared = Number(req.headers['content-length']);
  if (status === 413 && !req.readableEnded && Number.isInteger(declared) && declared <= CONNECTION_LIMITS.maxDiscardedBodyBytes) {
    req.resume();
    return;
  }
  res.setHeader('Connection', 'close');
}

/** Writes the 101 for a hijacked request (or 200 for a plain POST) and hands back the raw socket. */
export function hijack(ctx: RequestContext, contentType: string): Duplex {
  if (ctx.upgrade) {
    const { socket } = ctx.upgrade;
    (ctx.res as { upgraded?: boolean }).upgraded = true;
    ctx.res.detachSocket(socket as import('node:net').Socket);
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    return socket;
  }
  throw new InvalidParameterError('this endpoint needs a hijacked connection (Connection: Upgrade, Upgrade: tcp)');
}
