// Image references as the docker CLI normalises them (distribution/reference, reduced).

export interface ParsedRef {
  domain: string;
  path: string; // e.g. library/busybox
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export class ReferenceError extends Error {}

export function parseReference(ref: string): ParsedRef {
  if (!ref) throw new ReferenceError('invalid reference format');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new ReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new ReferenceError('invalid reference format');
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = 'library/' + path;
  if (path !== path.toLowerCase()) throw new ReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  for (const c of path.split('/')) if (!COMPONENT.test(c)) throw new ReferenceError('invalid reference format');
  return { domain, path, tag, digest };
}

/** Fully qualified repository name: docker.io/library/busybox. */
export function fullName(r: ParsedRef): string {
  return `${r.domain}/${r.path}`;
}

/** Familiar repository name: busybox, user/app, 127.0.0.1:5050/x. */
export function familiarName(r: ParsedRef): string {
  if (r.domain === DEFAULT_DOMAIN) return r.path.startsWith('library/') ? r.path.slice('library/'.length) : r.path;
  return `${r.domain}/${r.path}`;
}

/** Familiar string with tag/digest (busybox:latest). */
export function familiarString(r: ParsedRef): string {
  return familiarName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** Try to make a reference familiar; returns the input unchanged when it does not parse. */
export function familiarize(ref: string): string {
  try {
    return familiarString(parseReference(ref));
  } catch {
    return ref;
  }
}
