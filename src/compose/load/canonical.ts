// One file's short syntaxes rewritten to their long forms, with relative paths resolved against
// the directory they are relative to. Done per file before the merge, so that the merge compares
// like with like (ports and volumes by their unique keys) and paths keep their own base.
import * as path from 'node:path';
import { ComposeFileError } from '../model';
import { str, toBool, toInt, toList, toMap, toMode } from './cast';
import { fileError, joinPath } from './errors';
import { canonicalMounts, resolveHostPath } from './mounts';
import { canonicalPorts } from './ports';
import { splitShellWords } from './shellwords';
import { isMapping, Override, Raw, Reset } from './yaml';

type Canon = (v: unknown, baseDir: string) => unknown;

export function isRemoteContext(ctx: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ctx) || ctx.startsWith('git@') || ctx.startsWith('github.com/');
}

function command(v: unknown): unknown {
  if (v === null) return null;
  return typeof v === 'string' ? splitShellWords(v) : toList(v);
}

function dependsOn(v: unknown): unknown {
  const out: Raw = {};
  if (Array.isArray(v)) {
    for (const s of v) out[str(s)] = { condition: 'service_started', required: true };
    return out;
  }
  for (const [k, d] of Object.entries((v ?? {}) as Raw)) {
    const x = (d ?? {}) as Raw;
    out[k] = {
      ...x,
      condition: x.condition ?? 'service_started',
      ...(x.restart !== undefined ? { restart: toBool(x.restart, 'restart') } : {}),
      required: x.required === undefined ? true : toBool(x.required, 'required'),
    };
  }
  return out;
}

function networks(v: unknown): unknown {
  if (Array.isArray(v)) return Object.fromEntries(v.map((n) => [str(n), null]));
  const out: Raw = {};
  for (const [k, n] of Object.entries((v ?? {}) as Raw)) {
    if (!isMapping(n)) { out[k] = null; continue; }
    const x: Raw = { ...n };
    if (x.aliases !== undefined) x.aliases = toList(x.aliases);
    if (x.priority !== undefined) x.priority = toInt(x.priority, 'priority');
    out[k] = x;
  }
  return out;
}

function extraHosts(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((h) => str(h).replace(/^([^:=]+)=/, '$1:'));
  const out: string[] = [];
  for (const [host, ips] of Object.entries((v ?? {}) as Raw)) for (const ip of toList(ips)) out.push(`${host}:${ip}`);
  return out;
}

function ulimits(v: unknown): unknown {
  const out: Raw = {};
  for (const [k, u] of Object.entries((v ?? {}) as Raw)) {
    if (isMapping(u)) out[k] = { soft: toInt(u.soft, `${k}.soft`), hard: toInt(u.hard, `${k}.hard`) };
    else { const n = toInt(u, k); out[k] = { soft: n, hard: n }; }
  }
  return out;
}

function devices(v: unknown): unknown {
  return (Array.isArray(v) ? v : []).map((d) => {
    if (isMapping(d)) return { source: str(d.source), target: str(d.target ?? d.source), permissions: str(d.permissions ?? 'rwm') };
    const [source, target, permissions] = str(d).split(':');
    return { source, target: target || source, permissions: permissions || 'rwm' };
  });
}

function fileRefs(v: unknown): unknown {
  return (Array.isArray(v) ? v : []).map((r) => {
    if (!isMapping(r)) return { source: str(r) };
    const x: Raw = { ...r, source: str(r.source) };
    if (x.target !== undefined) x.target = str(x.target);
    if (x.uid !== undefined) x.uid = str(x.uid);
    if (x.gid !== undefined) x.gid = str(x.gid);
    if (x.mode !== undefined) x.mode = toMode(x.mode, 'mode');
    return x;
  });
}

function envFiles(v: unknown, baseDir: string): unknown {
  return (Array.isArray(v) ? v : [v]).map((e) => {
    if (isMapping(e)) return { ...e, path: path.resolve(baseDir, str(e.path)), required: e.required === undefined ? true : toBool(e.required, 'required') };
    return { path: path.resolve(baseDir, str(e)), required: true };
  });
}

function build(v: unknown, baseDir: string): unknown {
  const b: Raw = typeof v === 'string' ? { context: v } : { ...(v as Raw) };
  const ctx = b.context === undefined ? '.' : str(b.context);
  b.context = isRemoteContext(ctx) ? ctx : resolveHostPath(ctx, baseDir);
  if (b.args !== undefined) b.args = toMap(b.args, null);
  if (b.labels !== undefined) b.labels = toMap(b.labels, '');
  if (b.extra_hosts !== undefined) b.extra_hosts = extraHosts(b.extra_hosts);
  for (const k of ['no_cache', 'pull', 'privileged']) if (b[k] !== undefined) b[k] = toBool(b[k], k);
  for (const k of ['cache_from', 'cache_to', 'tags', 'platforms']) if (b[k] !== undefined) b[k] = toList(b[k]);
  return b;
}

function healthcheck(v: unknown): unknown {
  const h: Raw = { ...(v as Raw) };
  if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
  else if (h.test !== undefined && !(h.test instanceof Reset) && !(h.test instanceof Override)) h.test = toList(h.test);
  if (h.retries !== undefined) h.retries = toInt(h.retries, 'retries');
  if (h.disable !== undefined) h.disable = toBool(h.disable, 'disable');
  return h;
}

const SERVICE_KEYS: Record<string, Canon> = {
  build,
  command,
  entrypoint: command,
  environment: (v) => toMap(v, null),
  labels: (v) => toMap(v, ''),
  annotations: (v) => toMap(v, ''),
  sysctls: (v) => toMap(v, ''),
  env_file: envFiles,
  ports: canonicalPorts,
  expose: (v) => toList(v),
  volumes: canonicalMounts,
  tmpfs: (v) => toList(v),
  dns: (v) => toList(v),
  dns_search: (v) => toList(v),
  depends_on: dependsOn,
  networks,
  extra_hosts: extraHosts,
  ulimits,
  devices,
  secrets: fileRefs,
  configs: fileRefs,
  healthcheck,
  logging: (v) => { const l = { ...(v as Raw) }; if (l.options) l.options = toMap(l.options, ''); return l; },
};

/** The value of one key in its long form; merge markers are kept, `!override`'s value converted. */
function canonicalValue(fn: Canon, v: unknown, baseDir: string): unknown {
  if (v instanceof Reset) return v;
  if (v instanceof Override) return new Override(canonicalValue(fn, v.value, baseDir));
  return fn(v, baseDir);
}

export function canonicalService(raw: Raw, name: string, baseDir: string, file: string): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    const fn = SERVICE_KEYS[k];
    if (!fn || v === null && k !== 'command' && k !== 'entrypoint') { out[k] = v; continue; }
    try {
      out[k] = canonicalValue(fn, v, baseDir);
    } catch (e) {
      if (e instanceof ComposeFileError && !e.file) throw fileError(file, joinPath(joinPath('services', name), k), e.message);
      throw e;
    }
  }
  if (isMapping(out.extends)) out.extends = { ...out.extends, ...(out.extends.file ? { file: path.resolve(baseDir, str(out.extends.file)) } : {}) };
  return out;
}

/** Top-level secrets and configs: `file` resolved against the base directory. */
function canonicalFileObjects(v: unknown, baseDir: string): unknown {
  if (!isMapping(v)) return v;
  const out: Raw = {};
  for (const [k, o] of Object.entries(v)) out[k] = isMapping(o) && typeof o.file === 'string' ? { ...o, file: resolveHostPath(o.file, baseDir) } : o;
  return out;
}

/** Top-level networks and volumes: `null` is an empty definition, the legacy `external: {name}` is `name` + `external: true`. */
function canonicalResources(v: unknown): unknown {
  if (!isMapping(v)) return v;
  const out: Raw = {};
  for (const [k, o] of Object.entries(v)) {
    if (o === null || o === undefined) { out[k] = {}; continue; }
    if (isMapping(o) && isMapping(o.external)) {
      const { external, ...rest } = o as Raw & { external: Raw };
      out[k] = { ...rest, external: true, ...(external.name ? { name: external.name } : {}) };
      continue;
    }
    out[k] = o;
  }
  return out;
}

/** A whole file's document in canonical form; relative paths resolved against `baseDir`. */
export function canonicalDocument(doc: Raw, baseDir: string, file: string): Raw {
  const out: Raw = { ...doc };
  if (isMapping(doc.services)) {
    const services: Raw = {};
    for (const [name, s] of Object.entries(doc.services)) services[name] = isMapping(s) ? canonicalService(s, name, baseDir, file) : s ?? {};
    out.services = services;
  }
  if (doc.networks !== undefined) out.networks = canonicalResources(doc.networks);
  if (doc.volumes !== undefined) out.volumes = canonicalResources(doc.volumes);
  if (doc.secrets !== undefined) out.secrets = canonicalFileObjects(doc.secrets, baseDir);
  if (doc.configs !== undefined) out.configs = canonicalFileObjects(doc.configs, baseDir);
  return out;
}
