// One network interface of a container: a veth pair, one end in the container's namespace
// (eth0, eth1, ...) with its address, MAC and (for the first) the default route, the other end
// on the network's bridge. Two ip batches: one inside the namespace (made by the first), one on
// the host.
import { ipBatch } from './commands';

export interface EndpointSpec {
  netns: string;
  /** The namespace does not exist yet: the first endpoint makes it. */
  createNetns: boolean;
  ifname: string;
  hostIf: string;
  mac: string;
  /** "10.1.0.2/24". */
  address: string;
  /** The default route's gateway, for the container's first network only. */
  gateway?: string;
  /** "fd00:1::2/64", on networks with IPv6. */
  address6?: string;
  /** The IPv6 default route's gateway (first network only). */
  gateway6?: string;
  mtu: number;
  bridge: string;
  alias: string;
}

export async function createEndpoint(e: EndpointSpec): Promise<void> {
  const inside = [
    ...(e.createNetns ? ['link set dev lo up'] : []),
    // The peer is made straight in berthd's namespace (the host's): no move afterwards.
    `link add name ${e.ifname} address ${e.mac} mtu ${e.mtu} type veth peer name ${e.hostIf} mtu ${e.mtu} netns ${process.pid}`,
    `addr add ${e.address} dev ${e.ifname}`,
    // nodad: the address is usable at once (IPAM made it unique on the network)
    ...(e.address6 ? [`addr add ${e.address6} dev ${e.ifname} nodad`] : []),
    `link set dev ${e.ifname} up`,
    ...(e.gateway ? [`route add default via ${e.gateway} dev ${e.ifname}`] : []),
    ...(e.gateway6 ? [`route add default via ${e.gateway6} dev ${e.ifname}`] : []),
  ];
  await ipBatch(inside, e.createNetns ? { create: e.netns } : { enter: e.netns });
  try {
    await ipBatch([`link set dev ${e.hostIf} master ${e.bridge} alias ${e.alias} up`]);
  } catch (err) {
    await ipBatch([`link del dev ${e.hostIf}`]).catch(() => undefined);
    throw err;
  }
}

/** Removes a live container's interface (disconnect): deleting the host end deletes both. */
export async function deleteEndpoint(hostIf: string): Promise<void> {
  await ipBatch([`link del dev ${hostIf}`]);
}
