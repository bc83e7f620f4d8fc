// The bridge device of a network: made once (it survives berthd restarts, as docker0 does),
// addressed with the gateway, marked with an alias naming its owner so leftovers can be found.
import { ipBatch, linkExists, sysctl } from './commands';

export interface BridgeSpec {
  name: string;
  /** "10.1.0.1/24" for each subnet (the gateway with the subnet's prefix). */
  addresses: string[];
  mtu: number;
  /** ifalias, "berth:<table>:<network id>". */
  alias: string;
}

export async function ensureBridge(b: BridgeSpec): Promise<void> {
  const lines: string[] = [];
  if (!linkExists(b.name)) lines.push(`link add name ${b.name} mtu ${b.mtu} type bridge`);
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
