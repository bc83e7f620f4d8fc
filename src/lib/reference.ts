// Docker image references: parsing, normalisation and the familiar (short) form.
// Follows github.com/distribution/reference (grammar, ParseNormalizedNamed, FamiliarString)
// including its error texts, which users and the CLI see. In lib/ because both sides use it:
// the daemon (engine, distribution) and the CLI, which may import nothing of the daemon's.
import { InvalidParameterError } from './errors';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

// ---- grammar (distribution/reference regexp.go)
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const optionalPort = '(?::[0-9]+)?';
const domainAndPort = `${host}${optionalPort}`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;
const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_TAG_RE = new RegExp(`^${tagPat}$`);
const ANCHORED_DIGEST_RE = new RegExp(`^${digestPat}$`);
const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;

export interface Reference {
  /** Registry host (with port), e.g. `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

/** `docker.io/library/busybox` */
export function repoName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The fully qualified string: `docker.io/library/busybox:latest`, `host/a/b@sha256:…`. */
export function normalizedString(r: Reference): string {
  let s = repoName(r);
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

/** The repository in familiar form: `busybox`, `user/app`, `127.0.0.1:5000/a/b`. */
export function familiarRepo(r: Reference): string {
  if (r.domain === DEFAULT_DOMAIN) {
    if (r.path.startsWith(OFFICIAL_REPO_PREFIX) && !r.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
      return r.path.slice(OFFICIAL_REPO_PREFIX.length);
    }
    return r.path;
  }
  return repoName(r);
}

/** The familiar string: `busybox:latest`, `127.0.0.1:5000/a/b@sha256:…`. */
export function familiarString(r: Reference): string {
  let s = familiarRepo(r);
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

/** Familiar form of a normalised or familiar reference string; returns the input if it does not parse. */
export function familiarName(ref: string): string {
  try {
    return familiarString(parseNormalizedNamed(ref));
  } catch {
    return ref;
  }
}

/** A reference that does not parse: an InvalidParameter (400) in the daemon, exit 1 or 125 in the CLI. */
export class ReferenceError extends InvalidParameterError {}

function invalid(msg: string): ReferenceError {
  return new ReferenceError(msg);
}

/** Parses a reference that is already fully qualified (no defaults applied). */
export function parseReference(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw invalid('invalid reference format: repository name must have at least one component');
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid('invalid reference format: repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const name = m[1];
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const nm = ANCHORED_NAME_RE.exec(name);
  if (!nm) throw invalid('invalid reference format');
  const r: Reference = { domain: nm[1] ?? '', path: nm[2] };
  if (m[2] !== undefined) r.tag = m[2];
  if (m[3] !== undefined) {
    if (!ANCHORED_DIGEST_RE.test(m[3])) throw invalid('invalid digest format');
    r.digest = m[3];
  }
  return r;
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parses what a user types (`busybox`, `busybox:1`, `127.0.0.1:5000/a/b:tag`, `name@sha256:…`)
 * into a fully qualified reference (docker.io / library/ defaults). No default tag is added.
 */
export function parseNormalizedNamed(s: string): Reference {
  if (ANCHORED_IDENTIFIER_RE.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const nameEnd = remainder.search(/[:@]/);
  const remoteNamePart = nameEnd >= 0 ? remainder.slice(0, nameEnd) : remainder;
  if (remoteNamePart.toLowerCase() !== remoteNamePart) {
    throw invalid(`invalid reference format: repository name (${remoteNamePart}) must be lowercase`);
  }
  const r = parseReference(`${domain}/${remainder}`);
  if (r.domain === '') throw invalid('invalid reference format');
  return r;
}

/** As parseNormalizedNamed, then adds `:latest` when neither tag nor digest was given. */
export function parseNormalizedTagged(s: string): Reference {
  const r = parseNormalizedNamed(s);
  if (r.tag === undefined && r.digest === undefined) r.tag = DEFAULT_TAG;
  return r;
}

/** Validates a tag on its own (`docker tag x repo:TAG`). */
export function validateTag(tag: string): void {
  if (!ANCHORED_TAG_RE.test(tag)) throw invalid(`invalid tag format`);
}

/** True when `s` looks like a (possibly shortened) image ID: 1..64 lowercase hex chars, optional `sha256:`. */
export function isIdPrefix(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{1,64}$/.test(s);
}

/**
 * Docker's reference filter matching (FamiliarMatch): the pattern is a path.Match glob matched against
 * the familiar string, and also against the familiar repository name alone.
 */
export function familiarMatch(pattern: string, r: Reference): boolean {
  const re = globToRegExp(pattern);
  if (re.test(familiarString(r))) return true;
  return re.test(familiarRepo(r));
}

function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replace(/\\/g, '\\\\') + ']';
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += '\\' + pattern[++i];
    } else re += c.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$');
}
