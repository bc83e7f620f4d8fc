// What the builder may not decide for itself yet, each in one place so that the lead can switch
// it when the issue that provides it lands:
// - the network RUN steps use (the default bridge, as Docker's classic builder);
// - where a FROM image comes from (local, else pulled; `--pull` pulls first, as Docker).
import { authForHost, type AuthConfig } from '../../lib/authConfig';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { pullReference } from '../images/pull';
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
 * The image a FROM line names: the local one, else pulled from its registry with the
 * credentials the build carries for that registry (X-Registry-Config, as dockerd picks them);
 * with `pull` (docker build --pull) pulled first, the local one kept when the registry cannot
 * be reached. Pull progress lines go to `say`.
 */
export async function resolveBaseImage(images: ImageService, ref: string,
  opts: { pull: boolean; auths?: Record<string, AuthConfig>; say?: (s: string) => void }): Promise<ImageRecord> {
  if (!opts.pull) {
    try {
      return await images.resolve(ref);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  try {
    const named = pullReference(ref);
    const creds = opts.auths ? authForHost(opts.auths, named.domain) : undefined;
    const prepared = await images.preparePull(named, creds ? { creds } : {});
    await prepared.run((m) => {
      // The classic builder shows a pull's statuses as lines; byte progress is left out.
      const detail = m.progressDetail as { total?: number } | undefined;
      if (typeof m.status === 'string' && !detail?.total) opts.say?.(`${typeof m.id === 'string' ? `${m.id}: ` : ''}${m.status}\n`);
    });
  } catch (e) {
    if (opts.pull) {
      try { return await images.resolve(ref); } catch { /* neither: the pull's error */ }
    }
    throw e;
  }
  return images.resolve(ref);
}
