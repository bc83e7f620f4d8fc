// The fields of the create body (and of `docker update`) that berth does not apply yet, in one
// table each: a request that sets one of them to anything but what clients send when the user
// asked for nothing gets a 400 naming the field and the value, never a silent no-op. The issue
// that implements a field deletes its row (and the test walks whatever rows remain).
//
// Audited against the 1.44 spec (ContainerConfig, HostConfig, NetworkingConfig, Resources) and
// what createConfig.ts, spec.ts and runtime/spec.ts apply. Accepted because applied: Hostname,
// User, Attach*, Tty, OpenStdin, StdinOnce, Env, Cmd, Entrypoint, WorkingDir, Labels, Image,
// Healthcheck, StopSignal, StopTimeout; CpuShares, Memory, MemorySwap, MemoryReservation,
// MemorySwappiness, NanoCpus, CpuPeriod, CpuQuota, CpusetCpus, CpusetMems, BlkioWeight,
// OomKillDisable, PidsLimit, Ulimits, Init, LogConfig, NetworkMode, RestartPolicy, AutoRemove,
// ConsoleSize, CapAdd, CapDrop, Volumes, Binds, Mounts, Tmpfs, VolumesFrom (mountpoints.ts), Dns*, ExtraHosts (but host-gateway), GroupAdd, IpcMode (but none), PidMode,
// UTSMode, UsernsMode (usernsRemap.ts), Privileged, ReadonlyRootfs, ShmSize, Sysctls (runc writes them and refuses those
// outside the container's namespaces), Runtime, MaskedPaths, ReadonlyPaths, Devices, DeviceCgroupRules. Accepted because
// they are records, not actions, in Docker too: ExposedPorts (EXPOSE publishes nothing),
// ArgsEscaped, OnBuild, Shell, ContainerIDFile (the CLI writes that file), and the endpoint
// fields that are read-only output (NetworkID, EndpointID, Gateway, IPAddress, ...).
import { InvalidParameterError } from '../../lib/errors';
import { cgroupVersion } from '../../runtime/cgroups';
import { parseGoBool, splitSecurityOpt } from './securityOpt';

export interface UnsupportedField {
  /** Where the field is: top-level names are Config's, then `HostConfig.`, `NetworkingConfig.` (`*`: every key). */
  path: string;
  /** The part of the value berth would not apply; undefined when it applies all of it (a default asks for nothing). */
  unapplied: (value: unknown, req: Record<string, unknown>) => unknown;
  /** docker CLI flags that send such a value (the test runs each with `docker create`). */
  cli?: string[][];
  /** A value of the field that berth refuses, for API-level tests (clients without a flag for it). */
  example: unknown;
  /** Flags that set the field to values berth does apply: they must stay accepted. */
  accepted?: string[][];
  /** Which issue brings it. */
  comesWith: 'volumes' | 'networks' | 'security' | 'resources' | 'not planned';
}

/** Nothing asked for: absent, null, '', 0, false, an empty list or map. (A map's keys are requests.) */
export function isBlank(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** A struct of blank fields (IPAMConfig as the CLI sends it: `{"IPv4Address":"",...}`) asks for nothing. */
function isBlankStruct(v: unknown): boolean {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.values(v as object).every(isBlankStruct);
  return isBlank(v);
}

const unlessBlank = (v: unknown): unknown => (isBlank(v) ? undefined : v);

/** The elements of a list that `applied` does not accept. */
const elementsNot = (applied: (s: string) => boolean) => (v: unknown): unknown => {
  if (!Array.isArray(v)) return unlessBlank(v);
  const bad = v.filter((s) => typeof s !== 'string' || !applied(s));
  return bad.length ? bad : undefined;
};

/** Values other than those listed (and blank). */
const valuesOtherThan = (...ok: string[]) => (v: unknown): unknown => (isBlank(v) || ok.includes(v as string) ? undefined : v);

/**
 * Security options berth applies: no-new-privileges, seccomp (any profile, runtime/seccomp.ts),
 * and apparmor= and label=, which Docker itself ignores on a host without AppArmor or SELinux
 * (as this one is: `docker info` lists neither). writable-cgroups=true is not done.
 */
function securityOptApplied(opt: string): boolean {
  const [k, v] = splitSecurityOpt(opt);
  // Unknown options are not this table's business: validateSecurityOpt calls them invalid.
  if (k === 'writable-cgroups') return v !== undefined && parseGoBool(v) === false;
  return true;
}

/** What berth does with the cgroup namespace: a private one on cgroup v2, the host's on v1. */
function cgroupnsModeApplied(): string {
  return cgroupVersion() === 2 ? 'private' : 'host';
}

/** IPAMConfig fields other than IPv4Address (--ip), which the network attachment applies. */
function ipamOtherThanAddresses(v: unknown): unknown {
  if (!v || typeof v !== 'object') return undefined;
  const rest = Object.entries(v as Record<string, unknown>).filter(([k, x]) => k !== 'IPv4Address' && k !== 'IPv6Address' && !isBlankStruct(x));
  return rest.length ? Object.fromEntries(rest) : undefined;
}

export const UNSUPPORTED_CREATE_FIELDS: UnsupportedField[] = [
  // ---- volumes and mounts
  // Only the local driver exists: naming it asks for what berth does.
  { path: 'HostConfig.VolumeDriver', unapplied: valuesOtherThan('local'), cli: [['--volume-driver', 'nfsplugin']], accepted: [['--volume-driver', 'local']], example: 'nfsplugin', comesWith: 'volumes' },
  { path: 'HostConfig.StorageOpt', unapplied: unlessBlank, cli: [['--storage-opt', 'size=1G']], example: { size: '1G' }, comesWith: 'not planned' },

  // ---- networks and ports
  { path: 'NetworkDisabled', unapplied: unlessBlank, example: true, comesWith: 'networks' },
  // IPv4Address (--ip) and IPv6Address (--ip6) are applied; link-local addresses are not.
  { path: 'NetworkingConfig.EndpointsConfig.*.IPAMConfig', unapplied: ipamOtherThanAddresses, cli: [['--link-local-ip', '169.254.1.1']], example: { LinkLocalIPs: ['169.254.1.1'] }, comesWith: 'networks' },
  { path: 'NetworkingConfig.EndpointsConfig.*.DriverOpts', unapplied: unlessBlank, example: { 'com.docker.network.endpoint.sysctls': 'x' }, comesWith: 'networks' },
  { path: 'NetworkingConfig.EndpointsConfig.*.DNSNames', unapplied: unlessBlank, example: ['a1'], comesWith: 'networks' },
  { path: 'NetworkingConfig.EndpointsConfig.*.GwPriority', unapplied: unlessBlank, example: 10, comesWith: 'networks' },

  // ---- security
  {
    path: 'HostConfig.SecurityOpt', unapplied: elementsNot(securityOptApplied),
    cli: [['--security-opt', 'writable-cgroups=true']],
    // The CLI turns systempaths=unconfined into empty MaskedPaths and ReadonlyPaths, which berth applies.
    accepted: [['--security-opt', 'no-new-privileges'], ['--security-opt', 'no-new-privileges=true'], ['--security-opt', 'no-new-privileges=false'],
      ['--security-opt', 'label=disable'], ['--security-opt', 'label=type:svirt_apache_t'], ['--security-opt', 'seccomp=unconfined'],
      ['--security-opt', 'seccomp=builtin'], ['--security-opt', 'apparmor=unconfined'], ['--security-opt', 'apparmor=docker-default'],
      ['--security-opt', 'systempaths=unconfined']],
    example: ['writable-cgroups=true'], comesWith: 'security',
  },
  {
    path: 'HostConfig.CgroupnsMode', unapplied: (v) => valuesOtherThan(cgroupnsModeApplied())(v),
    cli: [['--cgroupns', cgroupVersion() === 2 ? 'host' : 'private']], accepted: [['--cgroupns', cgroupnsModeApplied()]],
    example: cgroupVersion() === 2 ? 'host' : 'private', comesWith: 'security',
  },
  { path: 'HostConfig.IpcMode', unapplied: (v) => (typeof v === 'string' && v.startsWith('container:') ? undefined : valuesOtherThan('private', 'shareable', 'host')(v)), cli: [['--ipc', 'none']], accepted: [['--ipc', 'private'], ['--ipc', 'shareable'], ['--ipc', 'host']], example: 'none', comesWith: 'security' },
  { path: 'HostConfig.OomScoreAdj', unapplied: unlessBlank, cli: [['--oom-score-adj', '100']], example: 100, comesWith: 'security' },
  { path: 'HostConfig.Annotations', unapplied: unlessBlank, cli: [['--annotation', 'a=b']], example: { a: 'b' }, comesWith: 'security' },

  // ---- devices and resources
  { path: 'HostConfig.DeviceRequests', unapplied: unlessBlank, cli: [['--gpus', 'all']], example: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }], comesWith: 'not planned' },
  { path: 'HostConfig.CgroupParent', unapplied: unlessBlank, cli: [['--cgroup-parent', '/custom']], example: '/custom', comesWith: 'resources' },
  { path: 'HostConfig.Cgroup', unapplied: unlessBlank, example: 'container:other', comesWith: 'resources' },
  { path: 'HostConfig.BlkioWeightDevice', unapplied: unlessBlank, cli: [['--blkio-weight-device', '/dev/sda:100']], example: [{ Path: '/dev/sda', Weight: 100 }], comesWith: 'resources' },
  { path: 'HostConfig.BlkioDeviceReadBps', unapplied: unlessBlank, cli: [['--device-read-bps', '/dev/sda:1mb']], example: [{ Path: '/dev/sda', Rate: 1048576 }], comesWith: 'resources' },
  { path: 'HostConfig.BlkioDeviceWriteBps', unapplied: unlessBlank, cli: [['--device-write-bps', '/dev/sda:1mb']], example: [{ Path: '/dev/sda', Rate: 1048576 }], comesWith: 'resources' },
  { path: 'HostConfig.BlkioDeviceReadIOps', unapplied: unlessBlank, cli: [['--device-read-iops', '/dev/sda:100']], example: [{ Path: '/dev/sda', Rate: 100 }], comesWith: 'resources' },
  { path: 'HostConfig.BlkioDeviceWriteIOps', unapplied: unlessBlank, cli: [['--device-write-iops', '/dev/sda:100']], example: [{ Path: '/dev/sda', Rate: 100 }], comesWith: 'resources' },
  { path: 'HostConfig.CpuRealtimePeriod', unapplied: unlessBlank, cli: [['--cpu-rt-period', '1000000']], example: 1000000, comesWith: 'resources' },
  { path: 'HostConfig.CpuRealtimeRuntime', unapplied: unlessBlank, cli: [['--cpu-rt-runtime', '950000']], example: 950000, comesWith: 'resources' },
  // CLI 28 drops --kernel-memory from create bodies at API >= 1.42 (its own deprecation).
  { path: 'HostConfig.KernelMemory', unapplied: unlessBlank, example: 10485760, comesWith: 'not planned' },
  { path: 'HostConfig.KernelMemoryTCP', unapplied: unlessBlank, example: 10485760, comesWith: 'not planned' },
  // Windows only: the CLI refuses the flags against a Linux daemon, other clients may send them.
  { path: 'HostConfig.CpuCount', unapplied: unlessBlank, example: 1, comesWith: 'not planned' },
  { path: 'HostConfig.CpuPercent', unapplied: unlessBlank, example: 50, comesWith: 'not planned' },
  { path: 'HostConfig.IOMaximumIOps', unapplied: unlessBlank, example: 100, comesWith: 'not planned' },
  { path: 'HostConfig.IOMaximumBandwidth', unapplied: unlessBlank, example: 1048576, comesWith: 'not planned' },
  { path: 'HostConfig.Isolation', unapplied: valuesOtherThan('default'), cli: [['--isolation', 'hyperv']], accepted: [['--isolation', 'default']], example: 'hyperv', comesWith: 'not planned' },
];

/** `POST /containers/{id}/update`: Resources fields that update.ts does not apply (its own table). */
export const UNSUPPORTED_UPDATE_FIELDS: UnsupportedField[] = [
  { path: 'CpuRealtimePeriod', unapplied: unlessBlank, cli: [['--cpu-rt-period', '1000000']], example: 1000000, comesWith: 'resources' },
  { path: 'CpuRealtimeRuntime', unapplied: unlessBlank, cli: [['--cpu-rt-runtime', '950000']], example: 950000, comesWith: 'resources' },
  { path: 'KernelMemory', unapplied: unlessBlank, cli: [['--kernel-memory', '10m']], example: 10485760, comesWith: 'not planned' },
  { path: 'KernelMemoryTCP', unapplied: unlessBlank, example: 10485760, comesWith: 'not planned' },
  { path: 'CgroupParent', unapplied: unlessBlank, example: '/custom', comesWith: 'resources' },
  { path: 'BlkioWeightDevice', unapplied: unlessBlank, example: [{ Path: '/dev/sda', Weight: 100 }], comesWith: 'resources' },
  { path: 'BlkioDeviceReadBps', unapplied: unlessBlank, example: [{ Path: '/dev/sda', Rate: 1048576 }], comesWith: 'resources' },
  { path: 'BlkioDeviceWriteBps', unapplied: unlessBlank, example: [{ Path: '/dev/sda', Rate: 1048576 }], comesWith: 'resources' },
  { path: 'BlkioDeviceReadIOps', unapplied: unlessBlank, example: [{ Path: '/dev/sda', Rate: 100 }], comesWith: 'resources' },
  { path: 'BlkioDeviceWriteIOps', unapplied: unlessBlank, example: [{ Path: '/dev/sda', Rate: 100 }], comesWith: 'resources' },
  { path: 'Devices', unapplied: unlessBlank, example: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rwm' }], comesWith: 'resources' },
  { path: 'DeviceCgroupRules', unapplied: unlessBlank, example: ['c 1:3 rwm'], comesWith: 'resources' },
  { path: 'DeviceRequests', unapplied: unlessBlank, example: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }], comesWith: 'not planned' },
  { path: 'MemorySwappiness', unapplied: (v) => (v === -1 ? undefined : unlessBlank(v)), example: 10, comesWith: 'resources' },
  { path: 'OomKillDisable', unapplied: unlessBlank, example: true, comesWith: 'resources' },
  { path: 'Init', unapplied: unlessBlank, example: true, comesWith: 'not planned' },
  { path: 'Ulimits', unapplied: unlessBlank, example: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], comesWith: 'resources' },
  { path: 'CpuCount', unapplied: unlessBlank, example: 1, comesWith: 'not planned' },
  { path: 'CpuPercent', unapplied: unlessBlank, example: 50, comesWith: 'not planned' },
  { path: 'IOMaximumIOps', unapplied: unlessBlank, example: 100, comesWith: 'not planned' },
  { path: 'IOMaximumBandwidth', unapplied: unlessBlank, example: 1048576, comesWith: 'not planned' },
];

/** A path's segments, split once per table row (every create checks the whole table). */
const segmentsOf = new Map<string, string[]>();

/** Every value at `path` in the body, with the concrete path (`*` expanded over object keys). */
export function valuesAt(body: Record<string, unknown>, path: string): { path: string; value: unknown }[] {
  let segs = segmentsOf.get(path);
  if (!segs) segmentsOf.set(path, segs = path.split('.'));
  if (!path.includes('*')) {
    // The common row: one place to look, no copies of the path on the way.
    let v: unknown = body;
    for (const seg of segs) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
      v = (v as Record<string, unknown>)[seg];
    }
    return [{ path, value: v }];
  }
  let found: { path: string[]; value: unknown }[] = [{ path: [], value: body }];
  for (const seg of segs) {
    const next: { path: string[]; value: unknown }[] = [];
    for (const f of found) {
      if (!f.value || typeof f.value !== 'object' || Array.isArray(f.value)) continue;
      const obj = f.value as Record<string, unknown>;
      for (const k of seg === '*' ? Object.keys(obj) : [seg]) next.push({ path: [...f.path, k], value: obj[k] });
    }
    found = next;
  }
  return found.map((f) => ({ path: f.path.join('.'), value: f.value }));
}

/** The first field of `body` that a table refuses, with the part of its value berth would not apply. */
export function firstUnsupported(table: UnsupportedField[], body: Record<string, unknown>): { field: UnsupportedField; path: string; value: unknown } | undefined {
  for (const field of table) {
    for (const at of valuesAt(body, field.path)) {
      const value = field.unapplied(at.value, body);
      if (value !== undefined) return { field, path: at.path, value };
    }
  }
  return undefined;
}

/** The message of the 400: the field and the value berth would not apply. */
export function unsupportedMessage(path: string, value: unknown): string {
  return `berth does not support ${path} yet (got ${JSON.stringify(value)})`;
}

/** Throws the 400 for the first refused field of `body`. */
export function rejectUnsupported(table: UnsupportedField[], body: Record<string, unknown>): void {
  const hit = firstUnsupported(table, body);
  if (hit) throw new InvalidParameterError(unsupportedMessage(hit.path, hit.value));
}
