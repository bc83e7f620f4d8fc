// docker tag: point a reference at an image. The repo arrives fully qualified from the CLI
// (`docker.io/library/x`); it is stored normalised and shown familiar.
import type { Digest } from '../../lib/digest';
import { InvalidParameterError } from '../../lib/errors';
import { familiarString, parseNormalizedNamed, Reference, validateTag } from '../../lib/reference';
import { ImageDeps, publishImageEvent } from './types';

/** Parses `repo` + optional `tag` as the tag endpoint receives them. */
export function parseTagTarget(repo: string, tag?: string): Reference {
  const r = parseNormalizedNamed(repo);
  if (r.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
  if (tag) {
    validateTag(tag);
    r.tag = tag;
  }
  if (r.tag === undefined) r.tag = 'latest';
  return r;
}

export async function tagImage(deps: ImageDeps, id: Digest, ref: Reference): Promise<void> {
  await deps.store.setRef(ref, id);
  publishImageEvent(deps, 'tag', id, familiarString(ref), deps.store.get(id));
}

/** POST /images/{name}/tag */
export async function tag(deps: ImageDeps, source: string, repo: string, tagName?: string): Promise<void> {
  const img = deps.store.resolve(source);
  const ref = parseTagTarget(repo, tagName);
  await tagImage(deps, img.id, ref);
}
