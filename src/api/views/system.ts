// The JSON shapes of `GET /info`, `GET /version` and `GET /system/df`, as Docker's, from the
// engine's facts. Fixed answers of a daemon without swarm, plugins or registries configured
// are here too: they are what the wire says, not what the engine knows.
import { volumeView } from './volumes';
import type { DiskUsage } from '../../engine/system/df';
import type { SystemFacts, VersionFacts } from '../../engine/system/info';
import { containerSummaryView } from './containers';
import { imageSummaryFor } from './images';
import { InsecureRegistries } from '../../distribution/transport';

/** `GET /info`. */
export function infoView(f: SystemFacts, serverVersion: string): Record<string, unknown> {
  const config = f.config;
  // As Docker: warnings are lines the CLI prints at the end of `docker info`.
  const warnings = [...(f.swapLimit ? [] : ['WARNING: No swap limit support']), ...f.quarantineWarnings, ...f.runtimeWarnings];
  return {
    ID: f.id,
    Containers: f.counts.containers,
    ContainersRunning: f.counts.running,
    ContainersPaused: f.counts.paused,
    ContainersStopped: f.counts.stopped,
    Images: f.counts.images,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file', 'local', 'none'] },
    MemoryLimit: true,
    SwapLimit: f.swapLimit,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: f.ipv4Forwarding,
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: f.openFds,
    OomKillDisable: f.cgroupVersion === 1,
    NGoroutines: 0,
    SystemTime: f.systemTime,
    LoggingDriver: config.logDriver,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: String(f.cgroupVersion),
    NEventsListener: f.eventListeners,
    KernelVersion: f.os.kernel,
    OperatingSystem: f.os.name,
    OSVersion: f.os.version,
    OSType: 'linux',
    Architecture: f.os.architecture,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: registryConfigView(config),
    NCPU: f.cpus,
    MemTotal: f.memTotal,
    GenericResources: null,
    DockerRootDir: config.dataRoot,
    HttpProxy: f.proxies.http,
    HttpsProxy: f.proxies.https,
    NoProxy: f.proxies.no,
    Name: f.os.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: serverVersion,
    Runtimes: Object.fromEntries(Object.entries(config.runtimes).map(([k, v]) => [k, { path: v.path, ...(v.args?.length ? { runtimeArgs: v.args } : {}) }])),
    DefaultRuntime: config.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: config.liveRestore,
    Isolation: '',
    InitBinary: config.initPath,
    ContainerdCommit: { ID: f.components.conmon ? `conmon ${f.components.conmon}` : '', Expected: '' },
    RuncCommit: { ID: f.components.runc, Expected: '' },
    InitCommit: { ID: f.components.init, Expected: '' },
    // No AppArmor and no SELinux here: neither is listed (Docker lists only what it applies).
    SecurityOptions: [
      `name=seccomp,profile=${config.seccompProfile ?? 'builtin'}`,
      ...(f.cgroupVersion === 2 ? ['name=cgroupns'] : []), ...(config.noNewPrivileges ? ['name=no-new-privileges'] : []),
      ...(config.remap ? ['name=userns'] : []),
    ],
    CDISpecDirs: [],
    Warnings: warnings.length ? warnings : null,
  };
}

/** `GET /version`. */
export function versionView(f: VersionFacts, serverVersion: string, apiVersion: string, minApiVersion: string): Record<string, unknown> {
  const v = f.components;
  const details = {
    ApiVersion: apiVersion, Arch: f.arch === 'x64' ? 'amd64' : f.arch, BuildTime: '', Experimental: 'false',
    GitCommit: '', GoVersion: `node ${f.node}`, KernelVersion: f.kernel, MinAPIVersion: minApiVersion, Os: 'linux',
  };
  return {
    Platform: { Name: 'berth' },
    Components: [
      { Name: 'Engine', Version: serverVersion, Details: details },
      { Name: 'conmon', Version: v.conmon, Details: { GitCommit: '' } },
      // as dockerd: the default runtime, by its name
      { Name: v.runtime, Version: v.runc, Details: { GitCommit: '' } },
      { Name: 'docker-init', Version: v.init, Details: { GitCommit: '' } },
    ],
    Version: serverVersion,
    ApiVersion: apiVersion,
    MinAPIVersion: minApiVersion,
    GitCommit: '',
    GoVersion: details.GoVersion,
    Os: 'linux',
    Arch: details.Arch,
    KernelVersion: f.kernel,
    BuildTime: '',
  };
}

/** `GET /system/df` for the request's API version: only the types asked for appear. */
export function diskUsageView(apiVersion: string, du: DiskUsage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (du.layersSize !== undefined) out.LayersSize = du.layersSize;
  if (du.images) out.Images = du.images.map((s) => imageSummaryFor(apiVersion, s));
  if (du.containers) out.Containers = du.containers.map(containerSummaryView);
  if (du.volumes) out.Volumes = du.volumes.map((v) => volumeView(v.volume, v.mountpoint, v.usage));
  if (du.buildCache) out.BuildCache = du.buildCache;
  return out;
}

/** docker info's RegistryConfig from daemon.json's insecure-registries and registry-mirrors, as dockerd shows them. */
export function registryConfigView(config: { insecureRegistries?: string[]; registryMirrors?: string[] }): Record<string, unknown> {
  const insecure = new InsecureRegistries(config.insecureRegistries ?? []);
  const mirrors = (config.registryMirrors ?? []).map((m) => (m.endsWith('/') ? m : m + '/'));
  const IndexConfigs: Record<string, unknown> = {
    'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true },
  };
  for (const h of insecure.hosts) IndexConfigs[h] = { Name: h, Mirrors: [], Secure: false, Official: false };
  return {
    AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [],
    InsecureRegistryCIDRs: insecure.cidrs, IndexConfigs, Mirrors: mirrors,
  };
}
