// The Engine API HTTP server: version prefix handling, common headers, routing, hijack.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../lib/errors';
import { log } from '../lib/log';
import { sendError } from './errors';
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

export function createApiServer(router: Router, tls?: TlsOptions): http.Server {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void dispatch(router, req, res);
  };
  // Mutual TLS only: a TCP listener never serves an unauthenticated client.
  const server = tls
    ? https.createServer({ ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true }, onRequest)
    : http.createServer(onRequest);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    // Error replies on an upgrade request end the connection: it was never going to be reused.
    res.on('finish', () => { if (!(res as { upgraded?: boolean }).upgraded) socket.end(); });
    void dispatch(router, req, res, { socket, head });
  });
  server.on('clientError', (err, socket) => {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"bad request"}\n');
  });
  server.requestTimeout = 0; // uploads (import, load) and long waits are legitimate
  server.keepAliveTimeout = 30_000;
  return server;
}

async function dispatch(router: Router, req: http.IncomingMessage, res: http.ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
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
  const method = req.method === 'HEAD' && !router.match('HEAD', path) ? 'GET' : (req.method ?? 'GET');
  const found = router.match(method, path);
  if (!found) {
    for (const k of Object.keys(commonHeaders())) res.removeHeader(k);
    return sendJson(res, 404, { message: 'page not found' });
  }
  const ctx: RequestContext = { req, res, params: found.params, query: url.searchParams, apiVersion, upgrade };
  const started = process.hrtime.bigint();
  try {
    await found.handler(ctx);
  } catch (err) {
    if (upgrade && (res as { upgraded?: boolean }).upgraded) {
      upgrade.socket.destroy();
    } else sendError(res, err);
  } finally {
    log.debug('request', { method: req.method, path: req.url, ms: Number(process.hrtime.bigint() - started) / 1e6 });
  }
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
