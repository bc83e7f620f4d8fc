// The config hash compose v2 stores in com.docker.compose.config-hash: a digest of the service's
// resolved config as JSON, leaving out what does not change a container (how the image is made
// or fetched, how many there are). An unchanged service hashes the same across runs, so `up`
// keeps its containers.
import { createHash } from 'node:crypto';
import type { Service } from '../model';

/** Keys that never change one container's config (compose v2 drops the same ones). */
const NOT_HASHED = new Set(['name', 'build', 'pull_policy', 'scale', 'profiles']);

/** JSON with keys sorted at every level and undefined left out: the same value, the same text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function serviceConfigHash(service: Service): string {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(service)) if (!NOT_HASHED.has(k)) kept[k] = v;
  if (service.deploy) {
    const { replicas: _replicas, ...deploy } = service.deploy;
    kept.deploy = deploy;
  }
  return createHash('sha256').update(canonicalJson(kept)).digest('hex');
}
