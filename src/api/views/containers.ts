// The JSON shapes of `GET /containers/{id}/json`, `GET /containers/json` and the prune reply,
// as Docker's, from the engine's records and details. The record keeps Config and HostConfig as
// Docker does, so those pass through; what is decided here is which fields the wire shows, their
// wire defaults and the `Status` text ("Up 5 minutes"), which is presentation, not state.
import { humanDuration } from '../../lib/units';
import { type ContainerRecord, createdMs, ZERO_TIME } from '../../engine/containers/Container';
import type { ListedContainer, PruneResult } from '../../engine/containers/list';
import type { ContainerDetails } from '../../engine/containers/details';
import { healthSuffix } from '../../engine/health/HealthService';

function networkName(mode: string): string {
  return mode === 'default' ? 'bridge' : mode;
}

type Live = NonNullable<ContainerDetails['network']>['endpoints'][number];

function endpoint(c: ContainerRecord, name: string, live?: Live): Record<string, unknown> {
  const req = c.NetworkEndpoints?.[name];
  const e = live?.ep;
  const user = !['bridge', 'host', 'none'].includes(name);
  return {
    IPAMConfig: req?.IPAMConfig ?? null, Links: req?.Links?.length ? req.Links : null, Aliases: req?.Aliases?.length ? req.Aliases : null,
    MacAddress: e?.MacAddress ?? '', NetworkID: live?.networkId ?? '', EndpointID: e?.EndpointId ?? '', Gateway: e?.Gateway ?? '',
    IPAddress: e?.IPAddress ?? '', IPPrefixLen: e?.IPPrefixLen ?? 0, IPv6Gateway: e?.IPv6Gateway ?? '', GlobalIPv6Address: e?.GlobalIPv6Address ?? '', GlobalIPv6PrefixLen: e?.GlobalIPv6PrefixLen ?? 0,
    DriverOpts: null,
    // Docker's DNSNames: the names the embedded DNS answers for (user networks only).
    DNSNames: user && e ? [c.Name.slice(1), ...e.Aliases, c.Id.slice(0, 12)] : null,
  };
}

function networks(c: ContainerRecord, net?: ContainerDetails['network']): Record<string, unknown> {
  const mode = c.HostConfig.NetworkMode;
  if (mode.startsWith('container:')) return {};
  const names = [networkName(mode), ...Object.keys(c.NetworkEndpoints ?? {}).filter((k) => k !== networkName(mode))];
  return Object.fromEntries(names.map((n) => [n, endpoint(c, n, net?.endpoints.find((x) => x.name === n || x.networkId === n))]));
}

/** Docker's NetworkSettings.Ports: every exposed or published port, null when not published. */
function portsView(c: ContainerRecord, net?: ContainerDetails['network']): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const k of Object.keys(c.Config.ExposedPorts ?? {})) out[k] = null;
  for (const k of Object.keys((c.HostConfig.PortBindings ?? {}) as object)) out[k.includes('/') ? k : `${k}/tcp`] = null;
  if (!net || !c.State.Running) return out;
  for (const p of net.ports) {
    const key = `${p.containerPort}/${p.proto}`;
    (out[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return out;
}

function summaryPorts(c: ContainerRecord, net?: ContainerDetails['network']): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const published = new Set<string>();
  for (const p of (c.State.Running ? net?.ports : undefined) ?? []) {
    published.add(`${p.containerPort}/${p.proto}`);
    out.push({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto });
  }
  for (const k of Object.keys(c.Config.ExposedPorts ?? {})) {
    const [port, proto = 'tcp'] = k.split('/');
    if (!published.has(`${port}/${proto}`)) out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
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
    NetworkSettings: networkSettingsView(d),
  };
  if (d.sizes) Object.assign(out, { SizeRw: d.sizes.rw, SizeRootFs: d.sizes.rootFs });
  return out;
}

function networkSettingsView(d: ContainerDetails): Record<string, unknown> {
  const c = d.record;
  const nets = networks(c, d.network);
  // Docker repeats the default bridge's endpoint at the top level (deprecated, still read).
  const b = (networkName(c.HostConfig.NetworkMode) === 'bridge' ? nets.bridge : undefined) as Record<string, unknown> | undefined;
  const sandbox = c.State.Running && d.network?.endpoints.length ? d.network.endpoints[0].ep.EndpointId : '';
  return {
    Bridge: '', SandboxID: sandbox, SandboxKey: d.sandboxKey ?? '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: portsView(c, d.network), SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: b?.EndpointID ?? '', Gateway: b?.Gateway ?? '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: b?.IPAddress ?? '', IPPrefixLen: b?.IPPrefixLen ?? 0, IPv6Gateway: '', MacAddress: b?.MacAddress ?? '',
    Networks: nets,
  };
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
export function containerSummaryView({ record: c, sizes, network }: ListedContainer): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Id: c.Id,
    Names: [c.Name],
    Image: c.Config.Image,
    ImageID: c.Image,
    Command: commandString(c),
    Created: Math.floor(createdMs(c) / 1000),
    Ports: summaryPorts(c, network),
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusString(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(c, network) },
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
