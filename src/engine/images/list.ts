// GET /images/json
import { Filters, checkFilterKeys, matchLabels } from '../../lib/filters';
import { InvalidParameterError } from '../../lib/errors';
import type { ImageRecord } from '../../store/images/ImageStore';
import { familiarMatch, parseNormalizedNamed } from '../../lib/reference';
import { ImageDeps, unixSeconds } from './types';

export interface ListOptions {
  all?: boolean;
  filters?: Filters;
  sharedSize?: boolean;
  /** Count the containers that use each image (system df); -1 otherwise, as Docker. */
  containerCount?: boolean;
}

export function parseDangling(filters: Filters): boolean | undefined {
  const vals = filters.get('dangling');
  if (!vals || vals.length === 0) return undefined;
  let out: boolean | undefined;
  for (const v of vals) {
    const l = v.toLowerCase();
    if (l === 'true' || l === '1') out = out === false ? undefined : true;
    else if (l === 'false' || l === '0') out = out === true ? undefined : false;
    else throw new InvalidParameterError(`Invalid filter 'dangling=${v}'`);
  }
  return out;
}

/** `until`/timestamps: Unix seconds (fractional), RFC 3339, or a Go duration ago (`10m`). */
export function parseTimestamp(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return parseFloat(v);
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (d) {
    const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    return now / 1000 - parseFloat(d[1]) * unit[d[2]];
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value ${v} as a timestamp`);
  return t / 1000;
}

export function imageCreated(img: ImageRecord): number {
  return unixSeconds(img.config.created);
}

/** The current API's shape of one image (api/ adapts it for older versions). */
export function summary(deps: ImageDeps, img: ImageRecord, opts: ListOptions): Record<string, unknown> {
  return {
    Containers: opts.containerCount ? deps.containersUsing(img.id).length : -1,
    Created: imageCreated(img),
    Id: img.id,
    Labels: img.config.config?.Labels ?? null,
    ParentId: img.parent || '',
    RepoDigests: img.repoDigests.length ? img.repoDigests : null,
    RepoTags: img.repoTags,
    SharedSize: opts.sharedSize ? sharedSizeOf(deps, img) : -1,
    Size: img.size,
  };
}

/** Bytes of the image's layers that at least one other image uses too (Docker's SharedSize). */
export function sharedSizeOf(deps: ImageDeps, img: ImageRecord): number {
  const others = new Set<string>();
  for (const o of deps.store.list()) if (o.id !== img.id) for (const c of o.chainIds) others.add(c);
  let shared = 0;
  for (const c of img.chainIds) if (others.has(c)) shared += deps.layers.get(c)?.size ?? 0;
  return shared;
}

export function listImages(deps: ImageDeps, opts: ListOptions = {}): Record<string, unknown>[] {
  const filters: Filters = opts.filters ?? new Map();
  checkFilterKeys(filters, ['before', 'dangling', 'label', 'reference', 'since', 'until']);
  const dangling = parseDangling(filters);
  let before: number | undefined;
  let since: number | undefined;
  let until: number | undefined;
  for (const v of filters.get('before') ?? []) before = imageCreated(deps.store.resolve(v));
  for (const v of filters.get('since') ?? []) since = imageCreated(deps.store.resolve(v));
  for (const v of filters.get('until') ?? []) until = parseTimestamp(v);
  const refPatterns: string[] = filters.get('reference') ?? [];
  const labels = filters.get('label');

  const all = deps.store.list();
  const out: Record<string, unknown>[] = [];
  for (const img of all) {
    const created = imageCreated(img);
    if (before !== undefined && created >= before) continue;
    if (since !== undefined && created <= since) continue;
    if (until !== undefined && created > until) continue;
    const untagged = img.repoTags.length === 0 && img.repoDigests.length === 0;
    if (dangling === true && !untagged) continue;
    if (dangling === false && untagged) continue;
    if (!matchLabels(img.config.config?.Labels ?? null, labels)) continue;
    // Without `all`, untagged images that are parents of others (intermediate build images) are hidden.
    if (!opts.all && untagged && deps.store.children(img.id).length > 0) continue;
    let shown = img;
    if (refPatterns.length) {
      const tags = img.repoTags.filter((t) => refPatterns.some((p) => familiarMatch(p, parseNormalizedNamed(t))));
      const digests = img.repoDigests.filter((t) => refPatterns.some((p) => familiarMatch(p, parseNormalizedNamed(t))));
      if (tags.length === 0 && digests.length === 0) continue;
      shown = { ...img, repoTags: tags, repoDigests: digests.length ? digests : img.repoDigests };
    }
    out.push(summary(deps, shown, opts));
  }
  out.sort((a, b) => (b.Created as number) - (a.Created as number));
  return out;
}
