// GET /distribution/{name}/json: what a reference names in its registry (the descriptor of the
// manifest or index) and the platforms it offers, read from the index or the image's config.
import { InvalidParameterError } from '../../lib/errors';
import { DEFAULT_TAG, parseNormalizedNamed } from '../../lib/reference';
import type { AuthConfig } from '../../distribution/auth';
import type { Distribution } from '../../distribution/Distribution';
import { indexPlatforms, manifestKind, parseImageManifest, schema1Refusal, type Platform } from '../../distribution/manifests';

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Platform[];
}

export async function distributionInspect(dist: Distribution, name: string, creds?: AuthConfig): Promise<DistributionInspect> {
  const ref = parseNormalizedNamed(name);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = DEFAULT_TAG;
  const { top, endpoint } = await dist.fetchTop(ref, creds);
  const kind = manifestKind(top);
  if (kind === 'schema1') throw schema1Refusal(ref);
  const mediaType = top.mediaType || (JSON.parse(top.body.toString()) as { mediaType?: string }).mediaType || '';
  const Descriptor = { mediaType, digest: top.digest, size: top.body.length };
  if (kind === 'index') return { Descriptor, Platforms: indexPlatforms(top) ?? [] };
  if (kind !== 'manifest') throw new InvalidParameterError(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
  const m = parseImageManifest(top.body);
  // the config is small: read it from the registry, not into the store
  const res = await dist.client.request(endpoint.host, 'GET', `/v2/${ref.path}/blobs/${m.config.digest}`, {
    scopes: [`repository:${ref.path}:pull`], creds: dist.credsFor(endpoint, creds),
  });
  if (res.status !== 200) {
    await res.text().catch(() => '');
    return { Descriptor, Platforms: [] };
  }
  const c = JSON.parse((await res.buffer(8 << 20)).toString()) as { os?: string; architecture?: string; variant?: string; 'os.version'?: string };
  const p: Platform = { architecture: c.architecture ?? '', os: c.os ?? '' };
  if (c.variant) p.variant = c.variant;
  if (c['os.version']) p['os.version'] = c['os.version'];
  return { Descriptor, Platforms: [p] };
}
