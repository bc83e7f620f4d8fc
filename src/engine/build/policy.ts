// What the builder may not decide for itself yet, each in one place so that the lead can switch
// it when the issue that provides it lands:
// - the network RUN steps use (the default bridge, as Docker's classic builder);
// - where a FROM image comes from (local images only until registry pull lands).
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { familiarRepo, parseNormalizedNamed } from '../../lib/reference';
import type { ImageService } from '../images/ImageService';
import type { ImageRecord } from '../../store/images/types';

/** The network of RUN containers when the build names none (`networkmode` absent or `default`). */
export const DEFAULT_BUILD_NETWORK = 'bridge';

/** `networkmode` of POST /build to the NetworkMode of RUN containers. */
export function buildNetworkMode(requested: string | undefined): string {
  if (!requested || requested === 'default') return DEFAULT_BUILD_NETWORK;
  if (requested === 'host' || requested === 'none' || requested === 'bridge') return requested;
  throw new InvalidParameterError(`berth builds support networkmode default, bridge, host and none (got ${JSON.stringify(requested)})`);
}

/**
 * The image a FROM line names. Local images only: with `pull` (docker build --pull) a local
 * image is used as it is and a missing one is refused naming the flag.
 */
export async function resolveBaseImage(images: ImageService, ref: string, opts: { pull: boolean }): Promise<ImageRecord> {
  try {
    return await images.resolve(ref);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    if (opts.pull) throw new InvalidParameterError(`berth does not pull images for builds yet (pull=1): ${ref} is not a local image`);
    let repo = ref;
    try { repo = familiarRepo(parseNormalizedNamed(ref)); } catch { /* as written */ }
    throw new NotFoundError(`pull access denied for ${repo}, repository does not exist or may require 'docker login': berth builds from local images only until registry pulls land`);
  }
}
