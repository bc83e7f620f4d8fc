// The bridge device of a network: made once (it survives berthd restarts, as docker0 does),
// addressed with the gateway, marked with an alias naming its owner so leftovers can be found.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { ipBatch, linkExists, sysctl } from './commands';

export interface BridgeSpec {
  name: string;
  /** "10.1.0.1/24" for each subnet (the gateway with the subnet's prefix). */
  addresses: string[];
  mtu: number;
  /** ifalias, "berth:<table>:<network id>". */
  alias: string;
}

/**
 * A Linux bridge takes the lowest MAC address of its ports unless its own is set: a starting
 * container whose veth has a lower one would change the gateway's MAC under the running
 * containers' ARP caches, and their traffic to the gateway (the embedded DNS included) would be
 * lost until the entries expire, up to a minute. So the address is fixed (as dockerd does): at
 * creation one of berth's from the bridge's name (locally administered), on a bridge made
 * before this rule the one it has now.
 */
function fixedAddress(name: string): string | undefined {
  if (!linkExists(name)) return '02:' + createHash('sha256').update(`berth-bridge:${name}`).digest('hex').slice(0, 10).match(/../g)!.join(':');
  const assigned = fs.readFileSync(`/sys/class/net/${name}/addr_assign_type`, 'utf8').trim();
  return assigned === '3' ? undefined : fs.readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim(); // 3: set by a user
}

export async function ensureBridge(b: BridgeSpec): Promise<void> {
  const lines: string[] = [];
  const mac = fixedAddress(b.name);
  if (!linkExists(b.name)) lines.push(`link add name ${b.name} mtu ${b.mtu} type bridge`);
  if (mac) lines.push(`link set dev ${b.name} address ${mac}`);
  // `replace`: the address is there after a crash half-way through, and no error if it already is.
  for (const a of b.addresses) lines.push(`addr replace ${a} dev ${b.name}${a.includes(':') ? ' nodad' : ''}`);
  lines.push(`link set dev ${b.name} alias ${b.alias} up`);
  await ipBatch(lines);
  // Published ports answer on 127.0.0.1 too: the DNAT'd packet leaves by the bridge with a
  // loopback source, which the kernel drops as martian unless route_localnet is set there.
  sysctl(`net.ipv4.conf.${b.name}.route_localnet`, '1');
  sysctl('net.ipv4.ip_forward', '1');
}

export async function deleteBridge(name: string): Promise<void> {
  if (linkExists(name)) await ipBatch([`link del dev ${name}`]);
}
