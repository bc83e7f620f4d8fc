// Image shapes per API version: the engine answers in the current shape, these adapt it
// for the version in the request's path (Docker's per-version differences).
import { versionBelow } from '../version';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Copies `obj` with `key: value` inserted right after `afterKey` (key order as Docker's). */
function insertAfter(obj: Record<string, unknown>, afterKey: string, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v;
    if (k === afterKey) out[key] = value;
  }
  if (!(key in out)) out[key] = value;
  return out;
}

/** One item of GET /images/json. */
export function imageSummaryFor(apiVersion: string, s: Record<string, unknown>): Record<string, unknown> {
  let out = s;
  if (versionBelow(apiVersion, '1.43')) {
    // Before 1.43 untagged images showed placeholders instead of empty lists.
    const tags = (s.RepoTags as string[] | null) ?? [];
    const digests = (s.RepoDigests as string[] | null) ?? [];
    out = { ...s, RepoTags: tags.length ? tags : ['<none>:<none>'] };
    if (tags.length === 0 && digests.length === 0) out.RepoDigests = ['<none>@<none>'];
  }
  if (versionBelow(apiVersion, '1.44')) out = { ...out, VirtualSize: s.Size };
  return out;
}

/** GET /images/{name}/json. */
export function imageInspectFor(apiVersion: string, s: Record<string, unknown>): Record<string, unknown> {
  if (!versionBelow(apiVersion, '1.44')) return s;
  // Before 1.44: Created is always present (zero time when unknown) and VirtualSize follows Size.
  let out = s.Created === undefined ? insertAfter(s, 'Comment', 'Created', ZERO_TIME) : s;
  out = insertAfter(out, 'Size', 'VirtualSize', s.Size);
  return out;
}
