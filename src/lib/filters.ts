// Docker's list filters: `filters={"label":{"a=b":true},"status":{"exited":true}}`.
// Older clients send `{"label":["a=b"]}`; both decode to a map of key -> values.
import { InvalidParameterError } from './errors';

export type Filters = Map<string, string[]>;

export function parseFilters(raw: string | null | undefined): Filters {
  const out: Filters = new Map();
  if (!raw) return out;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw new InvalidParameterError(`invalid filter: ${raw}`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new InvalidParameterError(`invalid filter: ${raw}`);
  }
  for (const [key, val] of Object.entries(obj as Record<string, unknown>)) {
    if (Array.isArray(val)) out.set(key, val.map(String));
    else if (val && typeof val === 'object') {
      out.set(key, Object.entries(val as Record<string, unknown>).filter(([, on]) => on === true).map(([v]) => v));
    } else throw new InvalidParameterError(`invalid filter '${key}'`);
  }
  return out;
}

/** Rejects filter keys that the endpoint does not know, as Docker does: `Invalid filter 'x'`. */
export function checkFilterKeys(filters: Filters, allowed: readonly string[]): void {
  for (const key of filters.keys()) {
    if (!allowed.includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
}

/** `label=key` matches when the key exists; `label=key=value` when it has that value. */
export function matchLabels(labels: Record<string, string> | null | undefined, wanted: string[] | undefined): boolean {
  if (!wanted || wanted.length === 0) return true;
  const have = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.prototype.hasOwnProperty.call(have, w);
    return have[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** `label!=key=value` style negative filters (Docker's `label!`). */
export function matchNotLabels(labels: Record<string, string> | null | undefined, unwanted: string[] | undefined): boolean {
  if (!unwanted || unwanted.length === 0) return true;
  return !unwanted.some((w) => matchLabels(labels, [w]));
}
