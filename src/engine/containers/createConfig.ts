// Turns a create request (Docker's Config + HostConfig) and the image's config into a
// validated container record. Docker's merge rules: the request wins, the image fills gaps.
import * as os from 'node:os';
import { InvalidParameterError } from '../../lib/errors';
import type { ContainerConfig, HostConfig } from './Container';
import { validateLogOpts } from '../logs/options';
import { UNSUPPORTED_CREATE_FIELDS, rejectUnsupported } from './unsupported';

export interface CreateRequest extends Partial<ContainerConfig> {
  HostConfig?: Partial<HostConfig> | null;
  NetworkingConfig?: unknown;
}

/** The parts of an OCI image config that a container inherits. */
export interface ImageRuntimeConfig {
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: unknown;
  OnBuild?: string[] | null;
}

const MIN_MEMORY = 6 * 1024 * 1024;
const DEFAULT_SHM = 64 * 1024 * 1024;
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function arr<T>(v: T[] | null | undefined): T[] | null {
  return Array.isArray(v) ? v : null;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Merges env lists by variable name; later lists override earlier ones. */
export function mergeEnv(...lists: (string[] | null | undefined)[]): string[] {
  const out = new Map<string, string>();
  for (const list of lists) {
    for (const kv of list ?? []) {
      const eq = kv.indexOf('=');
      out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
    }
  }
  return [...out.values()];
}

function mergeVolumes(...maps: (Record<string, object> | null | undefined)[]): Record<string, object> | null {
  const out: Record<string, object> = {};
  for (const m of maps) if (m && typeof m === 'object') for (const k of Object.keys(m)) out[k] = {};
  return Object.keys(out).length > 0 ? out : null;
}

export function buildConfig(req: CreateRequest, image: ImageRuntimeConfig, imageName: string): ContainerConfig {
  // Nothing accepted that is not done: fields berth does not apply yet are a 400 (unsupported.ts).
  rejectUnsupported(UNSUPPORTED_CREATE_FIELDS, req as Record<string, unknown>);
  for (const key of ['Cmd', 'Entrypoint', 'Env'] as const) {
    const v = req[key];
    if (v !== undefined && v !== null && !isStringArray(v)) {
      // Docker accepts a bare string for Cmd/Entrypoint (old clients); anything else is malformed.
      if (typeof v === 'string' && key !== 'Env') (req as Record<string, unknown>)[key] = [v];
      else throw new InvalidParameterError(`invalid ${key}: expected a list of strings`);
    }
  }
  for (const kv of req.Env ?? []) {
    if (kv.startsWith('=') || kv === '') throw new InvalidParameterError(`invalid environment variable: ${kv}`);
  }
  const entrypointGiven = req.Entrypoint !== undefined && req.Entrypoint !== null;
  const entrypoint = entrypointGiven ? (req.Entrypoint!.length === 1 && req.Entrypoint![0] === '' ? [] : req.Entrypoint!) : arr(image.Entrypoint) ?? [];
  // Docker: a new entrypoint on create drops the image's CMD unless a CMD is given too.
  const cmd = req.Cmd && req.Cmd.length > 0 ? req.Cmd : entrypointGiven ? [] : arr(image.Cmd) ?? [];
  return {
    ...req,
    Hostname: req.Hostname ?? '',
    Domainname: req.Domainname ?? '',
    User: req.User || image.User || '',
    AttachStdin: !!req.AttachStdin,
    AttachStdout: !!req.AttachStdout,
    AttachStderr: !!req.AttachStderr,
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) },
    Tty: !!req.Tty,
    OpenStdin: !!req.OpenStdin,
    StdinOnce: !!req.StdinOnce,
    Env: mergeEnv(image.Env, req.Env),
    Cmd: cmd.length > 0 ? cmd : null,
    ...(req.Healthcheck ?? image.Healthcheck ? { Healthcheck: req.Healthcheck ?? image.Healthcheck } : {}),
    Image: imageName,
    // Docker's merge: the image's VOLUME paths and the request's, together.
    Volumes: mergeVolumes(image.Volumes, req.Volumes),
    WorkingDir: req.WorkingDir || image.WorkingDir || '',
    Entrypoint: entrypoint.length > 0 ? entrypoint : null,
    OnBuild: req.OnBuild ?? null,
    Labels: { ...(image.Labels ?? {}), ...(req.Labels ?? {}) },
    ...(req.StopSignal || image.StopSignal ? { StopSignal: req.StopSignal || image.StopSignal } : {}),
    ...(typeof req.StopTimeout === 'number' ? { StopTimeout: req.StopTimeout } : {}),
  } as ContainerConfig;
}

export function commandOf(config: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameterError('No command specified');
  return { path: argv[0], args: argv.slice(1) };
}

function num(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidParameterError(`invalid ${name}: ${JSON.stringify(v)}`);
  return v;
}

/** Docker's CPU limit rules, shared by create and update. */
export function validateCpuLimits(nanoCpus: number, cpuQuota: number, cpuPeriod: number): void {
  if (nanoCpus > 0 && cpuPeriod > 0) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nanoCpus > 0 && cpuQuota > 0) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  // (os.cpus() reads /proc on every call: only when there is a limit to check)
  if (nanoCpus !== 0) {
    const ncpu = os.cpus().length;
    if (nanoCpus < 0 || nanoCpus > ncpu * 1e9) throw new InvalidParameterError(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (cpuPeriod !== 0 && (cpuPeriod < 1000 || cpuPeriod > 1_000_000)) throw new InvalidParameterError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (cpuQuota > 0 && cpuQuota < 1000) throw new InvalidParameterError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

export interface HostConfigDefaults {
  defaultRuntime: string;
  runtimes: string[];
  logDriver: string;
  logOpts: Record<string, string>;
  swapLimitSupported: boolean;
}

/**
 * Docker's mergeAndVerifyLogConfig: an empty Type is the daemon's default driver, and the
 * daemon's log-opts fill the options the request left out only when the driver is the default.
 */
export function mergeLogConfig(lc: { Type?: string | null; Config?: Record<string, string> | null } | null | undefined, d: HostConfigDefaults): { Type: string; Config: Record<string, string> } {
  const type = lc?.Type || d.logDriver;
  if (!['json-file', 'none', 'local', 'k8s-file'].includes(type)) throw new InvalidParameterError(`logger: no log driver named '${type}' is registered`);
  const config = { ...(type === d.logDriver ? d.logOpts : {}), ...(lc?.Config ?? {}) };
  validateLogOpts(type, config);
  return { Type: type, Config: config };
}

export function buildHostConfig(raw: Partial<HostConfig> | null | undefined, d: HostConfigDefaults): HostConfig {
  const h = raw ?? {};
  const memory = num(h.Memory, 'Memory');
  let memorySwap = num(h.MemorySwap, 'MemorySwap');
  if (memory < 0) throw new InvalidParameterError('invalid Memory: must be positive');
  if (memory > 0 && memory < MIN_MEMORY) throw new InvalidParameterError('Minimum memory limit allowed is 6MB');
  if (memorySwap > 0 && memory === 0) throw new InvalidParameterError('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memorySwap > 0 && memorySwap < memory) throw new InvalidParameterError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory > 0 && memorySwap === 0 && d.swapLimitSupported) memorySwap = memory * 2;
  const reservation = num(h.MemoryReservation, 'MemoryReservation');
  if (memory > 0 && reservation > memory) throw new InvalidParameterError('Minimum memory limit can not be less than memory reservation limit, see usage');
  const nanoCpus = num(h.NanoCpus, 'NanoCpus');
  const cpuQuota = num(h.CpuQuota, 'CpuQuota');
  const cpuPeriod = num(h.CpuPeriod, 'CpuPeriod');
  validateCpuLimits(nanoCpus, cpuQuota, cpuPeriod);
  const cpuShares = num(h.CpuShares, 'CpuShares');
  if (cpuShares < 0) throw new InvalidParameterError('invalid CPU shares');
  const pids = h.PidsLimit === null || h.PidsLimit === undefined ? null : num(h.PidsLimit, 'PidsLimit');
  const swappiness = h.MemorySwappiness === undefined || h.MemorySwappiness === null || h.MemorySwappiness === -1 ? null : num(h.MemorySwappiness, 'MemorySwappiness');
  if (swappiness !== null && (swappiness < 0 || swappiness > 100)) throw new InvalidParameterError(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  const blkioWeight = num(h.BlkioWeight, 'BlkioWeight');
  if (blkioWeight !== 0 && (blkioWeight < 10 || blkioWeight > 1000)) throw new InvalidParameterError('Range of blkio weight is from 10 to 1000');
  const runtime = h.Runtime || d.defaultRuntime;
  if (!d.runtimes.includes(runtime)) throw new InvalidParameterError(`unknown or invalid runtime name: ${runtime}`);
  const restart = h.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
  const restartName = restart.Name || 'no';
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(restartName)) throw new InvalidParameterError(`invalid restart policy: ${restartName}`);
  if (h.AutoRemove && restartName !== 'no') throw new InvalidParameterError('can\'t create \'AutoRemove\' container with restart policy');
  if (restartName !== 'on-failure' && (restart.MaximumRetryCount ?? 0) > 0) throw new InvalidParameterError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  for (const u of h.Ulimits ?? []) {
    if (!u || typeof u.Name !== 'string' || typeof u.Soft !== 'number' || typeof u.Hard !== 'number') throw new InvalidParameterError('invalid ulimit');
    if (u.Soft > u.Hard) throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
  const shmSize = num(h.ShmSize, 'ShmSize');
  if (shmSize < 0) throw new InvalidParameterError('SHM size can not be less than 0');
  const consoleSize = Array.isArray(h.ConsoleSize) && h.ConsoleSize.length === 2 ? h.ConsoleSize : [0, 0];
  const network = !h.NetworkMode || h.NetworkMode === 'default' ? 'default' : h.NetworkMode;
  const logConfig = mergeLogConfig(h.LogConfig, d);
  return {
    ...h,
    Binds: h.Binds ?? null,
    NetworkMode: network,
    RestartPolicy: { Name: restartName, MaximumRetryCount: restart.MaximumRetryCount ?? 0 },
    AutoRemove: !!h.AutoRemove,
    LogConfig: logConfig,
    // strslice: a bare string is a list of one, as dockerd decodes it
    CapAdd: typeof h.CapAdd === 'string' ? [h.CapAdd] : h.CapAdd ?? null,
    CapDrop: typeof h.CapDrop === 'string' ? [h.CapDrop] : h.CapDrop ?? null,
    Privileged: !!h.Privileged,
    ReadonlyRootfs: !!h.ReadonlyRootfs,
    SecurityOpt: h.SecurityOpt ?? null,
    Memory: memory,
    MemorySwap: memorySwap,
    MemoryReservation: reservation,
    MemorySwappiness: swappiness,
    NanoCpus: nanoCpus,
    CpuShares: cpuShares,
    CpuQuota: cpuQuota,
    CpuPeriod: cpuPeriod,
    CpusetCpus: h.CpusetCpus ?? '',
    CpusetMems: h.CpusetMems ?? '',
    PidsLimit: pids !== null && pids > 0 ? pids : pids === 0 ? null : pids,
    BlkioWeight: blkioWeight,
    OomKillDisable: !!h.OomKillDisable,
    Ulimits: h.Ulimits ?? null,
    ...(h.Init ? { Init: true } : {}),
    IpcMode: h.IpcMode || 'private',
    PidMode: h.PidMode ?? '',
    UTSMode: h.UTSMode ?? '',
    ShmSize: shmSize || DEFAULT_SHM,
    Runtime: runtime,
    ExtraHosts: h.ExtraHosts ?? null,
    Dns: h.Dns ?? [],
    DnsOptions: h.DnsOptions ?? [],
    DnsSearch: h.DnsSearch ?? [],
    CgroupnsMode: h.CgroupnsMode || 'host',
    MaskedPaths: h.MaskedPaths ?? null,
    ReadonlyPaths: h.ReadonlyPaths ?? null,
    ConsoleSize: consoleSize as [number, number],
  } as HostConfig;
}
