// berth's packet rules: nftables tables of its own (`table ip <name>` for NAT, port maps and
// isolation, `table bridge <name>` for icc=false), never a rule in anyone else's table, never a
// flush of what berth did not write. The rules are fixed; what changes per network and per
// container are elements of sets and maps, so adding or removing a container's ports is one
// `add element`/`delete element` transaction and needs no rule handles.
//
// Coexistence with dockerd (iptables, legacy or nft-backed): its chains live in other tables
// (`ip filter`, `ip nat`); every base chain on a hook sees each packet, so berth's rules run
// whatever dockerd has, and ours never reorder its. An `accept` here is final only for our
// chain: a FORWARD policy DROP of dockerd's still drops forwarded packets afterwards (netfilter
// has no cross-table accept). Our forward chain runs at priority filter - 10, before
// iptables' FORWARD, so our drops (isolation, internal) hold even when dockerd accepts; where
// dockerd's FORWARD policy is DROP, dockerUser.ts lets berth's bridges through DOCKER-USER.
import { nft } from './commands';

export interface BridgeRules {
  /** The bridge device. */
  name: string;
  /** Its subnets, "10.1.0.0/24" (and "fd00:1::/64" on IPv6 networks). */
  subnets: string[];
  internal: boolean;
  /** Outbound NAT (Docker's ip-masq / com.docker.network.bridge.enable_ip_masquerade). */
  masquerade: boolean;
  icc: boolean;
}

export interface PortRule {
  proto: 'tcp' | 'udp' | 'sctp';
  /** '' (or 0.0.0.0): every local address; else that address only. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

const q = (s: string) => JSON.stringify(s);
const v6 = (subnet: string) => subnet.includes(':');

function anyHost(p: PortRule): boolean {
  return p.hostIp === '' || p.hostIp === '0.0.0.0';
}

function portKey(p: PortRule): string {
  return anyHost(p) ? `${p.proto} . ${p.hostPort}` : `${p.hostIp} . ${p.proto} . ${p.hostPort}`;
}

function portElement(p: PortRule): string {
  return `${portKey(p)} : ${p.containerIp} . ${p.containerPort}`;
}

function elements(list: string[]): string {
  return list.length ? ` elements = { ${list.join(', ')} };` : '';
}

export class Firewall {
  constructor(readonly table: string) {}

  /** The whole of berth's tables, replaced in one transaction (daemon start: rules restored). */
  async rebuild(bridges: BridgeRules[], ports: PortRule[], isolatedPorts: string[] = []): Promise<void> {
    const t = this.table;
    const pubAny = ports.filter(anyHost).map(portElement);
    const pubIp = ports.filter((p) => !anyHost(p)).map(portElement);
    const names = bridges.map((b) => q(b.name));
    const pairs = bridges.filter((b) => b.icc).map((b) => `${q(b.name)} . ${q(b.name)}`);
    const internal = bridges.filter((b) => b.internal).map((b) => q(b.name));
    const masqAll = bridges.filter((b) => b.masquerade && !b.internal).flatMap((b) => b.subnets);
    const masq = masqAll.filter((s) => !v6(s));
    const masq6 = masqAll.filter(v6);
    const noicc = isolatedPorts.map(q);
    // The same in both families: the bridges, which of them may talk, isolation between them.
    const bridgeSets = `  set bridges { type ifname;${elements(names)} }
  set pairs { type ifname . ifname;${elements(pairs)} }
  set internal { type ifname;${elements(internal)} }
`;
    const forward = `  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname @internal oifname != @internal drop
    oifname @internal iifname != @internal drop
    ct state established,related accept
    ct status dnat accept
    iifname . oifname @pairs accept
    # Isolation between networks; and nothing from outside opens a connection to a container
    # except through a published port.
    iifname @bridges oifname @bridges drop
    oifname @bridges ct state new drop
  }
`;
    const script = `
table ip ${t} {}
delete table ip ${t}
table bridge ${t} {}
delete table bridge ${t}
table ip6 ${t} {}
delete table ip6 ${t}
table ip ${t} {
  map pub_any { type inet_proto . inet_service : ipv4_addr . inet_service;${elements(pubAny)} }
  map pub_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service;${elements(pubIp)} }
${bridgeSets}  set masq { type ipv4_addr; flags interval;${elements(masq)} }
  chain ports {
    dnat ip to meta l4proto . th dport map @pub_any
    dnat ip to ip daddr . meta l4proto . th dport map @pub_ip
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump ports
  }
  # The host's own connections to its published ports (localhost included: the bridges have
  # route_localnet, and the source is masqueraded below).
  chain output {
    type nat hook output priority -100; policy accept;
    fib daddr type local jump ports
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct status dnat ip saddr 127.0.0.0/8 masquerade
    # Hairpin: a container reaching a published port; the reply must come back through the host.
    ct status dnat iifname @bridges oifname @bridges masquerade
    ip saddr @masq oifname != @bridges masquerade
  }
${forward}}
# IPv6 networks: the same isolation; outbound NAT of their subnets (as dockerd with ip6tables)
# where the host forwards IPv6. No published ports on IPv6 addresses.
table ip6 ${t} {
${bridgeSets}  set masq { type ipv6_addr; flags interval;${elements(masq6)} }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip6 saddr @masq oifname != @bridges masquerade
  }
${forward}}
# icc=false: the bridge ports (host ends of veths) of such networks forward nothing to each other.
table bridge ${t} {
  set noicc { type ifname;${elements(noicc)} }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname @noicc oifname @noicc drop
  }
}
`;
    await nft(script);
  }

  /** One transaction: all of a container's port maps, or none (a taken port fails the lot). */
  async addPorts(ports: PortRule[]): Promise<void> {
    if (!ports.length) return;
    await nft(ports.map((p) => `add element ip ${this.table} ${anyHost(p) ? 'pub_any' : 'pub_ip'} { ${portElement(p)} }`).join('\n') + '\n');
  }

  async removePorts(ports: PortRule[]): Promise<void> {
    const lines = ports.map((p) => `delete element ip ${this.table} ${anyHost(p) ? 'pub_any' : 'pub_ip'} { ${portKey(p)} }`);
    await this.removeEach(lines);
  }

  /** The host ends of a container's veths on icc=false networks. */
  async addIsolatedPorts(names: string[]): Promise<void> {
    if (names.length) await nft(`add element bridge ${this.table} noicc { ${names.map(q).join(', ')} }\n`);
  }

  async removeIsolatedPorts(names: string[]): Promise<void> {
    await this.removeEach(names.map((n) => `delete element bridge ${this.table} noicc { ${q(n)} }`));
  }

  async addBridge(b: BridgeRules): Promise<void> {
    await nft(this.bridgeLines('add', b).join('\n') + '\n');
  }

  async removeBridge(b: BridgeRules): Promise<void> {
    await this.removeEach(this.bridgeLines('delete', b));
  }

  private bridgeLines(op: 'add' | 'delete', b: BridgeRules): string[] {
    const n = q(b.name);
    const lines: string[] = [];
    for (const family of ['ip', 'ip6']) {
      const t = `${family} ${this.table}`;
      lines.push(`${op} element ${t} bridges { ${n} }`);
      if (b.icc) lines.push(`${op} element ${t} pairs { ${n} . ${n} }`);
      const subnets = b.subnets.filter((s) => v6(s) === (family === 'ip6'));
      if (b.internal) lines.push(`${op} element ${t} internal { ${n} }`);
      else if (b.masquerade && subnets.length) lines.push(`${op} element ${t} masq { ${subnets.join(', ')} }`);
    }
    return lines;
  }

  /** Deletes in one transaction; if some element is already gone, the rest one by one. */
  private async removeEach(lines: string[]): Promise<void> {
    if (!lines.length) return;
    try {
      await nft(lines.join('\n') + '\n');
    } catch {
      for (const l of lines) await nft(l + '\n').catch(() => undefined);
    }
  }

  /** At the daemon's stop of its last use (tests, uninstall): both tables gone. */
  async removeTables(): Promise<void> {
    await nft(['ip', 'ip6', 'bridge'].map((f) => `table ${f} ${this.table} {}\ndelete table ${f} ${this.table}\n`).join(''));
  }
}
