// The JSON shapes of `GET /containers/{id}/json`, `GET /containers/json` and the prune reply,
// as Docker's, from the engine's records and details. The record keeps Config and HostConfig as
// Docker does, so those pass through; what is decided here is which fields the wire shows, their
// wire defaults and the `Status` text ("Up 5 minutes"), which is presentation, not state.
import { humanDuration } from '../../lib/units';
import { type ContainerRecord, ZERO_TIME } from '../../engine/containers/Container';
import type { ListedContainer, PruneResult } from '../../engine/containers/list';
import type { ContainerDetails } from '../../engine/containers/details';
import { healthSuffix } from '../../engine/health/HealthService';

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

/** `Mounts` as Docker shows them: volumes with Name and Driver, binds and --mount tmpfs without. */
export function mountsView(c: ContainerRecord): Record<string, unknown>[] {
  return (c.MountPoints ?? []).map((m) => m.Type === 'volume'
    ? { Type: 'volume', Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver ?? 'local', Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
    : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation });
}

/** `GET /containers/{id}/json`. */
export function containerInspectView(d: ContainerDetails): Record<string, unknown> {
  const c = d.record;
  const out: Record<string, unknown> = {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: { ...c.State },
    Image: c.Image,
    ResolvConfPath: d.files.resolvConf,
    HostnamePath: d.files.hostname,
    HostsPath: d.files.hosts,
    LogPath: d.logPath,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: d.execIds,
    HostConfig: hostConfigView(d),
    GraphDriver: {
      Data: {
        LowerDir: d.layer.lowerDirs.join(':'), MergedDir: d.layer.mergedDir, UpperDir: d.layer.upperDir, WorkDir: d.layer.workDir,
      },
      Name: 'overlay2',
    },
    Mounts: mountsView(c),
    Config: c.Config,
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      Ports: {}, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '',
      GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
      Networks: networks(c),
    },
  };
  if (d.sizes) Object.assign(out, { SizeRw: d.sizes.rw, SizeRootFs: d.sizes.rootFs });
  return out;
}

/** The stored HostConfig with the masked and read-only paths in effect (Docker: null when privileged). */
function hostConfigView(d: ContainerDetails): Record<string, unknown> {
  const h = d.record.HostConfig;
  return {
    ...h,
    MaskedPaths: h.Privileged ? null : d.maskedPaths,
    ReadonlyPaths: h.Privileged ? null : d.readonlyPaths,
  };
}

/** `sh -c 'echo hi'`: Docker quotes arguments that contain spaces. */
export function commandString(c: ContainerRecord): string {
  return [c.Path, ...c.Args].map((a) => (/\s/.test(a) || a === '' ? `'${a}'` : a)).join(' ');
}

/** The `Status` column of `docker ps`: the state in words, with how long ago. */
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

/** One item of `GET /containers/json` (and of `GET /system/df`'s Containers). */
export function containerSummaryView({ record: c, sizes }: ListedContainer): Record<string, unknown> {
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
    Mounts: mountsView(c),
  };
  if (sizes) {
    if (sizes.rw > 0) out.SizeRw = sizes.rw;
    out.SizeRootFs = sizes.rootFs;
  }
  return out;
}

/** `POST /containers/prune`: null, not an empty list, when nothing was removed. */
export function containerPruneView(p: PruneResult): Record<string, unknown> {
  return { ContainersDeleted: p.deleted.length ? p.deleted : null, SpaceReclaimed: p.reclaimed };
}
