// From a container record to the runtime's input: capabilities, namespaces, limits, mounts.
import { InvalidParameterError } from '../../lib/errors';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../runtime/defaults';
import type { ContainerSpecInput, MountSpec, NamespaceMode, ResourceLimits } from '../../runtime/types';
import { DEFAULT_SECCOMP_PROFILE } from '../../runtime/seccompDefault';
import { parseSeccompProfile, toOciSeccomp, type DockerSeccompProfile, type OciSeccomp } from '../../runtime/seccomp';
import type { DaemonConfig } from '../config';
import type { ContainerRecord } from './Container';
import { parseGoBool, splitSecurityOpt } from './securityOpt';
import { DEFAULT_PATH_ENV, mergeEnv } from './createConfig';
import type { ResolvedUser } from './user';
import { devicesOf } from './devices';
import { usernsSpecOf, type RemapConfig } from '../usernsRemap';

export function normaliseCap(c: string): string {
  const up = c.toUpperCase();
  return up === 'ALL' || up.startsWith('CAP_') ? up : 'CAP_' + up;
}

/** Docker's rule: start from the default set (or all when privileged), add, then drop. */
export function capabilitiesOf(c: ContainerRecord): string[] {
  if (c.HostConfig.Privileged) return [...ALL_CAPABILITIES];
  const add = (c.HostConfig.CapAdd ?? []).map(normaliseCap);
  const drop = (c.HostConfig.CapDrop ?? []).map(normaliseCap);
  for (const cap of [...add, ...drop]) {
    if (cap !== 'ALL' && !ALL_CAPABILITIES.includes(cap)) throw new InvalidParameterError(`unknown capability: "${cap}"`);
  }
  let caps = new Set(add.includes('ALL') ? ALL_CAPABILITIES : DEFAULT_CAPABILITIES);
  for (const cap of add) if (cap !== 'ALL') caps.add(cap);
  if (drop.includes('ALL')) caps = new Set(add.filter((a) => a !== 'ALL'));
  else for (const cap of drop) caps.delete(cap);
  return [...caps];
}

export function validateCapabilities(c: ContainerRecord): void {
  capabilitiesOf(c);
}

/** The container's no-new-privileges: its own option, else the daemon's default. */
export function noNewPrivilegesOf(securityOpt: string[] | null, daemonDefault = false): boolean {
  for (const opt of securityOpt ?? []) {
    const [k, v] = splitSecurityOpt(opt);
    if (k === 'no-new-privileges') return v === undefined || parseGoBool(v) === true;
  }
  return daemonDefault;
}

export function validateSecurityOpt(securityOpt: string[] | null): void {
  for (const opt of securityOpt ?? []) {
    const [key, value] = splitSecurityOpt(opt);
    if (!['no-new-privileges', 'seccomp', 'apparmor', 'label', 'systempaths', 'writable-cgroups'].includes(key)) {
      throw new InvalidParameterError(`invalid --security-opt: ${JSON.stringify(opt)}`);
    }
    if ((key === 'no-new-privileges' || key === 'writable-cgroups') && value !== undefined && parseGoBool(value) === undefined) {
      throw new InvalidParameterError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
    if (key === 'seccomp' && value !== undefined && value !== 'unconfined' && value !== 'builtin') parseSeccompProfile(value);
  }
}

/**
 * The container's seccomp filter, Docker's rules: none when privileged or asked `unconfined`;
 * `builtin` is berth's default; a profile sent in the option (the CLI sends a file's JSON);
 * else the daemon's seccomp-profile. Conditional rules are resolved against `capabilities`.
 */
export function seccompOf(c: ContainerRecord, capabilities: readonly string[], daemon: Pick<DaemonConfig, 'seccompProfile' | 'customSeccomp'>): OciSeccomp | undefined {
  if (c.HostConfig.Privileged) return undefined;
  let profile: DockerSeccompProfile | undefined = daemon.seccompProfile === 'unconfined' ? undefined : daemon.customSeccomp ?? DEFAULT_SECCOMP_PROFILE;
  for (const opt of c.HostConfig.SecurityOpt ?? []) {
    const [k, v] = splitSecurityOpt(opt);
    if (k !== 'seccomp' || v === undefined) continue;
    profile = v === 'unconfined' ? undefined : v === 'builtin' ? DEFAULT_SECCOMP_PROFILE : parseSeccompProfile(v);
  }
  return profile && toOciSeccomp(profile, { capabilities });
}

function namespace(mode: string, resolveContainerPid: (ref: string) => number, kind: string): NamespaceMode {
  if (mode === 'host') return { mode: 'host' };
  if (mode.startsWith('container:')) {
    const pid = resolveContainerPid(mode.slice('container:'.length));
    return { mode: 'path', path: `/proc/${pid}/ns/${kind}` };
  }
  return { mode: 'private' };
}

export function resourcesOf(c: ContainerRecord, swapLimitSupported: boolean): ResourceLimits {
  const h = c.HostConfig;
  const r: ResourceLimits = {};
  if (h.Memory > 0) r.memory = h.Memory;
  if (h.Memory > 0 && swapLimitSupported && h.MemorySwap !== 0) r.memorySwap = h.MemorySwap;
  if (h.MemoryReservation > 0) r.memoryReservation = h.MemoryReservation;
  if (h.MemorySwappiness !== null && h.MemorySwappiness !== undefined) r.memorySwappiness = h.MemorySwappiness;
  if (h.OomKillDisable) r.oomKillDisable = true;
  if (h.CpuShares > 0) r.cpuShares = h.CpuShares;
  if (h.NanoCpus > 0) {
    r.cpuPeriod = 100_000;
    r.cpuQuota = Math.round((h.NanoCpus * 100_000) / 1e9);
  } else {
    if (h.CpuQuota > 0) r.cpuQuota = h.CpuQuota;
    if (h.CpuPeriod > 0) r.cpuPeriod = h.CpuPeriod;
  }
  if (h.CpusetCpus) r.cpusetCpus = h.CpusetCpus;
  if (h.CpusetMems) r.cpusetMems = h.CpusetMems;
  if (h.PidsLimit !== null && h.PidsLimit > 0) r.pidsLimit = h.PidsLimit;
  if (h.BlkioWeight > 0) r.blkioWeight = h.BlkioWeight;
  return r;
}

export interface SpecContext {
  rootfs: string;
  /** What the container's attachments mount (their /etc files, later volumes). */
  mounts: MountSpec[];
  user: ResolvedUser;
  cgroupParent: string;
  initPath: string;
  swapLimitSupported: boolean;
  resolveContainerPid: (ref: string) => number;
  /** The namespace the network attachment made (bridge and user networks). */
  netnsPath?: string;
  /** Set by attachments (links' variables); the container's own Env wins. */
  extraEnv?: string[];
  /** The daemon's seccomp-profile and no-new-privileges defaults. */
  security?: Pick<DaemonConfig, 'seccompProfile' | 'customSeccomp' | 'noNewPrivileges'>;
  /** The daemon's userns-remap. */
  remap?: RemapConfig;
  /** The user namespace made with the network namespace (userns-remap on berth's networks). */
  usernsPath?: string;
}

export function buildSpecInput(c: ContainerRecord, ctx: SpecContext): ContainerSpecInput {
  const h = c.HostConfig;
  // Docker's process environment: PATH, HOSTNAME and TERM defaults that the config may override.
  const env = mergeEnv([DEFAULT_PATH_ENV, `HOSTNAME=${c.Config.Hostname}`, ...(c.Config.Tty ? ['TERM=xterm'] : []), ...(ctx.extraEnv ?? [])], c.Config.Env);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${ctx.user.home || '/'}`);
  const [height, width] = h.ConsoleSize ?? [0, 0];
  const devices = devicesOf(c);
  const caps = capabilitiesOf(c);
  const userns = usernsSpecOf(c, ctx.remap, ctx.resolveContainerPid, ctx.netnsPath ? ctx.usernsPath : undefined);
  const netMode = ctx.netnsPath ? { mode: 'path' as const, path: ctx.netnsPath } : h.NetworkMode === 'host' ? { mode: 'host' as const } : namespace(h.NetworkMode, ctx.resolveContainerPid, 'net');
  return {
    id: c.Id,
    rootfs: ctx.rootfs,
    readonlyRootfs: h.ReadonlyRootfs,
    hostname: c.Config.Hostname,
    domainname: c.Config.Domainname,
    process: {
      args: [c.Path, ...c.Args],
      env,
      cwd: c.Config.WorkingDir || '/',
      uid: ctx.user.uid,
      gid: ctx.user.gid,
      additionalGids: ctx.user.additionalGids,
      terminal: c.Config.Tty,
      ...(c.Config.Tty && height > 0 && width > 0 ? { consoleSize: { height, width } } : {}),
      noNewPrivileges: noNewPrivilegesOf(h.SecurityOpt, ctx.security?.noNewPrivileges),
      capabilities: caps,
      rlimits: (h.Ulimits ?? []).map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard })),
    },
    privileged: h.Privileged,
    namespaces: {
      network: netMode,
      ipc: namespace(h.IpcMode, ctx.resolveContainerPid, 'ipc'),
      pid: namespace(h.PidMode, ctx.resolveContainerPid, 'pid'),
      uts: h.UTSMode === 'host' ? { mode: 'host' } : { mode: 'private' },
    },
    mounts: ctx.mounts,
    resources: resourcesOf(c, ctx.swapLimitSupported),
    maskedPaths: h.Privileged ? [] : h.MaskedPaths ?? [...DEFAULT_MASKED_PATHS],
    readonlyPaths: h.Privileged ? [] : h.ReadonlyPaths ?? [...DEFAULT_READONLY_PATHS],
    cgroupsPath: `${ctx.cgroupParent}/${c.Id}`,
    shmSize: h.ShmSize,
    ...(h.Sysctls ? { sysctls: h.Sysctls } : {}),
    ...(h.Init ? { init: { hostPath: ctx.initPath } } : {}),
    ...(devices.devices.length > 0 ? { devices: devices.devices } : {}),
    ...(devices.rules.length > 0 ? { deviceRules: devices.rules } : {}),
    seccomp: seccompOf(c, caps, ctx.security ?? {}),
    ...(userns ? { userns } : {}),
  };
}
