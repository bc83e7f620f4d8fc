// The merged, canonical document to the resolved model: types cast, defaults filled, env_file
// folded into environment, the default network added, engine names of networks and volumes,
// references between services and resources checked. `x-` keys are left out of the model.
import type { Deploy, FileObject, Healthcheck, Network, Project, Service, Volume } from '../model';
import { ComposeFileError } from '../model';
import { str, toBool, toInt, toList, toMap } from './cast';
import { readDotEnv } from './dotenv';
import { formatGoDuration, parseGoDuration } from '../../lib/duration';
import { isMapping, Raw } from './yaml';

export interface NormalizeContext {
  projectName: string;
  environment: Record<string, string>;
}

/** A duration from the file, as compose prints it. */
function normalizeDuration(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return formatGoDuration(parseGoDuration(v as string | number));
}

const withoutExtensions = (o: Raw): Raw => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('x-')));

/** Rethrow an error of one key with the path of the key in front of it. */
function at<T>(docPath: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ComposeFileError && !e.docPath) throw new ComposeFileError(`${docPath}: ${e.message}`, e.file, docPath);
    if (e instanceof Error && !(e instanceof ComposeFileError)) throw new ComposeFileError(`${docPath}: ${e.message}`, undefined, docPath);
    throw e;
  }
}

function environment(raw: Raw, ctx: NormalizeContext): Record<string, string | null> {
  const lookup = (n: string) => ctx.environment[n];
  const env: Record<string, string | null> = {};
  for (const f of (raw.env_file ?? []) as Array<{ path: string; required: boolean }>) {
    const vars = readDotEnv(f.path, lookup);
    if (vars === undefined) {
      if (f.required) throw new ComposeFileError(`env file ${f.path} not found: stat ${f.path}: no such file or directory`);
      continue;
    }
    Object.assign(env, vars);
  }
  for (const [k, v] of Object.entries((raw.environment ?? {}) as Record<string, string | null>)) {
    // `FOO` without a value takes FOO from the environment compose runs in, or stays unset
    env[k] = v === null ? (lookup(k) ?? null) : v;
  }
  return env;
}

function healthcheck(h: Raw): Healthcheck {
  const out: Raw = { ...h };
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval']) if (h[k] !== undefined) out[k] = normalizeDuration(h[k]);
  return out as Healthcheck;
}

function deploy(d: Raw): Deploy {
  const out: Raw = { ...d };
  if (d.replicas !== undefined && d.replicas !== null) out.replicas = toInt(d.replicas, 'replicas');
  if (isMapping(d.restart_policy)) {
    const r: Raw = { ...d.restart_policy };
    for (const k of ['delay', 'window']) if (r[k] !== undefined) r[k] = normalizeDuration(r[k]);
    if (r.max_attempts !== undefined) r.max_attempts = toInt(r.max_attempts, 'max_attempts');
    out.restart_policy = r;
  }
  if (isMapping(d.resources)) {
    const res: Raw = { ...d.resources };
    for (const part of ['limits', 'reservations']) {
      if (!isMapping(res[part])) continue;
      const x: Raw = { ...(res[part] as Raw) };
      if (x.cpus !== undefined) x.cpus = str(x.cpus);
      if (x.memory !== undefined) x.memory = str(x.memory);
      if (x.pids !== undefined) x.pids = toInt(x.pids, 'pids');
      res[part] = x;
    }
    out.resources = res;
  }
  if (d.labels !== undefined) out.labels = toMap(d.labels, '');
  return out as Deploy;
}

const BOOLEANS = ['tty', 'stdin_open', 'init', 'privileged', 'read_only', 'oom_kill_disable'];
const INTEGERS = ['scale', 'cpu_shares', 'oom_score_adj', 'pids_limit', 'cpu_count', 'cpu_percent'];

export function normalizeService(name: string, raw: Raw, ctx: NormalizeContext): Service {
  const p = `services.${name}`;
  const s = withoutExtensions(raw);
  delete s.extends;
  delete s.env_file;
  const svc = {
    ...s,
    name,
    environment: at(`${p}.env_file`, () => environment(raw, ctx)),
    labels: (s.labels ?? {}) as Record<string, string>,
    ports: s.ports ?? [],
    expose: s.expose ?? [],
    volumes: s.volumes ?? [],
    tmpfs: s.tmpfs ?? [],
    networks: (s.networks ?? {}) as Service['networks'],
    extra_hosts: s.extra_hosts ?? [],
    dns: s.dns ?? [],
    dns_search: s.dns_search ?? [],
    dns_opt: toList(s.dns_opt),
    depends_on: s.depends_on ?? {},
    cap_add: toList(s.cap_add),
    cap_drop: toList(s.cap_drop),
    security_opt: toList(s.security_opt),
    ulimits: s.ulimits ?? {},
    sysctls: s.sysctls ?? {},
    devices: s.devices ?? [],
    secrets: s.secrets ?? [],
    configs: s.configs ?? [],
  } as Service;
  for (const k of BOOLEANS) if (s[k] !== undefined && s[k] !== null) svc[k] = at(`${p}.${k}`, () => toBool(s[k], k));
  for (const k of INTEGERS) if (s[k] !== undefined && s[k] !== null) svc[k] = at(`${p}.${k}`, () => toInt(s[k], k));
  if (s.profiles !== undefined) svc.profiles = toList(s.profiles);
  if (s.stop_grace_period !== undefined) svc.stop_grace_period = at(`${p}.stop_grace_period`, () => normalizeDuration(s.stop_grace_period));
  if (isMapping(s.healthcheck)) svc.healthcheck = at(`${p}.healthcheck`, () => healthcheck(s.healthcheck as Raw));
  if (isMapping(s.deploy)) svc.deploy = at(`${p}.deploy`, () => deploy(s.deploy as Raw));
  if (isMapping(s.build)) svc.build = { dockerfile: s.build.dockerfile_inline === undefined ? 'Dockerfile' : undefined, args: {}, labels: {}, ...(s.build as Raw) } as Service['build'];
  if (svc.build && svc.build.dockerfile === undefined) delete svc.build.dockerfile;
  for (const k of ['user', 'working_dir', 'hostname', 'domainname', 'stop_signal', 'restart', 'container_name', 'image', 'platform']) {
    if (s[k] !== undefined && s[k] !== null) svc[k] = str(s[k]);
  }
  const replicas = svc.deploy?.replicas;
  if (replicas !== undefined && svc.scale !== undefined && replicas !== svc.scale) {
    throw new ComposeFileError(`${p}: can't set distinct values on 'scale' and 'deploy.replicas'`, undefined, p);
  }
  if (replicas !== undefined) svc.scale = replicas;
  if (svc.network_mode !== undefined) {
    if (s.networks !== undefined) throw new ComposeFileError(`service ${name} declares mutually exclusive \`network_mode\` and \`networks\`: invalid compose project`, undefined, p);
  } else if (Object.keys(svc.networks).length === 0) {
    svc.networks = { default: null };
  }
  return svc;
}

function engineName(key: string, o: Raw, project: string): string {
  if (o.name !== undefined && o.name !== null) return str(o.name);
  return o.external ? key : `${project}_${key}`;
}

function resource<T extends Network | Volume>(key: string, raw: Raw, ctx: NormalizeContext, booleans: string[]): T {
  const o = withoutExtensions(raw);
  const r: Raw = { ...o, name: engineName(key, o, ctx.projectName), driver_opts: toMap(o.driver_opts, ''), labels: toMap(o.labels, '') };
  for (const k of booleans) if (o[k] !== undefined) r[k] = at(`${key}.${k}`, () => toBool(o[k], k));
  return r as T;
}

function fileObject(key: string, raw: Raw, ctx: NormalizeContext): FileObject {
  const o = withoutExtensions(raw);
  const f: Raw = { ...o, name: engineName(key, o, ctx.projectName) };
  if (o.external !== undefined) f.external = toBool(o.external, 'external');
  if (o.labels !== undefined) f.labels = toMap(o.labels, '');
  return f as unknown as FileObject;
}

function section(doc: Raw, key: string): Raw {
  return isMapping(doc[key]) ? withoutExtensions(doc[key] as Raw) : {};
}

export interface NormalizedResources {
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, FileObject>;
  configs: Record<string, FileObject>;
}

/** Top-level networks, volumes, secrets and configs; the default network is added when a service uses it. */
export function normalizeResources(doc: Raw, services: Service[], ctx: NormalizeContext): NormalizedResources {
  const networks: Record<string, Network> = {};
  for (const [k, n] of Object.entries(section(doc, 'networks'))) networks[k] = resource<Network>(k, (n ?? {}) as Raw, ctx, ['internal', 'attachable', 'enable_ipv6', 'external']);
  if (!networks.default && services.some((s) => 'default' in s.networks)) networks.default = { name: `${ctx.projectName}_default`, driver_opts: {}, labels: {} };
  const volumes: Record<string, Volume> = {};
  for (const [k, v] of Object.entries(section(doc, 'volumes'))) volumes[k] = resource<Volume>(k, (v ?? {}) as Raw, ctx, ['external']);
  const secrets: Record<string, FileObject> = {};
  for (const [k, v] of Object.entries(section(doc, 'secrets'))) secrets[k] = fileObject(k, (v ?? {}) as Raw, ctx);
  const configs: Record<string, FileObject> = {};
  for (const [k, v] of Object.entries(section(doc, 'configs'))) configs[k] = fileObject(k, (v ?? {}) as Raw, ctx);
  return { networks, volumes, secrets, configs };
}

/** Every name a service uses must be defined: services it depends on, networks, named volumes, secrets, configs. */
export function checkReferences(project: Pick<Project, 'services' | 'disabled_services' | 'networks' | 'volumes' | 'secrets' | 'configs'>): void {
  const invalid = (m: string) => new ComposeFileError(`${m}: invalid compose project`);
  for (const s of Object.values(project.services)) {
    for (const [dep, d] of Object.entries(s.depends_on)) {
      if (project.services[dep]) continue;
      const disabled = project.disabled_services[dep];
      if (disabled && d.required) throw new ComposeFileError(`service ${dep} is required by ${s.name} but is disabled. Can be enabled by profiles [${(disabled.profiles ?? []).join(' ')}]`);
      if (!disabled && d.required) throw invalid(`service "${s.name}" depends on undefined service "${dep}"`);
      // an optional dependency on a service that is not there is dropped, as compose does
      delete s.depends_on[dep];
    }
    for (const n of Object.keys(s.networks)) if (!project.networks[n]) throw invalid(`service "${s.name}" refers to undefined network ${n}`);
    for (const v of s.volumes) if (v.type === 'volume' && v.source && !project.volumes[v.source]) throw invalid(`service "${s.name}" refers to undefined volume ${v.source}`);
    for (const r of s.secrets) if (!project.secrets[r.source]) throw invalid(`service "${s.name}" refers to undefined secret ${r.source}`);
    for (const r of s.configs) if (!project.configs[r.source]) throw invalid(`service "${s.name}" refers to undefined config ${r.source}`);
  }
}
