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
    `link set dev ${e.ifname} up`,
    ...(e.gateway ? [`route add default via ${e.gateway} dev ${e.ifname}`] : []),
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
