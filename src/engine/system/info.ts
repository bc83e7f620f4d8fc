// `docker info` and `docker version`: real figures from this host and this daemon. The wire
// shapes they go into are api/views/system.ts's.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { promisify } from 'node:util';
import { quarantineAt } from '../../lib/quarantine';
import { cgroupVersion, swapLimitSupported } from '../../runtime/cgroups';
import { crunRefusal } from '../../runtime/crun';
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

let cachedVersions: Promise<ComponentVersions> | undefined;

/** The versions the tools report of themselves ('' when one does not say); `runc` is the default runtime's, named `runtime`. */
export interface ComponentVersions { runc: string; conmon: string; init: string; runtime: string }

export function componentVersions(config: DaemonConfig): Promise<ComponentVersions> {
  cachedVersions ??= (async () => {
    const rt = config.runtimes[config.defaultRuntime];
    const [runc, conmon, init] = await Promise.all([toolVersion(rt.path), toolVersion(config.conmonPath), toolVersion(config.initPath)]);
    return { runc, conmon, init, runtime: config.defaultRuntime };
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

export interface SystemFacts {
  /** This daemon's lasting identity (a UUID kept in the data root). */
  id: string;
  counts: Counts;
  config: DaemonConfig;
  os: { name: string; version: string; kernel: string; architecture: string; hostname: string };
  cpus: number;
  memTotal: number;
  cgroupVersion: number;
  swapLimit: boolean;
  ipv4Forwarding: boolean;
  openFds: number;
  eventListeners: number;
  systemTime: string;
  proxies: { http: string; https: string; no: string };
  components: ComponentVersions;
  /** Lines about quarantined records, for the user to see. */
  quarantineWarnings: string[];
  /** Why a configured runtime cannot run containers here, and what to do. */
  runtimeWarnings: string[];
}

/** crun installed (or configured) but refused by this host's cgroups: say so, and how to fix it. */
export function runtimeWarnings(config: DaemonConfig, why = crunRefusal()): string[] {
  const names = Object.entries(config.runtimes).filter(([name, rt]) => name === 'crun' || rt.path.endsWith('/crun')).map(([name]) => name);
  if (names.length === 0 || !why) return [];
  const effect = names.includes(config.defaultRuntime)
    ? `the default runtime ${config.defaultRuntime} will fail to start containers`
    : `containers use ${config.defaultRuntime}; --runtime ${names[0]} fails`;
  return [`WARNING: crun cannot run containers on this host: ${why}; ${effect}. To use crun (berth's default where it can run), `
    + 'mount those controllers as cgroup v1 hierarchies (scripts/host-cgroups.sh does) and restart berthd'];
}

export async function systemFacts(config: DaemonConfig, counts: Counts, eventListeners: number): Promise<SystemFacts> {
  const rel = osRelease();
  const components = await componentVersions(config);
  const cgroup = cgroupVersion();
  const swapLimit = swapLimitSupported();
  const quarantineWarnings = await quarantineAt(config.dataRoot).warnings();
  return {
    id: hostId(config.dataRoot),
    counts,
    config,
    os: { name: rel.name, version: rel.version, kernel: os.release(), architecture: os.machine(), hostname: os.hostname() },
    cpus: os.cpus().length,
    memTotal: os.totalmem(),
    cgroupVersion: cgroup,
    swapLimit,
    ipv4Forwarding: fs.existsSync('/proc/sys/net/ipv4/ip_forward') && fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1',
    openFds: fs.readdirSync('/proc/self/fd').length,
    eventListeners,
    systemTime: new Date().toISOString(),
    proxies: { http: process.env.HTTP_PROXY ?? '', https: process.env.HTTPS_PROXY ?? '', no: process.env.NO_PROXY ?? '' },
    components,
    quarantineWarnings,
    runtimeWarnings: runtimeWarnings(config),
  };
}

/** What `docker version` reports of this daemon's parts and its host. */
export interface VersionFacts { components: ComponentVersions; kernel: string; arch: NodeJS.Architecture; node: string }

export async function versionFacts(config: DaemonConfig): Promise<VersionFacts> {
  return { components: await componentVersions(config), kernel: os.release(), arch: process.arch, node: process.version };
}
