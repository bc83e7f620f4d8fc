// The spec's grammar for repository names, tags and digests. Everything from a request path
// is checked here before it names a file, so no request path reaches outside the root.
import { RegistryError } from './errors';

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
/** Clients limit host + '/' + name to 255 characters. */
const MAX_NAME = 255;

export function isRepoName(s: string): boolean {
  return s.length <= MAX_NAME && NAME_RE.test(s);
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}

export function checkName(name: string): string {
  if (!isRepoName(name)) throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name', { name });
  return name;
}

export function checkTag(tag: string): string {
  if (!isTag(tag)) throw new RegistryError(400, 'MANIFEST_INVALID', 'invalid tag', { tag });
  return tag;
}

/** A digest of the spec's grammar that this registry can verify (sha256 only). */
export function checkDigest(d: string): `sha256:${string}` {
  if (SHA256_RE.test(d)) return d as `sha256:${string}`;
  if (DIGEST_RE.test(d) && !d.startsWith('sha256:')) {
    throw new RegistryError(400, 'UNSUPPORTED', `unsupported digest algorithm: ${d.split(':')[0]}`, { digest: d });
  }
  throw new RegistryError(400, 'DIGEST_INVALID', 'invalid digest', { digest: d });
}

export function isDigestRef(ref: string): boolean {
  return ref.includes(':');
}

/** Repository names hold '/', never '+': one flat directory per repository. */
export function repoDirName(name: string): string {
  return name.replace(/\//g, '+');
}

export function repoFromDirName(dir: string): string {
  return dir.replace(/\+/g, '/');
}
