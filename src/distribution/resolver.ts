// Where a reference is fetched from: Docker Hub names (`docker.io/...`) go to the configured
// registry-mirrors first, in order, then to registry-1.docker.io; every other name to its own
// registry host. Credentials go only to the reference's own registry, never to a mirror.
import { InvalidParameterError } from '../lib/errors';
import { DEFAULT_DOMAIN, type Reference } from '../lib/reference';

export const DOCKER_HUB_HOST = 'registry-1.docker.io';

export interface Endpoint {
  /** `host[:port]` of the registry API. */
  host: string;
  /** A mirror: tried first, failures fall through to the next endpoint. */
  mirror: boolean;
  /** The scheme a mirror was configured with (`http://mirror` is used over HTTP as given). */
  scheme?: 'http' | 'https';
}

/** Parses daemon.json `registry-mirrors` entries (`https://mirror.example`, `http://127.0.0.1:5001/`). */
export function parseMirror(s: string): Endpoint {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new InvalidParameterError(`invalid mirror: ${JSON.stringify(s)} is not a valid URI`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidParameterError(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${s}"`);
  if (u.pathname !== '/' && u.pathname !== '') throw new InvalidParameterError(`invalid mirror: path in "${s}" is not supported`);
  if (u.username || u.password || u.search || u.hash) throw new InvalidParameterError(`invalid mirror: "${s}" must be a plain scheme://host[:port]`);
  return { host: u.host, mirror: true, scheme: u.protocol === 'http:' ? 'http' : 'https' };
}

/** The registry API host for a reference's domain (`docker.io` -> `registry-1.docker.io`). */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === 'index.docker.io' ? DOCKER_HUB_HOST : domain;
}

export class Resolver {
  readonly mirrors: Endpoint[];

  constructor(mirrors: string[] = []) {
    this.mirrors = mirrors.map(parseMirror);
  }

  /** The endpoints to try for `ref`, in order. */
  endpoints(ref: Reference): Endpoint[] {
    const own: Endpoint = { host: registryHost(ref.domain), mirror: false };
    return ref.domain === DEFAULT_DOMAIN ? [...this.mirrors, own] : [own];
  }
}
