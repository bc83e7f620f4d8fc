// `docker info` and `docker version`: real figures from this host and this daemon.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { promisify } from 'node:util';
import { quarantineAt } from '../../lib/quarantine';
import { cgroupVersion, swapLimitSupported } from '../../runtime/cgroups';
import type { DaemonConfig } from '../config';

const run = promisify(execFile);

export interface Counts { containers: number; running: number; paused: number; stopped: number; images: number }

function osRelease(): { name: string; version: string } {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(text)?.[1] ?? '';
    return { name: get('PRETTY_NAME') || 'Linux', version: get('VERSION_ID') };
  } catch {
    return { name: 'Linux', version: '' };
  }
}

async function toolVersion(bin: string): Promise<string> {
  try {
    const { stdout } = await run(bin, ['--version'], { timeout: 2000 });
    const m = /version\s+(\S+)/i.exec(stdout);
    return m ? m[1] : '';
  } catch {
    return '';
  }
}

let cachedVersions: Promise<{ runc: string; conmon: string; init: string }> | undefined;

export function componentVersions(config: DaemonConfig): Promise<{ runc: string; conmon: string; init: string }> {
  cachedVersions ??= (async () => {
    const rt = config.runtimes[config.defaultRuntime];
    const [runc, conmon, init] = await Promise.all([toolVersion(rt.path), toolVersion(config.conmonPath), toolVersion(config.initPath)]);
    return { runc, conmon, init };
  })();
  return cachedVersions;
}

function hostId(dataRoot: string): string {
  const file = `${dataRoot}/engine-id`;
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = crypto.randomUUID();
    try { fs.writeFileSync(file, id + '\n', { mode: 0o600 }); } catch { /* read-only root: a fresh id is fine */ }
    return id;
  }
}

export async function systemInfo(config: DaemonConfig, counts: Counts, serverVersion: string, eventListeners: number): Promise<Record<string, unknown>> {
  const rel = osRelease();
  const versions = await componentVersions(config);
  const cgv = cgroupVersion();
  const swap = swapLimitSupported();
  // As Docker: warnings are lines the CLI prints at the end of `docker info`.
  const warnings = [...(swap ? [] : ['WARNING: No swap limit support']), ...await quarantineAt(config.dataRoot).warnings()];
  return {
    ID: hostId(config.dataRoot),
    Containers: counts.containers,
    ContainersRunning: counts.running,
    ContainersPaused: counts.paused,
    ContainersStopped: counts.stopped,
    Images: counts.images,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file', 'local', 'none'] },
    MemoryLimit: true,
    SwapLimit: swap,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: fs.existsSync('/proc/sys/net/ipv4/ip_forward') && fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1',
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: fs.readdirSync('/proc/self/fd').length,
    OomKillDisable: cgv === 1,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: config.logDriver,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: String(cgv),
    NEventsListener: eventListeners,
    KernelVersion: os.release(),
    OperatingSystem: rel.name,
    OSVersion: rel.version,
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [],
    },
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: config.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? '',
    NoProxy: process.env.NO_PROXY ?? '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: serverVersion,
    Runtimes: Object.fromEntries(Object.entries(config.runtimes).map(([k, v]) => [k, { path: v.path, ...(v.args?.length ? { runtimeArgs: v.args } : {}) }])),
    DefaultRuntime: config.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: config.liveRestore,
    Isolation: '',
    InitBinary: config.initPath,
    ContainerdCommit: { ID: versions.conmon ? `conmon ${versions.conmon}` : '', Expected: '' },
    RuncCommit: { ID: versions.runc, Expected: '' },
    InitCommit: { ID: versions.init, Expected: '' },
    SecurityOptions: [...(cgv === 2 ? ['name=cgroupns'] : []), 'name=no-new-privileges'],
    CDISpecDirs: [],
    Warnings: warnings.length ? warnings : null,
  };
}

export async function versionInfo(config: DaemonConfig, serverVersion: string, apiVersion: string, minApiVersion: string): Promise<Record<string, unknown>> {
  const v = await componentVersions(config);
  const details = {
    ApiVersion: apiVersion, Arch: process.arch === 'x64' ? 'amd64' : process.arch, BuildTime: '', Experimental: 'false',
    GitCommit: '', GoVersion: `node ${process.version}`, KernelVersion: os.release(), MinAPIVersion: minApiVersion, Os: 'linux',
  };
  return {
    Platform: { Name: 'berth' },
    Components: [
      { Name: 'Engine', Version: serverVersion, Details: details },
      { Name: 'conmon', Version: v.conmon, Details: { GitCommit: '' } },
      { Name: 'runc', Version: v.runc, Details: { GitCommit: '' } },
      { Name: 'docker-init', Version: v.init, Details: { GitCommit: '' } },
    ],
    Version: serverVersion,
    ApiVersion: apiVersion,
    MinAPIVersion: minApiVersion,
    GitCommit: '',
    GoVersion: details.GoVersion,
    Os: 'linux',
    Arch: details.Arch,
    KernelVersion: os.release(),
    BuildTime: '',
  };
}
