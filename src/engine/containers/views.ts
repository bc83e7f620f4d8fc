// The JSON shapes of `GET /containers/{id}/json` and `GET /containers/json`, as Docker's.
import { humanDuration } from '../../lib/units';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../runtime/defaults';
import { type ContainerRecord, ZERO_TIME } from './Container';
import { containerFiles } from './files';
import type { ContainerService } from './ContainerService';
import { healthSuffix } from '../health/HealthService';

function networkName(mode: string): string {
  return mode === 'default' ? 'bridge' : mode;
}

function endpoint(): Record<string, unknown> {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', NetworkID: '', EndpointID: '', Gateway: '',
    IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    DriverOpts: null, DNSNames: null,
  };
}

function networks(c: ContainerRecord): Record<string, unknown> {
  const mode = c.HostConfig.NetworkMode;
  if (mode.startsWith('container:')) return {};
  return { [networkName(mode)]: endpoint() };
}

export async function inspectContainer(svc: ContainerService, c: ContainerRecord, withSize: boolean): Promise<Record<string, unknown>> {
  const dir = svc.store.dir(c.Id);
  const files = containerFiles(dir);
  const info = await svc.rootfs.mountInfo(c.Id);
  const out: Record<string, unknown> = {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: { ...c.State },
    Image: c.Image,
    ResolvConfPath: files.resolvConf,
    HostnamePath: files.hostname,
    HostsPath: files.hosts,
    LogPath: svc.logPath(c.Id),
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: svc.runningExecs.ids(c.Id),
    HostConfig: hostConfigView(c),
    GraphDriver: {
      Data: {
        LowerDir: info.lowerDirs.join(':'), MergedDir: info.mergedDir, UpperDir: info.upperDir, WorkDir: info.workDir,
      },
      Name: 'overlay2',
    },
    Mounts: [],
    Config: c.Config,
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      Ports: {}, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '',
      GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
      Networks: networks(c),
    },
  };
  if (withSize) Object.assign(out, await sizesOf(svc, c));
  return out;
}

function hostConfigView(c: ContainerRecord): Record<string, unknown> {
  const h = c.HostConfig;
  const privileged = h.Privileged;
  return {
    ...h,
    MaskedPaths: privileged ? null : h.MaskedPaths ?? DEFAULT_MASKED_PATHS,
    ReadonlyPaths: privileged ? null : h.ReadonlyPaths ?? DEFAULT_READONLY_PATHS,
  };
}

/** `sh -c 'echo hi'`: Docker quotes arguments that contain spaces. */
export function commandString(c: ContainerRecord): string {
  return [c.Path, ...c.Args].map((a) => (/\s/.test(a) || a === '' ? `'${a}'` : a)).join(' ');
}

export function statusString(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) {
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    return s.Paused ? `${up} (Paused)` : up + healthSuffix(c);
  }
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO_TIME) return 'Created';
  if (s.FinishedAt === ZERO_TIME) return 'Created';
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

export async function summarizeContainer(svc: ContainerService, c: ContainerRecord, withSize: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    Id: c.Id,
    Names: [c.Name],
    Image: c.Config.Image,
    ImageID: c.Image,
    Command: commandString(c),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: [],
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusString(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(c) },
    Mounts: [],
  };
  if (withSize) {
    const { SizeRw, SizeRootFs } = await sizesOf(svc, c);
    if (SizeRw > 0) out.SizeRw = SizeRw;
    out.SizeRootFs = SizeRootFs;
  }
  return out;
}

/** Docker's sizes: SizeRw is the writable layer, SizeRootFs that plus the image's layers. */
async function sizesOf(svc: ContainerService, c: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await svc.rootfs.diffSize(c.Id).catch(() => 0);
  const image = await svc.deps.images.resolve(c.Image).then((i) => i.size ?? 0, () => 0);
  return { SizeRw: rw, SizeRootFs: rw + image };
}
