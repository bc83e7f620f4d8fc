// The container's network endpoints as an attachment: before the runtime creates the task, a
// network namespace bound under the exec root with an interface per network (address, MAC,
// default route) and the published ports; released at exit and removal; at daemon start the
// endpoints of running containers are restored (rules, held ports) and the rest removed.
// Prepared before etc-files, which writes the address and the resolvers it hands on.
import type { NetworkService } from '../../networks/NetworkService';
import type { Attachment } from './types';

export function networkAttachment(networks: NetworkService): Attachment {
  return {
    name: 'network',
    async prepare(c) {
      const p = await networks.attach(c);
      const hostGateway = networks.hostGateway(c);
      if (!p) return hostGateway ? { hostGateway } : {};
      return { netnsPath: p.netnsPath, hosts: p.hosts, env: p.env, hostGateway, ...(p.nameservers ? { nameservers: p.nameservers } : {}) };
    },
    async release(c) {
      await networks.release(c.Id);
    },
    async reconcile({ running }) {
      await networks.reconcile(running);
    },
  };
}
