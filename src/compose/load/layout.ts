// The resolved model in compose v2's printed layout (`docker compose config`): top-level sections
// in compose's order, services sorted, service keys sorted, ports and volumes in compose's key
// order, empty collections left out.
import type { Project, Service } from '../model';

type Obj = Record<string, unknown>;

const PORT_ORDER = ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'];
const MOUNT_ORDER = ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs'];
const NAME_FIRST = ['name'];
const DEPENDS_ORDER = ['condition', 'restart', 'required'];
const LIMIT_ORDER = ['soft', 'hard'];
const HEALTH_ORDER = ['test', 'timeout', 'interval', 'retries', 'start_period', 'start_interval', 'disable'];

function ordered(o: Obj, order: string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (k in o) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out)) out[k] = o[k];
  return out;
}

function sortedKeys(o: Obj): Obj {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/** Undefined values and empty lists and mappings dropped, mapping keys sorted as Go prints maps, recursively (null is kept: it means something). */
function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compact);
  if (v && typeof v === 'object') {
    const out: Obj = {};
    for (const [k, x] of Object.entries(sortedKeys(v as Obj))) {
      if (x === undefined) continue;
      const c = compact(x);
      if (c && typeof c === 'object' && Object.keys(c).length === 0) continue;
      out[k] = c;
    }
    return out;
  }
  return v;
}

function serviceLayout(s: Service): Obj {
  const { name: _key, ...rest } = s;
  const o: Obj = { ...rest };
  const c = compact(o) as Obj;
  const each = (v: unknown, fn: (x: Obj) => Obj) => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fn(x as Obj)])) : v);
  if (c.ports) c.ports = (c.ports as Obj[]).map((p) => ordered(p, PORT_ORDER));
  if (c.volumes) c.volumes = (c.volumes as Obj[]).map((m) => ordered(m, MOUNT_ORDER));
  if (c.depends_on) c.depends_on = each(c.depends_on, (d) => ordered(d, DEPENDS_ORDER));
  if (c.ulimits) c.ulimits = each(c.ulimits, (u) => ordered(u, LIMIT_ORDER));
  if (c.healthcheck) c.healthcheck = ordered(c.healthcheck as Obj, HEALTH_ORDER);
  return c;
}

function sortedSection<T>(section: Record<string, T>, fn: (v: T) => Obj): Obj | undefined {
  const keys = Object.keys(section).sort();
  if (!keys.length) return undefined;
  return Object.fromEntries(keys.map((k) => [k, fn(section[k])]));
}

export function projectLayout(p: Project): Obj {
  const resource = (r: object) => ordered(compact(r) as Obj, NAME_FIRST);
  const out: Obj = { name: p.name, services: sortedSection(p.services, serviceLayout) ?? {} };
  const sections = { networks: p.networks, volumes: p.volumes, secrets: p.secrets, configs: p.configs } as Record<string, Record<string, object>>;
  for (const [k, section] of Object.entries(sections)) {
    const s = sortedSection(section, resource);
    if (s) out[k] = s;
  }
  return out;
}
