// GET /images/{name}/json
import * as path from 'node:path';
import { NotFoundError } from '../../lib/errors';
import { ImageDeps, toContainerConfig } from './types';

/** The current API's shape (api/ adapts it for older versions). */
export function inspectImage(deps: ImageDeps, name: string): Record<string, unknown> {
  let img;
  try {
    img = deps.store.resolve(name);
  } catch (e) {
    if (e instanceof NotFoundError) throw new NotFoundError(`no such image: ${name}: ${e.message}`);
    throw e;
  }
  const c = img.config;
  const out: Record<string, unknown> = {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent || '',
    Comment: c.comment ?? (c.history?.length ? c.history[c.history.length - 1].comment ?? '' : ''),
  };
  if (c.created) out.Created = c.created;
  out.Container = typeof c.container === 'string' ? c.container : '';
  out.ContainerConfig = toContainerConfig(c.container_config);
  Object.assign(out, {
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: toContainerConfig(c.config),
    Architecture: c.architecture ?? '',
  });
  if (c.variant) out.Variant = c.variant;
  out.Os = c.os ?? '';
  if (c['os.version']) out.OsVersion = c['os.version'];
  out.Size = img.size;
  const chain = img.chainIds.map((id) => deps.layers.get(id)).filter((l) => !!l);
  if (chain.length) {
    const top = chain[chain.length - 1]!;
    const data: Record<string, string> = {};
    const lowers = chain.slice(0, -1).reverse().map((l) => deps.layers.diffDir(l!.chainId));
    if (lowers.length) data.LowerDir = lowers.join(':');
    const dir = deps.layers.layerDir(top.chainId);
    data.MergedDir = path.join(dir, 'merged');
    data.UpperDir = path.join(dir, 'diff');
    data.WorkDir = path.join(dir, 'work');
    out.GraphDriver = { Data: data, Name: 'overlay2' };
  } else {
    out.GraphDriver = { Data: null, Name: 'overlay2' };
  }
  out.RootFS = { Type: 'layers', ...(c.rootfs.diff_ids.length ? { Layers: c.rootfs.diff_ids } : {}) };
  out.Metadata = { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' };
  return out;
}
