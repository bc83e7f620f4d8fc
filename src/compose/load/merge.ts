// Merging compose documents (13-merge.md), on their canonical forms: mappings merged key by key,
// sequences appended, except the shell commands (replaced), the unique resources (ports, volumes,
// secrets, configs: entries with the same key merged), `!reset` and `!override`.
import { isMapping, Override, Raw, Reset } from './yaml';

type KeyFn = (entry: unknown) => string;

const j = (...parts: unknown[]) => JSON.stringify(parts);
const target: KeyFn = (e) => (isMapping(e) ? String(e.target) : String(e));
const secretTarget = (dir: string): KeyFn => (e) => (isMapping(e) ? String(e.target ?? `${dir}${e.source}`) : String(e));
const UNIQUE: Record<string, KeyFn> = {
  ports: (e) => (isMapping(e) ? j(e.host_ip, e.target, e.published, e.protocol) : String(e)),
  volumes: target,
  secrets: secretTarget('/run/secrets/'),
  configs: secretTarget('/'),
  devices: target,
  env_file: (e) => (isMapping(e) ? String(e.path) : String(e)),
};

/** Service keys (by their path below the service) whose value the later file replaces. */
const REPLACED = new Set(['command', 'entrypoint', 'healthcheck.test']);

function mergeSequence(base: unknown[], over: unknown[], key: KeyFn | undefined, p: string): unknown[] {
  const keyOf = key ?? ((e: unknown) => (isMapping(e) || Array.isArray(e) ? JSON.stringify(e) : String(e)));
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(keyOf(e), i));
  for (const e of over) {
    if (e instanceof Reset) continue;
    const k = keyOf(e);
    const at = index.get(k);
    if (at === undefined) { index.set(k, out.length); out.push(e); }
    else out[at] = key && isMapping(out[at]) && isMapping(e) ? mergeValue(out[at], e, p) : e;
  }
  return out;
}

/** `p` is the path below a service ("ports", "healthcheck.test"), or below the top for other sections. */
function mergeValue(base: unknown, over: unknown, p: string): unknown {
  if (over instanceof Override) return stripMarkers(over.value);
  if (REPLACED.has(p)) return stripMarkers(over);
  if (isMapping(base) && isMapping(over)) {
    const out: Raw = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (v instanceof Reset) { delete out[k]; continue; }
      out[k] = k in base ? mergeValue(base[k], v, p ? `${p}.${k}` : k) : stripMarkers(v);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) return mergeSequence(base, over, UNIQUE[p], p);
  return stripMarkers(over);
}

/** Markers in a value with nothing below it to reset or override: the value as a single file means it. */
export function stripMarkers(v: unknown): unknown {
  if (v instanceof Override) return stripMarkers(v.value);
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Reset)).map(stripMarkers);
  if (isMapping(v)) {
    const out: Raw = {};
    for (const [k, x] of Object.entries(v)) if (!(x instanceof Reset)) out[k] = stripMarkers(x);
    return out;
  }
  return v;
}

/** One service merged over another (also what `extends` does). */
export function mergeService(base: Raw, over: Raw): Raw {
  return mergeValue(base, over, '') as Raw;
}

/** A later document merged over an earlier one. */
export function mergeDocuments(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v instanceof Reset) { delete out[k]; continue; }
    if (k === 'services' && isMapping(base.services) && isMapping(v)) {
      const services: Raw = { ...base.services };
      for (const [name, s] of Object.entries(v)) {
        if (s instanceof Reset) { delete services[name]; continue; }
        services[name] = isMapping(services[name]) && isMapping(s) ? mergeService(services[name] as Raw, s) : stripMarkers(s);
      }
      out.services = services;
      continue;
    }
    // top-level resources: merged per entry as mappings; other top-level keys replaced
    out[k] = k in base ? mergeValue(base[k], v, `@${k}`) : stripMarkers(v);
  }
  return out;
}
