// The flags shared by `run` and `create`, and their mapping to the create body,
// following what docker 28 sends (run-flow.md, containers.md).
import { Command } from 'commander';
import type { ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig } from '../client/types';
import { collect, StatusError } from './cli';
import {
  durationNs, memBytes, memSwapBytes, nanoCpus, normalizeCaps, normalizeEnv, parseExpose, parseKeyValueMap, parseLabels,
  parseMount, parsePublish, parseRestart, parseSecurityOpts, parseUlimit, readKvFile, PortSpec,
} from './opts';

export interface ContainerFlags {
  attach?: string[];
  addHost?: string[];
  capAdd?: string[];
  capDrop?: string[];
  cgroupns?: string;
  cgroupParent?: string;
  cidfile?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShares?: string;
  cpus?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  detach?: boolean;
  detachKeys?: string;
  device?: string[];
  dns?: string[];
  dnsOption?: string[];
  dnsSearch?: string[];
  domainname?: string;
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  expose?: string[];
  groupAdd?: string[];
  healthCmd?: string;
  healthInterval?: string;
  healthRetries?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  noHealthcheck?: boolean;
  hostname?: string;
  init?: boolean;
  interactive?: boolean;
  ip?: string;
  ip6?: string;
  ipc?: string;
  label?: string[];
  labelFile?: string[];
  link?: string[];
  logDriver?: string;
  logOpt?: string[];
  macAddress?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  memorySwappiness?: string;
  mount?: string[];
  name?: string;
  network?: string[];
  net?: string[];
  healthcheck?: boolean;
  networkAlias?: string[];
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  pid?: string;
  pidsLimit?: string;
  platform?: string;
  privileged?: boolean;
  publish?: string[];
  publishAll?: boolean;
  pull?: string;
  quiet?: boolean;
  readOnly?: boolean;
  restart?: string;
  rm?: boolean;
  runtime?: string;
  securityOpt?: string[];
  shmSize?: string;
  sigProxy?: boolean | string;
  stopSignal?: string;
  stopTimeout?: string;
  storageOpt?: string[];
  sysctl?: string[];
  tmpfs?: string[];
  tty?: boolean;
  ulimit?: string[];
  user?: string;
  userns?: string;
  uts?: string;
  volume?: string[];
  volumesFrom?: string[];
  workdir?: string;
}

export function addContainerFlags(cmd: Command, forRun: boolean): Command {
  const c = cmd;
  c.option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--cap-add <cap>', 'Add Linux capabilities', collect)
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect)
    .option('--cgroupns <mode>', 'Cgroup namespace to use (host|private)')
    .option('--cgroup-parent <string>', 'Optional parent cgroup for the container')
    .option('--cidfile <file>', 'Write the container ID to the file')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)');
  if (forRun) c.option('-d, --detach', 'Run container in background and print container ID');
  c.option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--device <list>', 'Add a host device to the container', collect)
    .option('--dns <list>', 'Set custom DNS servers', collect)
    .option('--dns-option <list>', 'Set DNS options', collect)
    .option('--dns-search <list>', 'Set custom DNS search domains', collect)
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <list>', 'Read in a file of environment variables', collect)
    .option('--expose <list>', 'Expose a port or a range of ports', collect)
    .option('--group-add <list>', 'Add additional groups to join', collect)
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)')
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)')
    .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)')
    .option('-h, --hostname <string>', 'Container host name')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--ipc <string>', 'IPC mode to use')
    .option('-l, --label <list>', 'Set meta data on a container', collect)
    .option('--label-file <list>', 'Read in a line delimited file of labels', collect)
    .option('--link <list>', 'Add link to another container', collect)
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--log-opt <list>', 'Log driver options', collect)
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)')
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect)
    .option('--name <string>', 'Assign a name to the container')
    .option('--network <network>', 'Connect a container to a network', collect)
    .option('--net <network>', 'Connect a container to a network', collect)
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--pid <string>', 'PID namespace to use')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--privileged', 'Give extended privileges to this container')
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--runtime <string>', 'Runtime to use for this container')
    .option('--security-opt <list>', 'Security Options', collect)
    .option('--shm-size <bytes>', 'Size of /dev/shm');
  if (forRun) c.option('--sig-proxy [bool]', 'Proxy received signals to the process', true);
  c.option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--storage-opt <list>', 'Storage driver options for the container', collect)
    .option('--sysctl <map>', 'Sysctl options', collect)
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--ulimit <ulimit>', 'Ulimit options', collect)
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--userns <string>', 'User namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('-v, --volume <list>', 'Bind mount a volume', collect)
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect)
    .option('-w, --workdir <string>', 'Working directory inside the container');
  return c;
}

export function emptyEndpoint(): EndpointSettings {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '',
    EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

function intFlag(flag: string, v: string | undefined, dflt = 0): number {
  if (v === undefined) return dflt;
  if (!/^[+-]?\d+$/.test(v.trim())) throw new StatusError(125, `invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return parseInt(v, 10);
}

export interface BuildContext {
  /** true for `run`, false for `create` */
  run: boolean;
  /** [height, width] of the terminal when a TTY is attached */
  consoleSize?: [number, number];
}

/** Build the POST /containers/create body from the flags, the image and the command. */
export function buildCreateBody(o: ContainerFlags, image: string, args: string[], ctx: BuildContext): ContainerCreateBody {
  const detached = !!(ctx.run && o.detach);
  if (detached && o.attach?.length) throw new StatusError(125, 'Conflicting options: -a and -d');
  if (detached && o.rm === undefined) { /* fine */ }
  let attachStdin = false, attachStdout = false, attachStderr = false;
  if (!detached) {
    if (o.attach && o.attach.length) {
      for (const a of o.attach) {
        const s = a.toLowerCase();
        if (s === 'stdin') attachStdin = true;
        else if (s === 'stdout') attachStdout = true;
        else if (s === 'stderr') attachStderr = true;
        else throw new StatusError(125, `invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
      }
    } else {
      attachStdout = true;
      attachStderr = true;
      attachStdin = !!o.interactive;
    }
  }
  const openStdin = !!o.interactive;
  const stdinOnce = openStdin && attachStdin;

  const env = [
    ...(o.envFile ?? []).flatMap((f) => readKvFile(f, true)),
    ...(o.env ?? []).map(normalizeEnv),
  ];
  const labels = parseLabels([...(o.labelFile ?? []).flatMap((f) => readKvFile(f, false)), ...(o.label ?? [])]);

  let entrypoint: string[] | null = null;
  if (o.entrypoint !== undefined) entrypoint = [o.entrypoint];

  const ports: PortSpec = { exposed: [], bindings: {} };
  parseExpose(o.expose ?? [], ports);
  parsePublish(o.publish ?? [], ports);

  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of o.volume ?? []) {
    // "-v /data" is an anonymous volume (Config.Volumes); anything with a source goes to Binds
    if (!v.includes(':')) volumes[v] = {};
    else binds.push(v);
  }

  const networks = [...(o.network ?? []), ...(o.net ?? [])];
  const networkMode = networks[0] ?? 'default';
  const endpoints: Record<string, EndpointSettings> = {};
  const specialNet = networkMode === 'none' || networkMode === 'host' || networkMode.startsWith('container:');
  if (!specialNet) {
    for (const n of networks.length ? networks : ['default']) endpoints[n] = emptyEndpoint();
    const first = endpoints[networkMode];
    if (first) {
      if (o.ip || o.ip6) first.IPAMConfig = { ...(o.ip ? { IPv4Address: o.ip } : {}), ...(o.ip6 ? { IPv6Address: o.ip6 } : {}) };
      if (o.networkAlias?.length) first.Aliases = [...o.networkAlias];
      if (o.link?.length) first.Links = [...o.link];
      if (o.macAddress) first.MacAddress = o.macAddress;
    }
  } else if (o.networkAlias?.length) {
    throw new StatusError(125, 'network-scoped aliases are only supported for user-defined networks');
  }

  let health: HealthConfig | undefined;
  const noHealth = o.healthcheck === false;
  const hasHealthOpts = o.healthCmd !== undefined || o.healthInterval || o.healthTimeout || o.healthStartPeriod || o.healthRetries || o.healthStartInterval;
  if (noHealth) {
    if (hasHealthOpts) throw new StatusError(125, '--no-healthcheck conflicts with --health-* options');
    health = { Test: ['NONE'] };
  } else if (hasHealthOpts) {
    health = {};
    if (o.healthCmd !== undefined) health.Test = ['CMD-SHELL', o.healthCmd];
    if (o.healthInterval) health.Interval = durationNs('--health-interval', o.healthInterval);
    if (o.healthTimeout) health.Timeout = durationNs('--health-timeout', o.healthTimeout);
    if (o.healthStartPeriod) health.StartPeriod = durationNs('--health-start-period', o.healthStartPeriod);
    if (o.healthStartInterval) health.StartInterval = durationNs('--health-start-interval', o.healthStartInterval);
    if (o.healthRetries) health.Retries = intFlag('--health-retries', o.healthRetries);
  }

  const tmpfs: Record<string, string> = {};
  for (const t of o.tmpfs ?? []) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }

  const logConfig = { Type: o.logDriver ?? '', Config: {} as Record<string, string> };
  for (const lo of o.logOpt ?? []) {
    const i = lo.indexOf('=');
    if (i <= 0) throw new StatusError(125, `invalid argument "${lo}" for "--log-opt" flag: invalid key-value: ${lo}`);
    logConfig.Config[lo.slice(0, i)] = lo.slice(i + 1);
  }
  logConfig.Config = Object.fromEntries(Object.keys(logConfig.Config).sort().map((k) => [k, logConfig.Config[k]]));

  const hc: HostConfig = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: o.cidfile ?? '',
    LogConfig: logConfig,
    NetworkMode: networkMode,
    PortBindings: ports.bindings,
    RestartPolicy: parseRestart(o.restart ?? 'no'),
    AutoRemove: !!o.rm,
    VolumeDriver: '',
    VolumesFrom: o.volumesFrom?.length ? o.volumesFrom : null,
    ConsoleSize: o.tty && ctx.consoleSize ? ctx.consoleSize : [0, 0],
    CapAdd: normalizeCaps(o.capAdd ?? []),
    CapDrop: normalizeCaps(o.capDrop ?? []),
    CgroupnsMode: o.cgroupns ?? '',
    Dns: o.dns ?? [],
    DnsOptions: o.dnsOption ?? [],
    DnsSearch: o.dnsSearch ?? [],
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    ExtraHosts: o.addHost?.length ? o.addHost : null,
    GroupAdd: o.groupAdd?.length ? o.groupAdd : null,
    IpcMode: o.ipc ?? '',
    Cgroup: '',
    Links: o.link?.length ? o.link : null,
    OomScoreAdj: intFlag('--oom-score-adj', o.oomScoreAdj),
    PidMode: o.pid ?? '',
    Privileged: !!o.privileged,
    PublishAllPorts: !!o.publishAll,
    ReadonlyRootfs: !!o.readOnly,
    SecurityOpt: parseSecurityOpts(o.securityOpt ?? []),
    ...(o.storageOpt?.length ? { StorageOpt: parseKeyValueMap('--storage-opt', o.storageOpt) } : {}),
    UTSMode: o.uts ?? '',
    UsernsMode: o.userns ?? '',
    ShmSize: o.shmSize ? memBytes('--shm-size', o.shmSize) : 0,
    ...(o.sysctl?.length ? { Sysctls: parseKeyValueMap('--sysctl', o.sysctl) } : {}),
    ...(o.runtime ? { Runtime: o.runtime } : {}),
    Isolation: '',
    CpuShares: intFlag('-c, --cpu-shares', o.cpuShares),
    Memory: o.memory ? memBytes('-m, --memory', o.memory) : 0,
    NanoCpus: o.cpus ? nanoCpus(o.cpus) : 0,
    ...(o.mount?.length ? { Mounts: o.mount.map(parseMount) as HostConfig['Mounts'] } : {}),
    CgroupParent: o.cgroupParent ?? '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: intFlag('--cpu-period', o.cpuPeriod),
    CpuQuota: intFlag('--cpu-quota', o.cpuQuota),
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: o.cpusetCpus ?? '',
    CpusetMems: o.cpusetMems ?? '',
    Devices: (o.device ?? []).map(parseDevice),
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: o.memoryReservation ? memBytes('--memory-reservation', o.memoryReservation) : 0,
    MemorySwap: o.memorySwap ? memSwapBytes('--memory-swap', o.memorySwap) : 0,
    MemorySwappiness: intFlag('--memory-swappiness', o.memorySwappiness, -1),
    OomKillDisable: !!o.oomKillDisable,
    PidsLimit: intFlag('--pids-limit', o.pidsLimit),
    Ulimits: (o.ulimit ?? []).map(parseUlimit),
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
    ...(o.init ? { Init: true } : {}),
  };

  const body: ContainerCreateBody = {
    Hostname: o.hostname ?? '',
    Domainname: o.domainname ?? '',
    User: o.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(ports.exposed.length ? { ExposedPorts: Object.fromEntries([...ports.exposed].sort().map((p) => [p, {}])) as Record<string, Record<string, never>> } : {}),
    Tty: !!o.tty,
    OpenStdin: openStdin,
    StdinOnce: stdinOnce,
    Env: env.length ? env : null,
    Cmd: args.length ? args : null,
    ...(health ? { Healthcheck: health } : {}),
    Image: image,
    Volumes: volumes,
    WorkingDir: o.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
    ...(o.stopSignal ? { StopSignal: o.stopSignal } : {}),
    ...(o.stopTimeout !== undefined ? { StopTimeout: intFlag('--stop-timeout', o.stopTimeout) } : {}),
    HostConfig: hc,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return body;
}

function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  const host = parts[0];
  let ctr = host;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1])) perms = parts[1];
    else ctr = parts[1];
  } else if (parts.length >= 3) {
    ctr = parts[1];
    perms = parts[2];
  }
  return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
}
