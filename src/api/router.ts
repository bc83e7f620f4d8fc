// A small router: method + path pattern (`/containers/:id/json`) -> handler.
// Versioned prefixes (/v1.44/...) are stripped by the server before routing.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../lib/errors';

export interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version of the request: from the path, or the daemon's own when absent. */
  apiVersion: string;
  /** Set for hijacked requests (Connection: Upgrade): the raw socket and bytes read past the headers. */
  upgrade?: { socket: Duplex; head: Buffer };
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
  }
  get(p: string, h: Handler): void { this.add('GET', p, h); }
  head(p: string, h: Handler): void { this.add('HEAD', p, h); }
  post(p: string, h: Handler): void { this.add('POST', p, h); }
  put(p: string, h: Handler): void { this.add('PUT', p, h); }
  delete(p: string, h: Handler): void { this.add('DELETE', p, h); }

  /**
   * Finds the handler for a path. A `:name*` part swallows the rest of the path
   * (image names contain slashes: `/images/127.0.0.1:5000/a/b:1/json`).
   */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    const segs = path.split('/').filter(Boolean);
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const params = matchParts(r.parts, segs);
      if (params) return { handler: r.handler, params };
    }
    return undefined;
  }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const greedy = parts.findIndex((p) => p.endsWith('*'));
  if (greedy >= 0) {
    const after = parts.length - greedy - 1;
    if (segs.length < parts.length) return undefined;
    for (let i = 0; i < greedy; i++) if (!bind(parts[i], segs[i], params)) return undefined;
    for (let i = 0; i < after; i++) {
      if (!bind(parts[parts.length - 1 - i], segs[segs.length - 1 - i], params)) return undefined;
    }
    params[parts[greedy].slice(1, -1)] = segs.slice(greedy, segs.length - after).map(decode).join('/');
    return params;
  }
  if (parts.length !== segs.length) return undefined;
  for (let i = 0; i < parts.length; i++) if (!bind(parts[i], segs[i], params)) return undefined;
  return params;
}

function bind(part: string, seg: string, params: Record<string, string>): boolean {
  if (part.startsWith(':')) {
    params[part.slice(1)] = decode(seg);
    return true;
  }
  return part === seg;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidParameterError(`invalid path segment: ${s}`);
  }
}

// ---- query helpers, with Docker's boolean rules ("1", "true", "True" are true; "0"/"false"/"" false)

export function queryBool(q: URLSearchParams, key: string, dflt = false): boolean {
  const v = q.get(key);
  if (v === null) return dflt;
  const l = v.toLowerCase();
  return !(l === '' || l === '0' || l === 'false' || l === 'no');
}

export function queryInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidParameterError(`invalid value for ${key}: ${v}`);
  return n;
}
