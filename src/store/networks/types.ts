// The network store: a record per network (Docker's shape, minus what is computed) and a
// record per container with the endpoints and port maps its running task holds. Endpoint
// records are what a restarted daemon finds again (IPs in use, rules to restore) and what its
// reconcile removes for containers that are gone.

export interface IpamPool {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
}

export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Scope: 'local';
  /** "bridge", "host" or "null". */
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamPool[] };
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** berth: the bridge device (bridge driver only). */
  Bridge?: string;
  /** berth: the MTU of the bridge and its veths. */
  Mtu?: number;
}

export interface EndpointRecord {
  NetworkId: string;
  EndpointId: string;
  /** In the container: eth0, eth1, ... */
  Ifname: string;
  /** On the host, on the bridge. */
  HostIf: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  Aliases: string[];
  /** The address was asked for (--ip): kept across restarts. */
  StaticIp?: boolean;
  /** On networks with EnableIPv6: the container's IPv6 address, its prefix and the gateway. */
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPv6Gateway?: string;
}

export interface PublishedPort {
  proto: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
  containerIp: string;
}

export interface ContainerEndpoints {
  ContainerId: string;
  Netns: string;
  Endpoints: EndpointRecord[];
  Ports: PublishedPort[];
}

export interface NetworkStore {
  /** Every record; torn or unreadable ones are reported, not returned. */
  load(): Promise<{ networks: NetworkRecord[]; endpoints: ContainerEndpoints[]; unreadable: string[] }>;
  saveNetwork(n: NetworkRecord): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  saveEndpoints(e: ContainerEndpoints): Promise<void>;
  removeEndpoints(containerId: string): Promise<void>;
}
