// One service container as an Engine API create body, as compose v2 builds it: every key of the
// resolved service becomes its API field, or is refused naming the service and the key (never
// dropped). `compose up` and `compose run` both go through containerCreateBody.
import * as path from 'node:path';
import { parseGoDuration as parseDuration } from '../../lib/duration';
import { ramInBytes } from '../../lib/units';
import type { Mount } from '../../client/types';
import type { FileReference, Project, Service, VolumeMount } from '../model';
import { UnsupportedKeyError } from './errors';
import { serviceConfigHash } from './hash';
import { containerLabels } from './labels';
import { containerName, defaultImageName } from './names';

export interface CreateBodyOptions {
  /** a `compose run` container: oneoff=True, no config-hash convergence */
  oneoff?: boolean;
  /** the container's name (default project-service-N / container_name) */
  name?: string;
  /** the image's id, for the com.docker.compose.image label */
  imageId?: string;
  /** the id or name of the running container of a service (network_mode service:X, volumes_from) */
  serviceContainer?: (service: string) => string | undefined;
  /** the container this one replaces: its anonymous volumes are kept (as compose does) */
  inherit?: { Id: string; Mounts?: Array<{ Type?: string; Name?: string; Destination?: string }> };
  /** add the service name as a network alias (compose up: yes; compose run: only with --use-aliases) */
  useNetworkAliases?: boolean;
  /** labels added last (com.docker.compose.replace...) */
  extraLabels?: Record<string, string>;
}

/** A network the container joins by `network connect` after create (compose joins the first at create). */
export interface ExtraNetwork { network: string; endpoint: Record<string, unknown> }

export interface ContainerCreate {
  name: string;
  body: Record<string, unknown>;
  extraNetworks: ExtraNetwork[];
  platform?: string;
}

/** Keys of a service the engine applies (each handled below) or that are not container config. */
const APPLIED = new Set([
  'name', 'image', 'build', 'pull_policy', 'platform', 'container_name', 'profiles', 'command', 'entrypoint', 'environment',
  'labels', 'user', 'working_dir', 'hostname', 'domainname', 'tty', 'stdin_open', 'init', 'privileged', 'read_only',
  'stop_signal', 'stop_grace_period', 'restart', 'ports', 'expose', 'volumes', 'tmpfs', 'networks', 'network_mode',
  'extra_hosts', 'dns', 'dns_search', 'dns_opt', 'mac_address', 'depends_on', 'healthcheck', 'deploy', 'scale',
  'cap_add', 'cap_drop', 'security_opt', 'ulimits', 'sysctls', 'devices', 'logging', 'secrets', 'configs',
  'links', 'volumes_from', 'shm_size', 'ipc', 'pid', 'group_add', 'mem_limit', 'mem_reservation', 'memswap_limit',
  'cpus', 'cpu_shares', 'cpu_quota', 'cpu_period', 'cpuset', 'pids_limit', 'runtime', 'stdin_once', 'attach',
]);

/** Everything of `service` the engine does not apply, as the error that names the first. */
export function checkServiceKeys(service: Service): void {
  for (const key of Object.keys(service)) {
    if (key.startsWith('x-') || service[key] === undefined) continue;
    if (!APPLIED.has(key)) throw new UnsupportedKeyError(service.name, key);
  }
  const deploy = service.deploy;
  if (deploy) {
    for (const key of Object.keys(deploy)) {
      if (['replicas', 'resources', 'restart_policy'].includes(key) || deploy[key] === undefined) continue;
      if (key === 'mode' && deploy[key] === 'replicated') continue;
      if (key === 'labels' && !Object.keys(deploy.labels ?? {}).length) continue;
      throw new UnsupportedKeyError(service.name, `deploy.${key}`);
    }
    const res = deploy.resources ?? {};
    for (const key of Object.keys(res)) if (key !== 'limits' && key !== 'reservations') throw new UnsupportedKeyError(service.name, `deploy.resources.${key}`);
    for (const key of Object.keys(res.limits ?? {})) if (!['cpus', 'memory', 'pids'].includes(key)) throw new UnsupportedKeyError(service.name, `deploy.resources.limits.${key}`);
    for (const key of Object.keys(res.reservations ?? {})) if (key !== 'memory') throw new UnsupportedKeyError(service.name, `deploy.resources.reservations.${key}`);
    const rp = deploy.restart_policy ?? {};
    for (const key of ['delay', 'window'] as const) if (rp[key] !== undefined) throw new UnsupportedKeyError(service.name, `deploy.restart_policy.${key}`);
  }
  if (service.attach === false) throw new UnsupportedKeyError(service.name, 'attach', 'false');
}

function seconds(d: string): number {
  return Math.round(parseDuration(d) / 1e9);
}

function env(service: Service): string[] {
  return Object.keys(service.environment).sort()
    .filter((k) => service.environment[k] !== null)
    .map((k) => `${k}=${service.environment[k]}`);
}

/** "8000-8010" → ["8000/tcp", ... "8010/tcp"]; "53/udp" → ["53/udp"]. */
function exposedPorts(spec: string): string[] {
  const [ports, proto = 'tcp'] = spec.split('/');
  const [lo, hi = lo] = ports.split('-').map((p) => parseInt(p, 10));
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new Error(`invalid port range: ${spec}`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

function ports(service: Service): { exposed: Record<string, Record<string, never>>; bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of service.ports) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  for (const e of service.expose) for (const key of exposedPorts(e)) exposed[key] = {};
  return { exposed, bindings };
}

function restartPolicy(service: Service): { Name: string; MaximumRetryCount: number } | undefined {
  if (service.restart) {
    const [name, count] = service.restart.split(':');
    if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) throw new Error(`service "${service.name}": invalid restart policy "${service.restart}"`);
    return { Name: name, MaximumRetryCount: count ? parseInt(count, 10) : 0 };
  }
  const rp = service.deploy?.restart_policy;
  if (!rp) return undefined;
  const name = rp.condition === 'none' ? 'no' : rp.condition === 'on-failure' ? 'on-failure' : 'always';
  return { Name: name, MaximumRetryCount: rp.max_attempts ?? 0 };
}

function healthcheck(service: Service): Record<string, unknown> | undefined {
  const h = service.healthcheck;
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  const ns = (d?: string) => (d === undefined ? undefined : parseDuration(d));
  return { Test: h.test, Interval: ns(h.interval), Timeout: ns(h.timeout), StartPeriod: ns(h.start_period), StartInterval: ns(h.start_interval), Retries: h.retries };
}

/** Volumes, binds and tmpfs mounts; binds that may create their source go as Binds (the daemon makes it, as compose relies on). */
function mounts(project: Project, service: Service, inherit: CreateBodyOptions['inherit']): { mounts: Mount[]; binds: string[] } {
  const out: Mount[] = [];
  const binds: string[] = [];
  const anonymous = new Map<string, string>();
  for (const m of inherit?.Mounts ?? []) if (m.Type === 'volume' && m.Name && m.Destination) anonymous.set(m.Destination, m.Name);
  for (const v of service.volumes) out.push(...mountOf(project, service, v, anonymous, binds));
  // volumes the image declares and the old container had: kept too (anonymous ones, as compose does)
  const covered = new Set([...out.map((m) => m.Target), ...binds.map((b) => b.split(':')[1])]);
  for (const [dest, name] of anonymous) {
    if (covered.has(dest) || Object.values(project.volumes).some((pv) => pv.name === name)) continue;
    out.push({ Type: 'volume', Source: name, Target: dest });
  }
  return { mounts: out, binds };
}

function mountOf(project: Project, service: Service, v: VolumeMount, anonymous: Map<string, string>, binds: string[]): Mount[] {
  switch (v.type) {
    case 'volume': {
      const opts: Record<string, unknown> = {};
      if (v.volume?.nocopy) opts.NoCopy = true;
      if (v.volume?.subpath) opts.Subpath = v.volume.subpath;
      let source: string | undefined;
      if (v.source) {
        const pv = project.volumes[v.source];
        if (!pv) throw new Error(`service "${service.name}" refers to undefined volume ${v.source}: invalid compose project`);
        source = pv.name;
      } else {
        source = anonymous.get(v.target);
        anonymous.delete(v.target);
      }
      const m: Mount = { Type: 'volume', Target: v.target, ReadOnly: v.read_only || undefined };
      if (source) m.Source = source;
      if (Object.keys(opts).length) m.VolumeOptions = opts;
      return [m];
    }
    case 'bind': {
      if (!v.source) throw new Error(`service "${service.name}": a bind mount at ${v.target} has no source`);
      if (v.bind?.create_host_path !== false) {
        const opts = [v.read_only ? 'ro' : '', v.bind?.propagation ?? '', v.bind?.selinux ?? ''].filter(Boolean);
        binds.push(`${v.source}:${v.target}${opts.length ? `:${opts.join(',')}` : ''}`);
        return [];
      }
      if (v.bind?.selinux) throw new UnsupportedKeyError(service.name, 'volumes.bind.selinux', 'with create_host_path: false');
      const m: Mount = { Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.read_only || undefined };
      if (v.bind?.propagation) m.BindOptions = { Propagation: v.bind.propagation };
      return [m];
    }
    case 'tmpfs': {
      const m: Mount = { Type: 'tmpfs', Target: v.target, ReadOnly: v.read_only || undefined };
      const o: Record<string, number> = {};
      if (v.tmpfs?.size !== undefined) o.SizeBytes = v.tmpfs.size;
      if (v.tmpfs?.mode !== undefined) o.Mode = v.tmpfs.mode;
      if (Object.keys(o).length) m.TmpfsOptions = o;
      return [m];
    }
    default:
      throw new UnsupportedKeyError(service.name, 'volumes', `type ${v.type}`);
  }
}

/** File-based secrets and configs: the file bind-mounted read-only, as compose does. */
function fileMounts(project: Project, service: Service, kind: 'secrets' | 'configs'): Mount[] {
  const refs: FileReference[] = service[kind];
  return refs.map((ref) => {
    const obj = project[kind][ref.source];
    if (!obj) throw new Error(`service "${service.name}" refers to undefined ${kind.slice(0, -1)} ${ref.source}: invalid compose project`);
    if (!obj.file) throw new UnsupportedKeyError(service.name, kind, `${ref.source}: only file-based ${kind} are supported`);
    for (const k of ['uid', 'gid', 'mode'] as const) if (ref[k] !== undefined) throw new UnsupportedKeyError(service.name, `${kind}.${k}`, `${ref.source}: a bind-mounted file keeps its own owner and mode`);
    const target = kind === 'secrets'
      ? (ref.target ? (path.isAbsolute(ref.target) ? ref.target : `/run/secrets/${ref.target}`) : `/run/secrets/${ref.source}`)
      : (ref.target ?? `/${ref.source}`);
    return { Type: 'bind', Source: obj.file, Target: target, ReadOnly: true };
  });
}

function memory(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? v : ramInBytes(String(v));
}

function nanoCpus(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : parseFloat(String(v));
  if (!Number.isFinite(n)) throw new Error(`invalid cpus value ${String(v)}`);
  return Math.round(n * 1e9);
}

function networkMode(service: Service, opts: CreateBodyOptions): string | undefined {
  const mode = service.network_mode;
  if (!mode) return undefined;
  if (mode.startsWith('service:')) {
    const target = mode.slice('service:'.length);
    const id = opts.serviceContainer?.(target);
    if (!id) throw new Error(`service "${service.name}": no container of service "${target}" to share the network of (network_mode: ${mode})`);
    return `container:${id}`;
  }
  return mode;
}

/** Networks in compose's order: priority (highest first), then name. */
function orderedNetworks(service: Service): string[] {
  return Object.keys(service.networks).sort((a, b) => {
    const pa = service.networks[a]?.priority ?? 0;
    const pb = service.networks[b]?.priority ?? 0;
    return pb - pa || a.localeCompare(b);
  });
}

function endpoint(project: Project, service: Service, key: string, name: string, opts: CreateBodyOptions): Record<string, unknown> {
  const n = service.networks[key] ?? {};
  for (const k of Object.keys(n)) {
    if (!['aliases', 'ipv4_address', 'priority', 'mac_address'].includes(k) && n[k] !== undefined) throw new UnsupportedKeyError(service.name, `networks.${key}.${k}`);
  }
  const aliases = [name, ...(opts.useNetworkAliases !== false ? [service.name] : []), ...(n.aliases ?? [])];
  const ep: Record<string, unknown> = { Aliases: [...new Set(aliases)] };
  if (n.ipv4_address) ep.IPAMConfig = { IPv4Address: n.ipv4_address };
  const mac = n.mac_address ?? (orderedNetworks(service)[0] === key ? service.mac_address : undefined);
  if (mac) ep.MacAddress = mac;
  if (!project.networks[key]) throw new Error(`service "${service.name}" refers to undefined network ${key}: invalid compose project`);
  return ep;
}

/** compose v2's links: `service[:alias]` → `<container>:<alias>` and `<container>:<service>`. */
function links(project: Project, service: Service, opts: CreateBodyOptions): string[] {
  const list = (service.links as string[] | undefined) ?? [];
  return list.flatMap((l) => {
    const [target, alias = target] = l.split(':');
    const dep = project.services[target];
    const ctr = dep ? opts.serviceContainer?.(target) ?? containerName(project, dep, 1) : target;
    return [...new Set([`${ctr}:${alias}`, `${ctr}:${target}`])];
  });
}

function volumesFrom(service: Service, opts: CreateBodyOptions): string[] {
  const list = (service.volumes_from as string[] | undefined) ?? [];
  return list.map((v) => {
    const [ref, mode] = v.split(':');
    let ctr = ref;
    if (ref === 'container') ctr = v.split(':')[1];
    else {
      ctr = opts.serviceContainer?.(ref) ?? '';
      if (!ctr) throw new Error(`service "${service.name}": no container of service "${ref}" to take volumes from`);
    }
    const m = ref === 'container' ? v.split(':')[2] : mode;
    return m ? `${ctr}:${m}` : ctr;
  });
}

export function containerCreateBody(project: Project, service: Service, number: number, opts: CreateBodyOptions = {}): ContainerCreate {
  checkServiceKeys(service);
  const name = opts.name ?? containerName(project, service, number);
  const { exposed, bindings } = ports(service);
  const { mounts: mountList, binds } = mounts(project, service, opts.inherit);
  mountList.push(...fileMounts(project, service, 'secrets'), ...fileMounts(project, service, 'configs'));
  const limits = service.deploy?.resources?.limits ?? {};
  const reservations = service.deploy?.resources?.reservations ?? {};
  const labels = {
    ...containerLabels(project, service, { number, configHash: serviceConfigHash(service), oneoff: !!opts.oneoff, imageId: opts.imageId }),
    ...opts.extraLabels,
  };
  const tmpfs: Record<string, string> = {};
  for (const t of service.tmpfs) {
    const i = t.indexOf(':');
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }
  const mode = networkMode(service, opts);
  const nets = mode ? [] : orderedNetworks(service);
  const endpoints: Record<string, unknown> = {};
  const extraNetworks: ExtraNetwork[] = [];
  nets.forEach((key, i) => {
    const ep = endpoint(project, service, key, name, opts);
    if (i === 0) endpoints[project.networks[key].name] = ep;
    else extraNetworks.push({ network: project.networks[key].name, endpoint: ep });
  });
  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    Mounts: mountList.length ? mountList : undefined,
    NetworkMode: mode ?? (nets.length ? project.networks[nets[0]].name : 'none'),
    PortBindings: Object.keys(bindings).length ? bindings : undefined,
    RestartPolicy: restartPolicy(service),
    CapAdd: service.cap_add.length ? service.cap_add : null,
    CapDrop: service.cap_drop.length ? service.cap_drop : null,
    Dns: service.dns.length ? service.dns : undefined,
    DnsOptions: service.dns_opt.length ? service.dns_opt : undefined,
    DnsSearch: service.dns_search.length ? service.dns_search : undefined,
    ExtraHosts: service.extra_hosts.length ? service.extra_hosts.map((h) => h.replace('=', ':')) : null,
    Init: service.init,
    Privileged: service.privileged ?? false,
    ReadonlyRootfs: service.read_only ?? false,
    SecurityOpt: service.security_opt.length ? service.security_opt : null,
    Sysctls: Object.keys(service.sysctls).length ? service.sysctls : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Ulimits: Object.keys(service.ulimits).length ? Object.entries(service.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard })) : undefined,
    Devices: service.devices.length ? service.devices.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions || 'rwm' })) : undefined,
    LogConfig: service.logging ? { Type: service.logging.driver ?? '', Config: service.logging.options ?? {} } : undefined,
    Links: service.links ? links(project, service, opts) : undefined,
    VolumesFrom: service.volumes_from ? volumesFrom(service, opts) : undefined,
    ShmSize: memory(service.shm_size),
    IpcMode: service.ipc as string | undefined,
    PidMode: service.pid as string | undefined,
    GroupAdd: (service.group_add as string[] | undefined)?.map(String),
    Memory: memory(limits.memory ?? service.mem_limit),
    MemoryReservation: memory(reservations.memory ?? service.mem_reservation),
    MemorySwap: memory(service.memswap_limit),
    NanoCpus: nanoCpus(limits.cpus ?? service.cpus),
    CpuShares: service.cpu_shares as number | undefined,
    CpuQuota: service.cpu_quota as number | undefined,
    CpuPeriod: service.cpu_period as number | undefined,
    CpusetCpus: service.cpuset as string | undefined,
    PidsLimit: limits.pids ?? (service.pids_limit as number | undefined),
    Runtime: service.runtime as string | undefined,
  };
  const body: Record<string, unknown> = {
    Hostname: service.hostname ?? '',
    Domainname: service.domainname ?? '',
    User: service.user ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: service.tty ?? false,
    OpenStdin: service.stdin_open ?? false,
    StdinOnce: (service.stdin_once as boolean | undefined) ?? false,
    Env: env(service),
    Cmd: service.command === undefined ? null : service.command === null ? [] : service.command,
    Healthcheck: healthcheck(service),
    Image: defaultImageName(project, service),
    WorkingDir: service.working_dir ?? '',
    Entrypoint: service.entrypoint === undefined ? null : service.entrypoint === null || service.entrypoint.length === 0 ? [''] : service.entrypoint,
    Labels: labels,
    StopSignal: service.stop_signal,
    StopTimeout: service.stop_grace_period !== undefined ? seconds(service.stop_grace_period) : undefined,
    HostConfig: dropUndefined(hostConfig),
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return { name, body: dropUndefined(body), extraNetworks, platform: service.platform };
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
