// ContainerSpecInput -> OCI runtime config (config.json), with Docker's defaults.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerSpecInput, DeviceRule, MountSpec, NamespaceMode, OciIdMapping, RuntimeProcess } from './types';
import { DEFAULT_DEVICE_RULES, DEFAULT_SHM_SIZE, HOST_CAPABILITIES, ALL_CAPABILITIES } from './defaults';
import { cgroupVersion, swapLimitSupported } from './cgroups';
import type { OciSeccomp } from './seccomp';
import { SECCOMP_BPF_ANNOTATION } from './seccompBpf';

// A minimal typing of the OCI runtime spec (1.0.2) as far as we write it.
export interface OciMount { destination: string; type?: string; source?: string; options?: string[] }
export interface OciRlimit { type: string; soft: number | bigint; hard: number | bigint }
export interface OciDevice { path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
export interface OciDeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access?: string }
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits?: OciRlimit[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    devices?: OciDevice[];
    resources: {
      devices: OciDeviceRule[];
      memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
      cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
      pids?: { limit: number };
      blockIO?: { weight: number };
    };
    cgroupsPath?: string;
    sysctl?: Record<string, string>;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    rootfsPropagation?: string;
    seccomp?: OciSeccomp;
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
  };
}

const U64_MAX = 18446744073709551615n;

/** config.json (or process.json) text; bigint values (e.g. RLIM_INFINITY) are written as exact JSON integers. */
export function serializeSpec(spec: OciSpec | OciSpec['process']): string {
  const marker = '\u0000u64:';
  const json = JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v));
  return json.replace(/"\\u0000u64:(\d+)"/g, '$1');
}

// ---- host rlimits -------------------------------------------------------------------------

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

let hostHard: Map<string, bigint> | undefined;

/** The hard limits of this process (RLIM_INFINITY as 2^64-1), from /proc/self/limits. */
export function hostHardLimits(): Map<string, bigint> {
  if (hostHard) return hostHard;
  const m = new Map<string, bigint>();
  try {
    for (const line of fs.readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
      const name = Object.keys(LIMIT_NAMES).find((n) => line.startsWith(n + ' '));
      if (!name) continue;
      const fields = line.slice(name.length).trim().split(/\s+/);
      const hard = fields[1];
      m.set(LIMIT_NAMES[name], hard === 'unlimited' ? U64_MAX : BigInt(hard));
    }
  } catch { /* no /proc: no clamping */ }
  hostHard = m;
  return m;
}

function toU64(v: number): bigint {
  if (!Number.isFinite(v) || v < 0) return U64_MAX; // -1 / Infinity: unlimited
  const b = BigInt(Math.floor(v));
  return b > U64_MAX ? U64_MAX : b;
}

function jsonU64(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Clamps each rlimit to the host's hard limit (the runtime cannot raise it without CAP_SYS_RESOURCE). */
export function clampRlimits(rlimits: { type: string; soft: number; hard: number }[]): OciRlimit[] {
  const host = hostHardLimits();
  const out: OciRlimit[] = [];
  const seen = new Set<string>();
  for (const r of rlimits) {
    const type = r.type.toUpperCase().startsWith('RLIMIT_') ? r.type.toUpperCase() : 'RLIMIT_' + r.type.toUpperCase();
    if (seen.has(type)) continue;
    seen.add(type);
    let hard = toU64(r.hard);
    let soft = toU64(r.soft);
    const max = host.get(type);
    if (max !== undefined && hard > max) hard = max;
    if (soft > hard) soft = hard;
    out.push({ type, soft: jsonU64(soft), hard: jsonU64(hard) });
  }
  return out;
}

// ---- devices ------------------------------------------------------------------------------

function devMajor(rdev: bigint): number { return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)); }
function devMinor(rdev: bigint): number { return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)); }

const SKIP_DEV = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** All device nodes of the host's /dev (for --privileged), as runc's HostDevices. */
export function hostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (SKIP_DEV.has(e.name)) continue;
      out.push(...hostDevices(p));
      continue;
    }
    if (p === '/dev/console' || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
    try {
      const st = fs.lstatSync(p, { bigint: true });
      out.push({
        path: p, type: e.isCharacterDevice() ? 'c' : 'b', major: devMajor(st.rdev), minor: devMinor(st.rdev),
        fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid),
      });
    } catch { /* vanished */ }
  }
  return out;
}

function deviceRule(d: DeviceRule): OciDeviceRule {
  const out: OciDeviceRule = { allow: d.allow, access: d.access };
  if (d.type) out.type = d.type;
  if (d.major !== undefined) out.major = d.major;
  if (d.minor !== undefined) out.minor = d.minor;
  return out;
}

// ---- the spec -----------------------------------------------------------------------------

function namespace(type: string, mode: NamespaceMode): { type: string; path?: string } | undefined {
  switch (mode.mode) {
    case 'private': return { type };
    case 'host': return undefined;
    case 'path': return { type, path: mode.path };
  }
}

function defaultMounts(input: ContainerSpecInput): OciMount[] {
  const shm = input.shmSize > 0 ? input.shmSize : DEFAULT_SHM_SIZE;
  const sysRo = input.privileged ? [] : ['ro'];
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...sysRo] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', ...sysRo] },
  ];
  if (input.namespaces.ipc.mode === 'host') {
    mounts.push({ destination: '/dev/mqueue', type: 'bind', source: '/dev/mqueue', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
    mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  } else {
    mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
    mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] });
  }
  return mounts;
}

function userMount(m: MountSpec): OciMount {
  return { destination: m.destination, type: m.type, source: m.source, options: [...m.options] };
}

function resources(input: ContainerSpecInput): OciSpec['linux']['resources'] {
  const r = input.resources;
  const out: OciSpec['linux']['resources'] = {
    devices: input.privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((d) => ({ ...d })),
  };
  // --device and --device-cgroup-rule come after the defaults: the last matching rule wins
  if (!input.privileged) for (const d of input.deviceRules ?? []) out.devices.push(deviceRule(d));
  const mem: NonNullable<OciSpec['linux']['resources']['memory']> = {};
  if (r.memory && r.memory > 0) mem.limit = r.memory;
  if (r.memoryReservation && r.memoryReservation > 0) mem.reservation = r.memoryReservation;
  if (r.memorySwap !== undefined && r.memorySwap !== 0 && swapLimitSupported()) mem.swap = r.memorySwap;
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0 && r.memorySwappiness <= 100 && cgroupVersion() === 1) {
    mem.swappiness = r.memorySwappiness;
  }
  if (r.oomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length > 0) out.memory = mem;
  const cpu: NonNullable<OciSpec['linux']['resources']['cpu']> = {};
  if (r.cpuShares && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.cpuQuota && r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight && r.blkioWeight > 0) out.blockIO = { weight: r.blkioWeight };
  return out;
}

/**
 * The OCI `process` object, the same for a container's config.json and for an exec's
 * `runc exec --process` file.
 */
export function processSpec(p: RuntimeProcess): OciSpec['process'] {
  // Never ask for a capability this daemon does not hold: the runtime would fail.
  const caps = [...new Set(p.capabilities.map((c) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : 'CAP_' + c.toUpperCase())))]
    .filter((c) => HOST_CAPABILITIES.has(c));
  const out: OciSpec['process'] = {
    terminal: p.terminal,
    user: { uid: p.uid, gid: p.gid, ...(p.additionalGids.length > 0 ? { additionalGids: [...p.additionalGids] } : {}) },
    args: [...p.args],
    env: [...p.env],
    cwd: p.cwd || '/',
    capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
    noNewPrivileges: p.noNewPrivileges,
  };
  // a 0x0 size (the client did not send one) is left to the runtime's default
  if (p.terminal && p.consoleSize && p.consoleSize.height > 0 && p.consoleSize.width > 0) {
    out.consoleSize = { height: p.consoleSize.height, width: p.consoleSize.width };
  }
  if (p.rlimits.length > 0) out.rlimits = clampRlimits(p.rlimits);
  return out;
}

/** Builds the OCI runtime config for a container, Docker-like. */
export function buildSpec(input: ContainerSpecInput): OciSpec {
  const p = input.process;
  let args = [...p.args];
  const userMounts = input.mounts.map(userMount);
  if (input.init) {
    args = ['/sbin/docker-init', '--', ...args];
    userMounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.init.hostPath, options: ['bind', 'ro'] });
  }
  const userDest = new Set(userMounts.map((m) => path.posix.normalize(m.destination)));
  const mounts = [...defaultMounts(input).filter((m) => !userDest.has(m.destination)), ...userMounts];

  const namespaces = [{ type: 'mount' }];
  for (const [type, mode] of [
    ['network', input.namespaces.network], ['pid', input.namespaces.pid], ['ipc', input.namespaces.ipc], ['uts', input.namespaces.uts],
  ] as const) {
    const ns = namespace(type, mode);
    if (ns) namespaces.push(ns);
  }
  if (cgroupVersion() === 2) namespaces.push({ type: 'cgroup' });

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: processSpec({ ...p, args, capabilities: input.privileged ? [...ALL_CAPABILITIES] : p.capabilities }),
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    mounts,
    linux: {
      namespaces,
      resources: resources(input),
      cgroupsPath: input.cgroupsPath,
      maskedPaths: input.privileged ? [] : [...input.maskedPaths],
      readonlyPaths: input.privileged ? [] : [...input.readonlyPaths],
    },
  };
  // Docker sets the UTS hostname only when the container has its own UTS namespace.
  if (input.hostname && input.namespaces.uts.mode !== 'host') spec.hostname = input.hostname;
  if (input.sysctls && Object.keys(input.sysctls).length > 0) spec.linux.sysctl = { ...input.sysctls };
  // The NIS domain name as Docker sets it: runc 1.1 ignores the spec's `domainname`; this sysctl
  // has the effect of setdomainname(2) in the container's UTS namespace.
  if (input.domainname && input.namespaces.uts.mode !== 'host') spec.linux.sysctl = { 'kernel.domainname': input.domainname, ...spec.linux.sysctl };
  const devices = [...(input.privileged ? hostDevices() : []), ...(input.devices ?? [])];
  if (devices.length > 0) {
    // one node per path: a --device given for a path of the host's /dev replaces the host's
    const byPath = new Map(devices.map((d) => [d.path, d]));
    spec.linux.devices = [...byPath.values()];
  }
  // As Docker: a shared bind needs a shared root to propagate through (runc's default is rslave).
  if (userMounts.some((m) => m.options?.includes('shared') || m.options?.includes('rshared'))) spec.linux.rootfsPropagation = 'rshared';
  // and a slave bind a slave root (Docker's rslave; crun's default root is private, runc's rslave)
  else if (userMounts.some((m) => m.options?.includes('slave') || m.options?.includes('rslave'))) spec.linux.rootfsPropagation = 'rslave';
  // ---- seccomp (issue 19): resolved by the engine; privileged containers run without one.
  if (input.seccomp && !input.privileged) {
    spec.linux.seccomp = input.seccomp;
    // crun installs this program instead of compiling linux.seccomp (seccompBpf.ts)
    if (input.seccompBpf) spec.annotations = { [SECCOMP_BPF_ANNOTATION]: input.seccompBpf };
  }
  // ---- user namespace (userns-remap): runc makes it first, the other namespaces are its own.
  if (input.userns) {
    spec.linux.namespaces.push({ type: 'user', ...(input.userns.path ? { path: input.userns.path } : {}) });
    spec.linux.uidMappings = input.userns.uidMappings.map((m) => ({ ...m }));
    spec.linux.gidMappings = input.userns.gidMappings.map((m) => ({ ...m }));
  }
  return spec;
}
