// Networks and the endpoints of containers on them: the predefined `bridge`, `host` and `none`,
// user-defined bridge networks, an address per container per network (IPAM), published ports,
// the embedded DNS of user networks. The container side reaches it through the network
// attachment (prepare before the runtime creates the task, release at exit and removal,
// reconcile at daemon start) and through connect/disconnect.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../../lib/errors';
import { newId, shortId } from '../../lib/ids';
import { log } from '../../lib/log';
import { Mutex } from '../../lib/mutex';
import { deleteBridge, ensureBridge } from '../../network/bridge';
import { ipBatch } from '../../network/commands';
import { NetworkDnsServer } from '../../network/dns/server';
import { createEndpoint, deleteEndpoint } from '../../network/endpoint';
import { DockerUserRules } from '../../network/dockerUser';
import { Firewall, type BridgeRules, type PortRule } from '../../network/firewall';
import { holdPort, PortInUseError, type HeldPort, type HostPortRequest } from '../../network/hostports';
import {
  contains, formatCidr, formatIp, isIpv4, lastOf, macForIp, networkOf, overlaps, parseCidr, parseIp, type Cidr,
} from '../../network/ipv4';
import { contains6, formatCidr6, formatIp6, isIpv6, lastOf6, networkOf6, overlaps6, parseCidr6, parseIp6, type Cidr6 } from '../../network/ipv6';
import { listNetns, netnsFile, netnsPath, removeNetns } from '../../network/netns';
import { makeRemappedNetns } from '../usernsRemap';
import { hostReserved4, hostResolvers, hostRoutes6 } from './hostReserved';
import type { ContainerEndpoints, EndpointRecord, NetworkRecord, NetworkStore, PublishedPort } from '../../store/networks/types';
import { networkConfigOf, type DaemonConfig, type NetworkConfig } from '../config';
import type { ContainerRecord } from '../containers/Container';
import type { ContainerNetworkView, ContainerNetworks } from '../containers/context';

/** What a container asks of one network (Docker's EndpointSettings, the parts berth applies). */
export interface EndpointRequest {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  Links?: string[] | null;
}

/** The addresses of an endpoint's IPAMConfig that berth applies (--ip, --ip6). */
export function ipamAddresses(c: { IPv4Address?: string; IPv6Address?: string }): { IPv4Address?: string; IPv6Address?: string } {
  return { ...(c.IPv4Address ? { IPv4Address: c.IPv4Address } : {}), ...(c.IPv6Address ? { IPv6Address: c.IPv6Address } : {}) };
}

/** What the network service needs of the containers. */
export interface ContainerDirectory {
  get(ref: string): ContainerRecord;
  all(): ContainerRecord[];
  save(c: ContainerRecord): Promise<void>;
}

export interface NetworkCreateRequest {
  Name?: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: unknown }[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  ConfigFrom?: unknown;
  ConfigOnly?: boolean;
  Scope?: string;
}

/** What the network attachment hands the container's spec and /etc files. */
export interface NetworkPrepared {
  netnsPath: string;
  /** Lines for /etc/hosts ("10.1.0.2\thostname", links). */
  hosts: string[];
  /** The embedded DNS (user networks); undefined: the host's resolvers. */
  nameservers?: string[];
  /** Links' environment variables (ALIAS_PORT_..., ALIAS_NAME). */
  env: string[];
}

export const PREDEFINED = ['bridge', 'host', 'none'];
const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
const OPT_MTU = 'com.docker.network.driver.mtu';
const OPT_ICC = 'com.docker.network.bridge.enable_icc';
const OPT_MASQ = 'com.docker.network.bridge.enable_ip_masquerade';
type Pool = { Subnet: string; Gateway: string; IPRange?: string };
const isV6Pool = (p: Pool) => p.Subnet.includes(':');
const v4Pools = (n: NetworkRecord) => n.IPAM.Config.filter((p) => !isV6Pool(p));
const v6Pools = (n: NetworkRecord) => n.IPAM.Config.filter(isV6Pool);
const KNOWN_OPTS = [OPT_BRIDGE_NAME, OPT_MTU, OPT_ICC, OPT_MASQ, 'com.docker.network.bridge.default_bridge', 'com.docker.network.bridge.host_binding_ipv4'];

interface Live {
  rec: ContainerEndpoints;
  held: HeldPort[];
}

/** The network a NetworkMode names: '' for none of ours (host, none, container:). */
export function primaryNetworkName(mode: string): string {
  if (mode === 'default' || mode === 'bridge') return 'bridge';
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return '';
  return mode;
}

export class NetworkService implements ContainerNetworks {
  readonly conf: NetworkConfig;
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly live = new Map<string, Live>();
  private readonly dns = new Map<string, NetworkDnsServer>();
  private readonly lock = new Mutex();
  private readonly fw: Firewall;
  private readonly dockerUser: DockerUserRules;
  private containers?: ContainerDirectory;

  private constructor(private readonly config: DaemonConfig, private readonly store: NetworkStore) {
    this.conf = networkConfigOf(config);
    this.fw = new Firewall(this.conf.nftTable);
    this.dockerUser = new DockerUserRules(this.conf.nftTable);
  }

  static async open(config: DaemonConfig, store: NetworkStore): Promise<NetworkService> {
    const svc = new NetworkService(config, store);
    const { networks, endpoints, unreadable } = await store.load();
    for (const f of unreadable) log.error('unreadable network record left in place', { file: f });
    for (const n of networks) svc.networks.set(n.Id, n);
    // Endpoint records are matched with the running containers by reconcile; until then they
    // hold their addresses, so nothing hands one out twice.
    for (const e of endpoints) svc.live.set(e.ContainerId, { rec: e, held: [] });
    await svc.ensurePredefined();
    for (const n of svc.networks.values()) if (n.Driver === 'bridge') await svc.bringUp(n);
    return svc;
  }

  bindContainers(c: ContainerDirectory): void {
    this.containers = c;
  }

  // ---- networks

  list(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  /** By full name, full id, or unique id prefix, as Docker. */
  get(ref: string): NetworkRecord {
    const all = this.list();
    const byName = all.find((n) => n.Name === ref);
    if (byName) return byName;
    const byId = all.find((n) => n.Id === ref);
    if (byId) return byId;
    const prefixed = ref.length > 0 ? all.filter((n) => n.Id.startsWith(ref)) : [];
    if (prefixed.length === 1) return prefixed[0];
    if (prefixed.length > 1) throw new InvalidParameterError(`network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    throw new NotFoundError(`network ${ref} not found`);
  }

  /** The containers on a network now (running, with an endpoint), for inspect. */
  endpointsOn(networkId: string): { containerId: string; name: string; ep: EndpointRecord }[] {
    const out: { containerId: string; name: string; ep: EndpointRecord }[] = [];
    for (const [cid, l] of this.live) {
      const ep = l.rec.Endpoints.find((e) => e.NetworkId === networkId);
      if (!ep) continue;
      let name = '';
      try { name = this.containers?.get(cid).Name.slice(1) ?? ''; } catch { continue; }
      out.push({ containerId: cid, name, ep });
    }
    return out;
  }

  /** Containers configured for a network (running or not): what blocks its removal. */
  private usersOf(n: NetworkRecord): ContainerRecord[] {
    return (this.containers?.all() ?? []).filter((c) => this.requestedNetworks(c).some(([name]) => name === n.Name || name === n.Id));
  }

  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.lock.run(async () => {
      const name = req.Name ?? '';
      if (!name) throw new InvalidParameterError('network name is required');
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new InvalidParameterError(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      if (PREDEFINED.includes(name)) throw new ForbiddenError(`${name} is a pre-defined network and cannot be created`);
      if (this.list().some((n) => n.Name === name)) throw new ConflictError(`network with name ${name} already exists`);
      const driver = req.Driver || 'bridge';
      if (driver !== 'bridge') throw new InvalidParameterError(`berth supports only the bridge network driver (got ${JSON.stringify(driver)})`);
      if (req.Ingress) throw new InvalidParameterError('berth does not support ingress networks (swarm)');
      if (req.ConfigOnly || req.ConfigFrom) throw new InvalidParameterError('berth does not support config-only networks (ConfigOnly, ConfigFrom)');
      if (req.Scope && req.Scope !== 'local') throw new InvalidParameterError(`berth supports only local-scope networks (got Scope ${JSON.stringify(req.Scope)})`);
      if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new InvalidParameterError(`berth supports only the default IPAM driver (got ${JSON.stringify(req.IPAM.Driver)})`);
      if (req.IPAM?.Options && Object.keys(req.IPAM.Options).length) throw new InvalidParameterError('berth does not support IPAM options');
      const opts = req.Options ?? {};
      for (const k of Object.keys(opts)) if (!KNOWN_OPTS.includes(k)) throw new InvalidParameterError(`berth does not support the network option ${k}`);
      const id = newId();
      const pools = await this.poolsFor(req.IPAM?.Config ?? [], !!req.EnableIPv6);
      const mtu = opts[OPT_MTU] ? Number(opts[OPT_MTU]) : this.conf.mtu;
      if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidParameterError(`invalid MTU ${opts[OPT_MTU]}`);
      const bridge = opts[OPT_BRIDGE_NAME] || `br-${id.slice(0, 12)}`;
      if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge)) throw new InvalidParameterError(`invalid bridge name ${bridge}`);
      if (this.list().some((n) => n.Bridge === bridge) || fs.existsSync(`/sys/class/net/${bridge}`)) throw new ConflictError(`bridge ${bridge} is in use`);
      const n: NetworkRecord = {
        Id: id, Name: name, Created: new Date().toISOString(), Scope: 'local', Driver: 'bridge', EnableIPv6: !!req.EnableIPv6,
        IPAM: { Driver: 'default', Options: {}, Config: pools }, Internal: !!req.Internal, Attachable: !!req.Attachable,
        Labels: req.Labels ?? {}, Options: opts, Bridge: bridge, Mtu: mtu,
      };
      await this.bringUp(n);
      try {
        await this.store.saveNetwork(n);
      } catch (e) {
        await this.tearDown(n).catch(() => undefined);
        throw e;
      }
      this.networks.set(id, n);
      return { Id: id, Warning: '' };
    });
  }

  remove(ref: string): Promise<void> {
    return this.lock.run(async () => {
      const n = this.get(ref);
      if (PREDEFINED.includes(n.Name)) throw new ForbiddenError(`${n.Name} is a pre-defined network and cannot be removed`);
      const users = this.usersOf(n);
      if (users.length || this.endpointsOn(n.Id).length) {
        throw new ConflictError(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
      }
      await this.store.removeNetwork(n.Id);
      this.networks.delete(n.Id);
      await this.tearDown(n);
    });
  }

  /** Networks no container is configured for (the predefined ones stay). */
  async prune(keep: (n: NetworkRecord) => boolean): Promise<string[]> {
    const gone: string[] = [];
    for (const n of this.list()) {
      if (PREDEFINED.includes(n.Name) || !keep(n)) continue;
      if (this.usersOf(n).length || this.endpointsOn(n.Id).length) continue;
      await this.remove(n.Id).then(() => gone.push(n.Name), () => undefined);
    }
    return gone;
  }

  isDangling(n: NetworkRecord): boolean {
    return !PREDEFINED.includes(n.Name) && this.usersOf(n).length === 0;
  }

  private async ensurePredefined(): Promise<void> {
    const conf = this.conf;
    const byName = (name: string) => this.list().find((n) => n.Name === name);
    const put = async (n: NetworkRecord) => { await this.store.saveNetwork(n); this.networks.set(n.Id, n); };
    if (!byName('host')) await put(this.record('host', 'host'));
    if (!byName('none')) await put(this.record('none', 'null'));
    const bridge = byName('bridge');
    // The default bridge follows the daemon's settings at each start (bip, bridge, mtu...).
    const pool = conf.bip ? this.bipPool(conf.bip) : bridge?.IPAM.Config[0] && !bridge.Options[OPT_BRIDGE_NAME]?.localeCompare(conf.bridge)
      ? bridge.IPAM.Config[0] : await this.freePool();
    const n: NetworkRecord = {
      ...(bridge ?? this.record('bridge', 'bridge')),
      IPAM: { Driver: 'default', Options: null, Config: [pool] },
      Options: {
        'com.docker.network.bridge.default_bridge': 'true', [OPT_ICC]: String(conf.icc), [OPT_MASQ]: String(conf.ipMasq),
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', [OPT_BRIDGE_NAME]: conf.bridge, [OPT_MTU]: String(conf.mtu),
      },
      Bridge: conf.bridge, Mtu: conf.mtu,
    };
    if (bridge?.Bridge && bridge.Bridge !== conf.bridge) await deleteBridge(bridge.Bridge).catch(() => undefined);
    await put(n);
  }

  private record(name: string, driver: string): NetworkRecord {
    return {
      Id: newId(), Name: name, Created: new Date().toISOString(), Scope: 'local', Driver: driver, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Labels: {}, Options: {},
    };
  }

  private bipPool(bip: string): { Subnet: string; Gateway: string; IPRange?: string } {
    const c = parseCidr(bip);
    const fixed = this.conf.fixedCidr;
    return { Subnet: formatCidr(networkOf(c)), Gateway: formatIp(c.addr), ...(fixed ? { IPRange: fixed } : {}) };
  }

  /** Subnets in use: our networks' and what the host uses (hostReserved.ts). */
  private usedSubnets(): Cidr[] {
    return [...this.list().flatMap((n) => v4Pools(n).map((p) => parseCidr(p.Subnet))), ...hostReserved4()];
  }

  private async freePool(): Promise<{ Subnet: string; Gateway: string }> {
    const used = this.usedSubnets();
    for (const pool of this.conf.addressPools) {
      const base = networkOf(parseCidr(pool.base));
      const count = 2 ** Math.max(0, pool.size - base.prefix);
      for (let i = 0; i < count; i++) {
        const c: Cidr = { addr: (base.addr + i * 2 ** (32 - pool.size)) >>> 0, prefix: pool.size };
        if (!used.some((u) => overlaps(u, c))) return { Subnet: formatCidr(c), Gateway: formatIp(c.addr + 1) };
      }
    }
    throw new SystemError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  }

  private async poolsFor(all: NonNullable<NonNullable<NetworkCreateRequest['IPAM']>['Config']>, ipv6: boolean): Promise<Pool[]> {
    const config = all.filter((p) => !p.Subnet?.includes(':'));
    const six = all.filter((p) => p.Subnet?.includes(':'));
    if (six.length && !ipv6) throw new InvalidParameterError(`an IPv6 subnet (${six[0].Subnet}) needs IPv6 enabled on the network (EnableIPv6, --ipv6)`);
    const pools6 = ipv6 ? this.pools6For(six) : [];
    if (config.length === 0) return [await this.freePool(), ...pools6];
    const used = this.list().flatMap((n) => v4Pools(n).map((p) => parseCidr(p.Subnet)));
    const out: Pool[] = [];
    for (const p of config) {
      if (p.AuxiliaryAddresses && Object.keys(p.AuxiliaryAddresses as object).length) throw new InvalidParameterError('berth does not support IPAM AuxiliaryAddresses');
      if (!p.Subnet) {
        if (p.Gateway || p.IPRange) throw new InvalidParameterError('a gateway or ip-range needs a subnet');
        out.push(await this.freePool());
        continue;
      }
      const sub = parseCidr(p.Subnet);
      if (sub.prefix > 30) throw new InvalidParameterError(`subnet ${p.Subnet} is too small`);
      const net = networkOf(sub);
      if (net.addr !== sub.addr) throw new InvalidParameterError(`invalid subnet ${p.Subnet}: it should be ${formatCidr(net)}`);
      if ([...used, ...out.map((o) => parseCidr(o.Subnet))].some((u) => overlaps(u, sub))) throw new ConflictError(`Pool overlaps with other one on this address space`);
      const gw = p.Gateway ? parseIp(p.Gateway) : net.addr + 1;
      if (!contains(sub, gw)) throw new InvalidParameterError(`invalid pool request: gateway ${p.Gateway} is not in subnet ${p.Subnet}`);
      if (p.IPRange) {
        const r = parseCidr(p.IPRange);
        if (!contains(sub, r.addr) || r.prefix < sub.prefix) throw new InvalidParameterError(`invalid pool request: ip-range ${p.IPRange} is not in subnet ${p.Subnet}`);
      }
      out.push({ Subnet: formatCidr(sub), Gateway: formatIp(gw), ...(p.IPRange ? { IPRange: p.IPRange } : {}) });
    }
    return [...out, ...pools6];
  }

  /**
   * The IPv6 pools of a network with EnableIPv6: those asked for, checked; none asked: a /64
   * of a random unique local /48 (RFC 4193), as dockerd 27 picks from its ULA pool.
   */
  private pools6For(config: { Subnet?: string; Gateway?: string; IPRange?: string }[]): Pool[] {
    const used = [...this.list().flatMap((n) => v6Pools(n).map((p) => parseCidr6(p.Subnet))), ...hostRoutes6()];
    if (config.length === 0) {
      for (;;) {
        const ula: Cidr6 = { addr: (0xfdn << 120n) | (BigInt('0x' + randomBytes(7).toString('hex')) << 64n), prefix: 64 };
        if (!used.some((u) => overlaps6(u, ula))) return [{ Subnet: formatCidr6(ula), Gateway: formatIp6(ula.addr + 1n) }];
      }
    }
    const out: Pool[] = [];
    for (const p of config) {
      const sub = parseCidr6(p.Subnet!);
      if (sub.prefix > 124) throw new InvalidParameterError(`subnet ${p.Subnet} is too small`);
      const net = networkOf6(sub);
      if (net.addr !== sub.addr) throw new InvalidParameterError(`invalid subnet ${p.Subnet}: it should be ${formatCidr6(net)}`);
      if ([...used, ...out.map((o) => parseCidr6(o.Subnet))].some((u) => overlaps6(u, sub))) throw new ConflictError(`Pool overlaps with other one on this address space`);
      const gw = p.Gateway ? parseIp6(p.Gateway) : net.addr + 1n;
      if (!contains6(sub, gw)) throw new InvalidParameterError(`invalid pool request: gateway ${p.Gateway} is not in subnet ${p.Subnet}`);
      if (p.IPRange) {
        const r = parseCidr6(p.IPRange);
        if (!contains6(sub, r.addr) || r.prefix < sub.prefix) throw new InvalidParameterError(`invalid pool request: ip-range ${p.IPRange} is not in subnet ${p.Subnet}`);
      }
      out.push({ Subnet: formatCidr6(sub), Gateway: formatIp6(gw), ...(p.IPRange ? { IPRange: p.IPRange } : {}) });
    }
    return out;
  }

  private bridgeRules(n: NetworkRecord): BridgeRules {
    return {
      name: n.Bridge!, subnets: n.IPAM.Config.map((p) => p.Subnet), internal: n.Internal,
      masquerade: n.Options[OPT_MASQ] !== 'false', icc: n.Options[OPT_ICC] !== 'false',
    };
  }

  /** Host veth ends on icc=false networks. */
  private isolatedPortsOf(rec: ContainerEndpoints): string[] {
    return rec.Endpoints.filter((e) => this.networks.get(e.NetworkId)?.Options[OPT_ICC] === 'false').map((e) => e.HostIf);
  }

  private alias(what: string): string {
    return `berth:${this.conf.nftTable}:${what}`;
  }

  /** The bridge device, its rules (when the daemon writes rules) and its DNS server. */
  private async bringUp(n: NetworkRecord): Promise<void> {
    const addresses = n.IPAM.Config.map((p) => `${p.Gateway}/${(isV6Pool(p) ? parseCidr6(p.Subnet) : parseCidr(p.Subnet)).prefix}`);
    await ensureBridge({ name: n.Bridge!, addresses, mtu: n.Mtu ?? this.conf.mtu, alias: this.alias(n.Id.slice(0, 12)) });
    if (this.conf.iptables && this.tablesReady) {
      await this.fw.addBridge(this.bridgeRules(n)).catch((e) => log.warn('bridge rules', { error: errorMessage(e) }));
      await this.syncDockerUser({ joining: n });
    }
    if (n.Name !== 'bridge') await this.startDns(n);
  }

  private async tearDown(n: NetworkRecord): Promise<void> {
    this.dns.get(n.Id)?.close();
    this.dns.delete(n.Id);
    if (this.conf.iptables && this.tablesReady) await this.fw.removeBridge(this.bridgeRules(n));
    await deleteBridge(n.Bridge!);
    if (this.conf.iptables && this.tablesReady) await this.syncDockerUser({ leaving: n });
  }

  /** dockerd's DOCKER-USER chain, where the host has one: one pass per bridge (dockerUser.ts). */
  private syncDockerUser(change: { joining?: NetworkRecord; leaving?: NetworkRecord } = {}): Promise<void> {
    const nets = [...this.list(), ...(change.joining ? [change.joining] : [])];
    const bridges = [...new Set(nets.filter((n) => n.Driver === 'bridge' && n.Id !== change.leaving?.Id).map((n) => n.Bridge!))];
    return this.dockerUser.sync(bridges).catch((e) => log.warn('DOCKER-USER rules', { error: errorMessage(e) }));
  }

  private tablesReady = false;

  // ---- DNS

  private async startDns(n: NetworkRecord): Promise<void> {
    if (this.dns.has(n.Id)) return;
    const server = new NetworkDnsServer(v4Pools(n)[0].Gateway, (name, client) => this.lookupName(n.Id, name, client), (client) => this.upstreamsFor(n.Id, client));
    try {
      await server.listen();
      this.dns.set(n.Id, server);
    } catch (e) {
      log.warn('embedded DNS not started', { network: n.Name, error: errorMessage(e) });
    }
  }

  /** The asking container's --dns servers, else the host's resolvers. */
  private upstreamsFor(networkId: string, client: string): string[] {
    const asker = this.endpointsOn(networkId).find((e) => e.ep.IPAddress === client);
    let dns: string[] = [];
    try { dns = asker ? this.containers?.get(asker.containerId).HostConfig.Dns ?? [] : []; } catch { dns = []; }
    return dns.length ? dns : hostResolvers();
  }

  /**
   * Containers on the network by name, alias or short id (Docker's embedded DNS names); an
   * alias of the asking container's endpoint links (`target:alias`) stands for its target.
   */
  private lookupName(networkId: string, name: string, client: string): { v4: string[]; v6: string[] } | undefined {
    const v4: string[] = [];
    const v6: string[] = [];
    const on = this.endpointsOn(networkId);
    const asker = on.find((e) => e.ep.IPAddress === client);
    const link = asker && this.linksOf(asker.containerId, networkId).find((l) => l.alias.toLowerCase() === name);
    if (link) name = link.target.toLowerCase();
    for (const { containerId, name: cname, ep } of on) {
      const names = [cname, ...ep.Aliases, shortId(containerId)].map((s) => s.toLowerCase());
      if (!names.includes(name)) continue;
      v4.push(ep.IPAddress);
      if (ep.GlobalIPv6Address) v6.push(ep.GlobalIPv6Address);
    }
    return v4.length ? { v4, v6 } : undefined;
  }

  /** A container's endpoint links on a network, as Docker parses them (`name[:alias]`). */
  private linksOf(containerId: string, networkId: string): { target: string; alias: string }[] {
    let c: ContainerRecord;
    try { c = this.containers!.get(containerId); } catch { return []; }
    const n = this.networks.get(networkId);
    const req = this.requestedNetworks(c).find(([k]) => k === n?.Name || k === networkId)?.[1];
    return (req?.Links ?? []).map(parseEndpointLink);
  }

  // ---- endpoints

  /** The networks a container asks for, its primary (NetworkMode's) first. */
  requestedNetworks(c: ContainerRecord): [string, EndpointRequest][] {
    const primary = primaryNetworkName(c.HostConfig.NetworkMode);
    if (!primary) return [];
    const eps = (c.NetworkEndpoints ?? {}) as Record<string, EndpointRequest>;
    const first: [string, EndpointRequest] = [primary, eps[primary] ?? {}];
    return [first, ...Object.entries(eps).filter(([k]) => k !== primary)];
  }

  /** At create: the networks must exist; --ip must fit; aliases only on user networks. */
  validateRequest(c: ContainerRecord): void {
    for (const [name, req] of this.requestedNetworks(c)) {
      const n = this.get(name);
      const ip = req.IPAMConfig?.IPv4Address;
      if (ip) {
        if (n.Name === 'bridge') throw new InvalidParameterError('user specified IP address is supported on user defined networks only');
        if (!isIpv4(ip)) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
        if (!v4Pools(n).some((p) => contains(parseCidr(p.Subnet), parseIp(ip)))) throw new InvalidParameterError(`no configured subnet contains IP address ${ip}`);
      }
      const ip6 = req.IPAMConfig?.IPv6Address;
      if (ip6) {
        if (n.Name === 'bridge') throw new InvalidParameterError('user specified IP address is supported on user defined networks only');
        if (!isIpv6(ip6)) throw new InvalidParameterError(`invalid IPv6 address: ${ip6}`);
        if (!n.EnableIPv6) throw new InvalidParameterError(`network ${n.Name} has no IPv6 (EnableIPv6): cannot assign ${ip6}`);
        if (!v6Pools(n).some((p) => contains6(parseCidr6(p.Subnet), parseIp6(ip6)))) throw new InvalidParameterError(`no configured subnet contains IP address ${ip6}`);
      }
      if ((req.Aliases ?? []).length && n.Name === 'bridge') throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
      if ((req.Links ?? []).length && n.Name === 'bridge') throw new InvalidParameterError('endpoint links are supported only for containers in user defined networks: on the default bridge use HostConfig.Links');
      for (const l of req.Links ?? []) parseEndpointLink(l);
      if (req.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(req.MacAddress)) throw new InvalidParameterError(`invalid MAC address: ${req.MacAddress}`);
    }
    for (const l of (c.HostConfig.Links ?? []) as unknown[]) {
      if (typeof l !== 'string' || !l.split(':')[0]) throw new InvalidParameterError(`invalid link: ${String(l)}`);
    }
  }

  private usedIps(networkId: string): Set<number> {
    const out = new Set<number>();
    for (const l of this.live.values()) for (const e of l.rec.Endpoints) if (e.NetworkId === networkId) out.add(parseIp(e.IPAddress));
    return out;
  }

  private allocate(n: NetworkRecord, want: string | undefined): { ip: number; pool: Pool } {
    const used = this.usedIps(n.Id);
    for (const p of v4Pools(n)) {
      const sub = parseCidr(p.Subnet);
      const gw = parseIp(p.Gateway);
      if (want) {
        const ip = parseIp(want);
        if (!contains(sub, ip)) continue;
        if (used.has(ip) || ip === gw) throw new ConflictError(`Address already in use`);
        return { ip, pool: p };
      }
      const range = p.IPRange ? parseCidr(p.IPRange) : sub;
      const first = networkOf(range).addr;
      const last = lastOf(range);
      for (let ip = first; ip <= last; ip++) {
        if (ip === networkOf(sub).addr || ip === lastOf(sub) || ip === gw || used.has(ip)) continue;
        return { ip, pool: p };
      }
    }
    if (want) throw new InvalidParameterError(`no configured subnet contains IP address ${want}`);
    throw new SystemError(`no available IPv4 addresses on network ${n.Name}`);
  }

  /** An IPv6 address on a network with EnableIPv6: the one asked for, else the first free. */
  private allocate6(n: NetworkRecord, want: string | undefined): { ip: bigint; pool: Pool } {
    const used = new Set<bigint>();
    for (const l of this.live.values()) for (const e of l.rec.Endpoints) if (e.NetworkId === n.Id && e.GlobalIPv6Address) used.add(parseIp6(e.GlobalIPv6Address));
    for (const p of v6Pools(n)) {
      const sub = parseCidr6(p.Subnet);
      const gw = parseIp6(p.Gateway);
      if (want) {
        const ip = parseIp6(want);
        if (!contains6(sub, ip)) continue;
        if (used.has(ip) || ip === gw) throw new ConflictError(`Address already in use`);
        return { ip, pool: p };
      }
      const range = p.IPRange ? parseCidr6(p.IPRange) : sub;
      const last = lastOf6(range);
      for (let ip = networkOf6(range).addr; ip <= last; ip++) {
        if (ip === networkOf6(sub).addr || ip === gw || used.has(ip)) continue;
        return { ip, pool: p };
      }
    }
    if (want) throw new InvalidParameterError(`no configured subnet contains IP address ${want}`);
    throw new SystemError(`no available IPv6 addresses on network ${n.Name}`);
  }

  private newEndpoint(c: ContainerRecord, n: NetworkRecord, req: EndpointRequest, index: number, first: boolean): EndpointRecord {
    const { ip, pool } = this.allocate(n, req.IPAMConfig?.IPv4Address || undefined);
    const prefix = parseCidr(pool.Subnet).prefix;
    const mac = (first ? (req.MacAddress || (c.Config.MacAddress as string | undefined)) : req.MacAddress) || macForIp(ip);
    const six = n.EnableIPv6 && v6Pools(n).length ? this.allocate6(n, req.IPAMConfig?.IPv6Address || undefined) : undefined;
    return {
      ...(six ? { GlobalIPv6Address: formatIp6(six.ip), GlobalIPv6PrefixLen: parseCidr6(six.pool.Subnet).prefix, IPv6Gateway: six.pool.Gateway } : {}),
      NetworkId: n.Id, EndpointId: newId(), Ifname: `eth${index}`, HostIf: `veth${randomBytes(4).toString('hex').slice(0, 7)}`,
      IPAddress: formatIp(ip), IPPrefixLen: prefix, Gateway: pool.Gateway, MacAddress: mac.toLowerCase(),
      Aliases: n.Name === 'bridge' ? [] : [...(req.Aliases ?? [])], StaticIp: !!req.IPAMConfig?.IPv4Address,
    };
  }

  /** The network attachment's prepare: namespace, interfaces, addresses, port maps. */
  attach(c: ContainerRecord): Promise<NetworkPrepared | undefined> {
    const wanted = this.requestedNetworks(c);
    if (wanted.length === 0) return Promise.resolve(undefined);
    return this.lock.run(async () => {
      await this.releaseLocked(c.Id);
      const ns = await netnsFile(this.config.execRoot, c.Id);
      // userns-remap: the namespace is made owned by the container's user namespace.
      const premade = await makeRemappedNetns(c, this.config, ns);
      const rec: ContainerEndpoints = { ContainerId: c.Id, Netns: ns, Endpoints: [], Ports: [] };
      const live: Live = { rec, held: [] };
      this.live.set(c.Id, live);
      let made = false;
      try {
        wanted.forEach(([name, req], i) => rec.Endpoints.push(this.newEndpoint(c, this.get(name), req, i, i === 0)));
        const primary = rec.Endpoints[0];
        if (!this.get(wanted[0][0]).Internal) await this.holdPorts(c, live, primary);
        // The record and the devices side by side: what a crash between them leaves (a record
        // without devices, devices without a record) reconcile finds by the exec root's
        // namespace files and the devices' aliases.
        const saved = this.store.saveEndpoints(rec);
        saved.catch(() => undefined); // awaited below; a device failure first must not leave it unhandled
        for (const [i, e] of rec.Endpoints.entries()) {
          const n = this.networks.get(e.NetworkId)!;
          await createEndpoint({
            netns: ns, createNetns: i === 0 && !premade, ifname: e.Ifname, hostIf: e.HostIf, mac: e.MacAddress,
            address: `${e.IPAddress}/${e.IPPrefixLen}`, gateway: i === 0 && !n.Internal ? e.Gateway : undefined,
            ...(e.GlobalIPv6Address ? { address6: `${e.GlobalIPv6Address}/${e.GlobalIPv6PrefixLen}`, gateway6: i === 0 && !n.Internal ? e.IPv6Gateway : undefined } : {}),
            mtu: n.Mtu ?? this.conf.mtu, bridge: n.Bridge!, alias: this.alias(c.Id.slice(0, 12)),
          });
          made = true;
        }
        await saved;
        if (this.conf.iptables) {
          await this.fw.addPorts(rec.Ports.map(portRule));
          await this.fw.addIsolatedPorts(this.isolatedPortsOf(rec));
        }
      } catch (e) {
        await this.undo(live, made);
        if (e instanceof PortInUseError) {
          throw new SystemError(`driver failed programming external connectivity on endpoint ${c.Name.slice(1)} (${rec.Endpoints[0]?.EndpointId ?? ''}): ${e.message}`);
        }
        throw e;
      }
      return this.prepared(c, rec, this.get(wanted[0][0]));
    });
  }

  private prepared(c: ContainerRecord, rec: ContainerEndpoints, primary: NetworkRecord): NetworkPrepared {
    const e = rec.Endpoints[0];
    // Docker's order: the full name first, so `hostname -f` resolves to it
    const names = c.Config.Domainname ? `${c.Config.Hostname}.${c.Config.Domainname} ${c.Config.Hostname}` : c.Config.Hostname;
    const hosts = [`${e.IPAddress}\t${names}`, ...(e.GlobalIPv6Address ? [`${e.GlobalIPv6Address}\t${names}`] : [])];
    const env: string[] = [];
    for (const l of (c.HostConfig.Links ?? []) as string[]) {
      const [target, aliasRaw] = l.split(':');
      let other: ContainerRecord;
      try { other = this.containers!.get(target.replace(/^\//, '')); } catch { throw new InvalidParameterError(`could not get container for ${target}`); }
      const otherEp = this.live.get(other.Id)?.rec.Endpoints.find((x) => x.NetworkId === primary.Id);
      if (!other.State.Running || !otherEp) throw new InvalidParameterError(`cannot link to a non running container: ${other.Name} AS ${c.Name}/${aliasRaw ?? target}`);
      const alias = (aliasRaw ?? other.Name.slice(1)).replace(/^\//, '');
      hosts.push(`${otherEp.IPAddress}\t${alias} ${other.Config.Hostname}${alias === other.Name.slice(1) ? '' : ` ${other.Name.slice(1)}`}`);
      env.push(...linkEnv(alias, c.Name, other, otherEp.IPAddress));
    }
    const user = primary.Name !== 'bridge';
    return { netnsPath: rec.Netns, hosts, env, ...(user ? { nameservers: [e.Gateway] } : {}) };
  }

  private async holdPorts(c: ContainerRecord, live: Live, primary: EndpointRecord): Promise<void> {
    for (const r of portRequests(c)) {
      const h = await holdPort(r.host);
      live.held.push(h);
      live.rec.Ports.push({ proto: r.host.proto, containerPort: r.containerPort, hostIp: r.host.hostIp, hostPort: h.hostPort, containerIp: primary.IPAddress });
    }
    // Two containers asking for one port: the second bind fails above; in the rules, a key is
    // added only once (nft's "File exists" would fail the whole transaction).
  }

  private async undo(live: Live, made: boolean): Promise<void> {
    for (const h of live.held) h.close();
    live.held = [];
    await removeNetns(live.rec.Netns).catch(() => undefined);
    if (made) await Promise.all(live.rec.Endpoints.map((e) => ipBatch([`link del dev ${e.HostIf}`]).catch(() => undefined)));
    await this.store.removeEndpoints(live.rec.ContainerId).catch(() => undefined);
    this.live.delete(live.rec.ContainerId);
  }

  /**
   * What `host-gateway` means for this container: its first network's gateway (the host's
   * address on it); with host, none or container: networking, the default bridge's, as Docker.
   */
  hostGateway(c: ContainerRecord): string | undefined {
    const first = this.requestedNetworks(c)[0]?.[0];
    let n: NetworkRecord | undefined;
    try { n = this.get(first ?? 'bridge'); } catch { n = undefined; }
    const bridge = this.list().find((x) => x.Name === 'bridge');
    return (n && v4Pools(n)[0]?.Gateway) ?? (bridge && v4Pools(bridge)[0]?.Gateway);
  }

  /** The attachment's release: ports, namespace (and with it the veths), addresses. Idempotent. */
  release(containerId: string): Promise<void> {
    if (!this.live.has(containerId)) return Promise.resolve();
    return this.lock.run(() => this.releaseLocked(containerId));
  }

  private async releaseLocked(containerId: string): Promise<void> {
    const l = this.live.get(containerId);
    if (!l) return;
    for (const h of l.held) h.close();
    l.held = [];
    if (this.conf.iptables && l.rec.Ports.length) await this.fw.removePorts(l.rec.Ports.map(portRule)).catch(() => undefined);
    if (this.conf.iptables) await this.fw.removeIsolatedPorts(this.isolatedPortsOf(l.rec)).catch(() => undefined);
    await removeNetns(l.rec.Netns);
    await this.store.removeEndpoints(containerId);
    this.live.delete(containerId);
  }

  /**
   * At daemon start: endpoints of running containers are kept (their ports held again, their
   * rules restored with the whole table); those of any other container, namespaces and veths
   * nobody owns, are removed.
   */
  async reconcile(running: ContainerRecord[]): Promise<void> {
    await this.lock.run(async () => {
      const keep = new Set(running.map((c) => c.Id));
      for (const [cid, l] of [...this.live]) {
        if (!keep.has(cid)) {
          await this.releaseLocked(cid).catch((e) => log.warn('network leftovers not removed', { id: cid, error: errorMessage(e) }));
          continue;
        }
        for (const p of l.rec.Ports) {
          await holdPort({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort }).then((h) => l.held.push(h),
            (e) => log.warn('published port not held again', { id: cid, port: p.hostPort, error: errorMessage(e) }));
        }
      }
      for (const id of await listNetns(this.config.execRoot)) {
        if (!this.live.has(id)) await removeNetns(netnsPath(this.config.execRoot, id)).catch(() => undefined);
      }
      // veths whose container is gone (their namespace was freed, or berthd died mid-setup).
      const mine = this.alias('');
      const hostIfs = new Set([...this.live.values()].flatMap((l) => l.rec.Endpoints.map((e) => e.HostIf)));
      for (const dev of await fsp.readdir('/sys/class/net').catch(() => [] as string[])) {
        if (!dev.startsWith('veth') || hostIfs.has(dev)) continue;
        const alias = await fsp.readFile(`/sys/class/net/${dev}/ifalias`, 'utf8').catch(() => '');
        if (alias.startsWith(mine)) await ipBatch([`link del dev ${dev}`]).catch(() => undefined);
      }
      if (this.conf.iptables) {
        const bridges = this.list().filter((n) => n.Driver === 'bridge').map((n) => this.bridgeRules(n));
        await this.fw.rebuild(bridges, [...this.live.values()].flatMap((l) => l.rec.Ports.map(portRule)),
          [...this.live.values()].flatMap((l) => this.isolatedPortsOf(l.rec)));
        this.tablesReady = true;
        await this.syncDockerUser();
      }
    });
  }

  // ---- connect / disconnect (live)

  connect(networkRef: string, containerRef: string, req: EndpointRequest): Promise<void> {
    return this.lock.run(async () => {
      const n = this.get(networkRef);
      const c = this.containers!.get(containerRef);
      if (n.Name === 'host' || n.Name === 'none') throw new ForbiddenError(`container cannot be disconnected from host network or connected to host network`);
      const mode = c.HostConfig.NetworkMode;
      const reconnect = mode === 'none' && !!c.DisconnectedNetworkMode;
      if (!reconnect && (mode === 'host' || mode === 'none' || mode.startsWith('container:'))) throw new ForbiddenError(`container sharing network namespace with another container or host cannot be connected to any other network`);
      const eps = (c.NetworkEndpoints ?? {}) as Record<string, EndpointRequest>;
      if (this.requestedNetworks(c).some(([k]) => k === n.Name || k === n.Id)) throw new ForbiddenError(`endpoint with name ${c.Name.slice(1)} already exists in network ${n.Name}`);
      const probe = { ...c, NetworkEndpoints: { [n.Name]: req }, HostConfig: { ...c.HostConfig, NetworkMode: n.Name, Links: null } } as ContainerRecord;
      this.validateRequest(probe);
      const l = this.live.get(c.Id);
      if (c.State.Running && l) {
        const e = this.newEndpoint(c, n, req, nextIfIndex(l.rec), false);
        l.rec.Endpoints.push(e);
        try {
          await createEndpoint({
            netns: l.rec.Netns, createNetns: false, ifname: e.Ifname, hostIf: e.HostIf, mac: e.MacAddress,
            address: `${e.IPAddress}/${e.IPPrefixLen}`, mtu: n.Mtu ?? this.conf.mtu, bridge: n.Bridge!, alias: this.alias(c.Id.slice(0, 12)),
          });
          if (this.conf.iptables && n.Options[OPT_ICC] === 'false') await this.fw.addIsolatedPorts([e.HostIf]);
          await this.store.saveEndpoints(l.rec);
        } catch (err) {
          l.rec.Endpoints = l.rec.Endpoints.filter((x) => x !== e);
          throw err;
        }
      }
      c.NetworkEndpoints = { ...eps, [n.Name]: req };
      if (reconnect) {
        c.HostConfig.NetworkMode = n.Name;
        delete c.DisconnectedNetworkMode;
      }
      await this.containers!.save(c);
    });
  }

  disconnect(networkRef: string, containerRef: string, _force: boolean): Promise<void> {
    return this.lock.run(async () => {
      const n = this.get(networkRef);
      const c = this.containers!.get(containerRef);
      const wanted = this.requestedNetworks(c);
      if (n.Name === 'host' || n.Name === 'none') throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
      if (!wanted.some(([k]) => k === n.Name || k === n.Id)) throw new ForbiddenError(`container ${c.Id} is not connected to network ${n.Name}`);
      const l = this.live.get(c.Id);
      const e = l?.rec.Endpoints.find((x) => x.NetworkId === n.Id);
      if (l && e) {
        if (l.rec.Endpoints[0] === e && l.rec.Ports.length) {
          for (const h of l.held) h.close();
          l.held = [];
          if (this.conf.iptables) await this.fw.removePorts(l.rec.Ports.map(portRule)).catch(() => undefined);
          l.rec.Ports = [];
        }
        await deleteEndpoint(e.HostIf).catch(() => undefined);
        if (this.conf.iptables && n.Options[OPT_ICC] === 'false') await this.fw.removeIsolatedPorts([e.HostIf]).catch(() => undefined);
        l.rec.Endpoints = l.rec.Endpoints.filter((x) => x !== e);
        await this.store.saveEndpoints(l.rec);
      }
      const eps = { ...((c.NetworkEndpoints ?? {}) as Record<string, EndpointRequest>) };
      delete eps[n.Name];
      delete eps[n.Id];
      c.NetworkEndpoints = eps;
      // Disconnected from its NetworkMode network: Docker leaves the mode; the container then has
      // the other networks (or none). Keep the record consistent by naming a remaining one.
      if (primaryNetworkName(c.HostConfig.NetworkMode) === n.Name || c.HostConfig.NetworkMode === n.Id) {
        const rest = Object.keys(eps);
        c.HostConfig.NetworkMode = rest[0] ?? 'none';
        if (!rest.length) c.DisconnectedNetworkMode = n.Name;
      }
      await this.containers!.save(c);
    });
  }

  // ---- what inspect and stats show

  /** The live endpoints of a container (running), by network. */
  endpointsOf(containerId: string): { network: NetworkRecord; ep: EndpointRecord }[] {
    const l = this.live.get(containerId);
    if (!l) return [];
    return l.rec.Endpoints.flatMap((ep) => {
      const network = this.networks.get(ep.NetworkId);
      return network ? [{ network, ep }] : [];
    });
  }

  portsOf(containerId: string): PublishedPort[] {
    return this.live.get(containerId)?.rec.Ports ?? [];
  }

  view(containerId: string): ContainerNetworkView {
    return {
      endpoints: this.endpointsOf(containerId).map(({ network, ep }) => ({ name: network.Name, networkId: network.Id, ep, aliases: ep.Aliases })),
      ports: this.portsOf(containerId),
      ...(this.live.get(containerId) ? { netns: this.live.get(containerId)!.rec.Netns } : {}),
    };
  }

  /** Tests and uninstall: the daemon's bridges and tables (containers must be gone). */
  async close(): Promise<void> {
    for (const d of this.dns.values()) d.close();
    this.dns.clear();
    for (const l of this.live.values()) for (const h of l.held) h.close();
  }
}

/** `name[:alias]` (name may carry the leading slash of a container name); the alias defaults to the name. */
function parseEndpointLink(link: unknown): { target: string; alias: string } {
  if (typeof link !== 'string') throw new InvalidParameterError(`invalid link: ${String(link)}`);
  const [target, alias, ...rest] = link.split(':');
  const name = target.replace(/^\//, '');
  if (!name || rest.length || alias === '') throw new InvalidParameterError(`invalid link: ${link}`);
  return { target: name, alias: alias ?? name };
}

function nextIfIndex(rec: ContainerEndpoints): number {
  const used = new Set(rec.Endpoints.map((e) => Number(e.Ifname.slice(3))));
  let i = 0;
  while (used.has(i)) i++;
  return i;
}

function portRule(p: PublishedPort): PortRule {
  return { proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: p.containerIp, containerPort: p.containerPort };
}

/** PortBindings (and, with PublishAllPorts, every exposed port without one) as host ports to hold. */
export function portRequests(c: ContainerRecord): { containerPort: number; host: HostPortRequest }[] {
  const out: { containerPort: number; host: HostPortRequest }[] = [];
  const bindings = (c.HostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  const keys = new Set(Object.keys(bindings));
  if (c.HostConfig.PublishAllPorts) for (const k of Object.keys(c.Config.ExposedPorts ?? {})) if (!keys.has(k)) { bindings[k] = [{ HostIp: '', HostPort: '' }]; keys.add(k); }
  for (const [key, list] of Object.entries(bindings)) {
    const { port, proto } = parsePortKey(key);
    for (const b of list && list.length ? list : [{ HostIp: '', HostPort: '' }]) {
      const hostIp = b.HostIp ?? '';
      if (hostIp && !isIpv4(hostIp)) {
        // IPv6 host addresses: berth's rules are IPv4 only; "::" alongside 0.0.0.0 is what
        // the CLI sends for "-p 80" on hosts with IPv6, and the IPv4 side covers it.
        if (hostIp === '::') continue;
        throw new InvalidParameterError(`berth does not support publishing on IPv6 address ${hostIp} yet`);
      }
      out.push({ containerPort: port, host: { proto, hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostPort: parseHostPort(b.HostPort ?? '') } });
    }
  }
  return out;
}

export function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' | 'sctp' } {
  const [p, proto = 'tcp'] = key.split('/');
  const port = Number(p);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidParameterError(`invalid port specification: "${key}"`);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidParameterError(`invalid proto: ${proto}`);
  return { port, proto: proto as 'tcp' | 'udp' | 'sctp' };
}

function parseHostPort(s: string): number | [number, number] {
  if (s === '' || s === '0') return 0;
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new InvalidParameterError(`invalid hostPort: ${s}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || hi < lo) throw new InvalidParameterError(`invalid hostPort: ${s}`);
  return lo === hi ? lo : [lo, hi];
}

/** Docker's link variables: ALIAS_NAME, ALIAS_PORT, ALIAS_PORT_80_TCP{,_ADDR,_PORT,_PROTO}, ALIAS_ENV_*. */
function linkEnv(alias: string, childName: string, other: ContainerRecord, ip: string): string[] {
  const A = alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const out = [`${A}_NAME=${childName}/${alias}`];
  const ports = Object.keys(other.Config.ExposedPorts ?? {}).map(parsePortKey).sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
  if (ports.length) out.push(`${A}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
  for (const p of ports) {
    const P = `${A}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    out.push(`${P}=${p.proto}://${ip}:${p.port}`, `${P}_ADDR=${ip}`, `${P}_PORT=${p.port}`, `${P}_PROTO=${p.proto}`);
  }
  for (const e of other.Config.Env ?? []) {
    const k = e.split('=')[0];
    if (['HOME', 'HOSTNAME', 'PATH'].includes(k)) continue;
    out.push(`${A}_ENV_${e}`);
  }
  return out;
}

