import { createHash } from 'node:crypto';
import { InvalidParameterError } from './errors';

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw new InvalidParameterError(`invalid digest: ${s}`);
  return s;
}

/** The 64 hex characters of a digest. */
export function digestHex(d: Digest): string {
  return d.slice(7);
}
