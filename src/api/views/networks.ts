// The JSON shapes of the network endpoints (`GET /networks`, `/networks/{id}`, create, prune),
// as Docker's, from the network service's records and live endpoints.
import type { NetworkRecord } from '../../store/networks/types';
import type { EndpointRecord } from '../../store/networks/types';

export interface NetworkEndpointView { containerId: string; name: string; ep: EndpointRecord }

export function networkView(n: NetworkRecord, endpoints?: NetworkEndpointView[]): Record<string, unknown> {
  return {
    Name: n.Name, Id: n.Id, Created: n.Created, Scope: n.Scope, Driver: n.Driver, EnableIPv4: true, EnableIPv6: n.EnableIPv6,
    IPAM: { Driver: n.IPAM.Driver, Options: n.IPAM.Options, Config: n.IPAM.Config.map((p) => ({ Subnet: p.Subnet, Gateway: p.Gateway, ...(p.IPRange ? { IPRange: p.IPRange } : {}) })) },
    Internal: n.Internal, Attachable: n.Attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: Object.fromEntries((endpoints ?? []).map((e) => [e.containerId, {
      Name: e.name, EndpointID: e.ep.EndpointId, MacAddress: e.ep.MacAddress, IPv4Address: `${e.ep.IPAddress}/${e.ep.IPPrefixLen}`, IPv6Address: e.ep.GlobalIPv6Address ? `${e.ep.GlobalIPv6Address}/${e.ep.GlobalIPv6PrefixLen}` : '',
    }])),
    Options: n.Options, Labels: n.Labels,
  };
}
