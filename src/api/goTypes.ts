// Type checks of request bodies as dockerd's Go JSON decoding makes them: a value of the wrong
// JSON kind for its Go field is a 400 "json: cannot unmarshal ..." before any handler sees it
// (an engine that trusts the shape must not meet a number where a list belongs). null decodes
// to the zero value in Go and is accepted; unknown fields are ignored, as Go does.
import { InvalidParameterError } from '../lib/errors';

export type GoType =
  | 'string' | 'bool' | 'int' | 'int64' | 'uint16' | 'uint' | 'uint64'
  /** strslice.StrSlice: a string or a list of strings */
  | 'strslice'
  | 'any'
  | { list: GoType } | { map: GoType } | { struct: Record<string, GoType>; name?: string };

const kindOf = (v: unknown): string =>
  typeof v === 'number' ? `number ${v}` : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : Array.isArray(v) ? 'array' : 'object';

function goName(t: GoType): string {
  if (typeof t === 'string') return t === 'strslice' ? 'strslice.StrSlice' : t === 'any' ? 'interface {}' : t;
  if ('list' in t) return `[]${goName(t.list)}`;
  if ('map' in t) return `map[string]${goName(t.map)}`;
  return t.name ?? 'struct';
}

const INT_RANGE: Record<string, [number, number]> = {
  int: [-(2 ** 63), 2 ** 63], int64: [-(2 ** 63), 2 ** 63], uint16: [0, 65536], uint: [0, 2 ** 64], uint64: [0, 2 ** 64],
};

/** Throws Docker's decoding error for the first value of `v` that `t` cannot hold. */
export function checkGoType(v: unknown, t: GoType, field: string): void {
  if (v === null || v === undefined) return;
  const fail = () => { throw new InvalidParameterError(`json: cannot unmarshal ${kindOf(v)} into Go struct field ${field} of type ${goName(t)}`); };
  if (typeof t === 'string') {
    switch (t) {
      case 'any': return;
      case 'string': if (typeof v !== 'string') fail(); return;
      case 'bool': if (typeof v !== 'boolean') fail(); return;
      case 'strslice':
        if (typeof v === 'string') return;
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && x !== null)) fail();
        return;
      default: {
        const [lo, hi] = INT_RANGE[t];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v >= hi) fail();
        return;
      }
    }
  }
  if ('list' in t) {
    if (!Array.isArray(v)) fail();
    (v as unknown[]).forEach((x) => checkGoType(x, t.list, field));
    return;
  }
  if (typeof v !== 'object' || Array.isArray(v)) fail();
  if ('map' in t) {
    for (const x of Object.values(v as object)) checkGoType(x, t.map, field);
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const ft = t.struct[k];
    if (ft) checkGoType(x, ft, `${field}.${k}`);
  }
}

// ---- the container create body (types.ContainerCreateConfig as 1.44 decodes it)

const S = 'string', B = 'bool', I64 = 'int64';
const strings: GoType = { list: S };
const strMap: GoType = { map: S };
const emptySet: GoType = { map: { struct: {}, name: 'struct {}' } };
const weightDevice: GoType = { list: { struct: { Path: S, Weight: 'uint16' }, name: 'blkiodev.WeightDevice' } };
const throttleDevice: GoType = { list: { struct: { Path: S, Rate: 'uint64' }, name: 'blkiodev.ThrottleDevice' } };

const HEALTH: GoType = { struct: { Test: strings, Interval: I64, Timeout: I64, StartPeriod: I64, StartInterval: I64, Retries: 'int' }, name: 'container.HealthConfig' };

const CONFIG_FIELDS: Record<string, GoType> = {
  Hostname: S, Domainname: S, User: S, AttachStdin: B, AttachStdout: B, AttachStderr: B, ExposedPorts: emptySet, Tty: B, OpenStdin: B,
  StdinOnce: B, Env: strings, Cmd: 'strslice', Healthcheck: HEALTH, ArgsEscaped: B, Image: S, Volumes: emptySet, WorkingDir: S,
  Entrypoint: 'strslice', NetworkDisabled: B, MacAddress: S, OnBuild: strings, Labels: strMap, StopSignal: S, StopTimeout: 'int', Shell: 'strslice',
};

const MOUNT: GoType = {
  struct: {
    Type: S, Source: S, Target: S, ReadOnly: B, Consistency: S,
    BindOptions: { struct: { Propagation: S, NonRecursive: B, CreateMountpoint: B, ReadOnlyNonRecursive: B, ReadOnlyForceRecursive: B } },
    VolumeOptions: { struct: { NoCopy: B, Labels: strMap, Subpath: S, DriverConfig: { struct: { Name: S, Options: strMap } } } },
    TmpfsOptions: { struct: { SizeBytes: I64, Mode: 'uint', Options: { list: strings } } },
  },
  name: 'mount.Mount',
};

export const HOST_CONFIG: GoType = {
  name: 'container.HostConfig',
  struct: {
    Binds: strings, ContainerIDFile: S, LogConfig: { struct: { Type: S, Config: strMap }, name: 'container.LogConfig' }, NetworkMode: S,
    PortBindings: { map: { list: { struct: { HostIp: S, HostPort: S }, name: 'nat.PortBinding' } } },
    RestartPolicy: { struct: { Name: S, MaximumRetryCount: 'int' }, name: 'container.RestartPolicy' }, AutoRemove: B, VolumeDriver: S,
    VolumesFrom: strings, ConsoleSize: { list: 'uint' }, Annotations: strMap, CapAdd: 'strslice', CapDrop: 'strslice', CgroupnsMode: S,
    Dns: strings, DnsOptions: strings, DnsSearch: strings, ExtraHosts: strings, GroupAdd: strings, IpcMode: S, Cgroup: S, Links: strings,
    OomScoreAdj: 'int', PidMode: S, Privileged: B, PublishAllPorts: B, ReadonlyRootfs: B, SecurityOpt: strings, StorageOpt: strMap,
    Tmpfs: strMap, UTSMode: S, UsernsMode: S, ShmSize: I64, Sysctls: strMap, Runtime: S, Isolation: S,
    CpuShares: I64, Memory: I64, NanoCpus: I64, CgroupParent: S, BlkioWeight: 'uint16', BlkioWeightDevice: weightDevice,
    BlkioDeviceReadBps: throttleDevice, BlkioDeviceWriteBps: throttleDevice, BlkioDeviceReadIOps: throttleDevice, BlkioDeviceWriteIOps: throttleDevice,
    CpuPeriod: I64, CpuQuota: I64, CpuRealtimePeriod: I64, CpuRealtimeRuntime: I64, CpusetCpus: S, CpusetMems: S,
    Devices: { list: { struct: { PathOnHost: S, PathInContainer: S, CgroupPermissions: S }, name: 'container.DeviceMapping' } },
    DeviceCgroupRules: strings,
    DeviceRequests: { list: { struct: { Driver: S, Count: 'int', DeviceIDs: strings, Capabilities: { list: strings }, Options: strMap }, name: 'container.DeviceRequest' } },
    KernelMemory: I64, KernelMemoryTCP: I64, MemoryReservation: I64, MemorySwap: I64, MemorySwappiness: I64, OomKillDisable: B, PidsLimit: I64,
    Ulimits: { list: { struct: { Name: S, Hard: I64, Soft: I64 }, name: 'units.Ulimit' } }, CpuCount: I64, CpuPercent: I64,
    IOMaximumIOps: 'uint64', IOMaximumBandwidth: 'uint64', Mounts: { list: MOUNT }, MaskedPaths: strings, ReadonlyPaths: strings, Init: B,
  },
};

const ENDPOINT: GoType = {
  name: 'network.EndpointSettings',
  struct: {
    IPAMConfig: { struct: { IPv4Address: S, IPv6Address: S, LinkLocalIPs: strings } }, Links: strings, Aliases: strings, MacAddress: S,
    DriverOpts: strMap, GwPriority: 'int', NetworkID: S, EndpointID: S, Gateway: S, IPAddress: S, IPPrefixLen: 'int', IPv6Gateway: S,
    GlobalIPv6Address: S, GlobalIPv6PrefixLen: 'int', DNSNames: strings,
  },
};

export const CREATE_BODY: GoType = {
  name: 'container.Config',
  struct: { ...CONFIG_FIELDS, HostConfig: HOST_CONFIG, NetworkingConfig: { struct: { EndpointsConfig: { map: ENDPOINT } }, name: 'network.NetworkingConfig' } },
};

/** The create body's types checked as dockerd's decoder checks them. */
export function checkCreateBody(body: unknown): void {
  checkGoType(body, CREATE_BODY, 'ContainerConfigWrapper');
}

/** POST /networks/{id}/connect and /disconnect bodies (NetworkConnectRequest, NetworkDisconnectRequest). */
export function checkNetworkConnectBody(body: unknown): void {
  checkGoType(body, { name: 'types.NetworkConnect', struct: { Container: 'string', EndpointConfig: ENDPOINT, Force: 'bool' } }, 'NetworkConnect');
}
