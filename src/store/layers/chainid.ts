// Chain IDs (OCI image spec, config.md): a layer's identity together with everything under it.
import { Digest, sha256 } from '../../lib/digest';

export function chainIdOf(parent: Digest | null, diffId: Digest): Digest {
  return parent ? sha256(`${parent} ${diffId}`) : diffId;
}

/** Chain IDs of a list of diff IDs, bottom first. */
export function chainIdsOf(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  let parent: Digest | null = null;
  for (const d of diffIds) {
    parent = chainIdOf(parent, d);
    out.push(parent);
  }
  return out;
}
