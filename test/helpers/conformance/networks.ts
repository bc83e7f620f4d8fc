// The network store's conformance suite: any NetworkStore passes it. Records survive a reopen
// (a daemon restart), removal is idempotent, and a torn record is reported, never returned.
import { describe } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ContainerEndpoints, NetworkRecord, NetworkStore } from '../../../src/store/networks/types';
import { harnessTest } from './util';

export interface NetworkHarness {
  /** A new store instance on the same state: a daemon (re)start. */
  open(): Promise<NetworkStore>;
  /** Leaves a torn record (a crash mid-write without the rename discipline, or a disk error). */
  tear(kind: 'network' | 'endpoints', id: string): Promise<void>;
  cleanup(): Promise<void>;
}

const id = (c: string) => c.repeat(64);

function network(c: string, name: string): NetworkRecord {
  return {
    Id: id(c), Name: name, Created: '2026-01-01T00:00:00Z', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.9.0.0/24', Gateway: '10.9.0.1' }] },
    Internal: false, Attachable: false, Labels: { a: 'b' }, Options: {}, Bridge: `br-${c}`, Mtu: 1500,
  };
}

function endpoints(c: string): ContainerEndpoints {
  return {
    ContainerId: id(c), Netns: `/run/berth/netns/${id(c)}`,
    Endpoints: [{ NetworkId: id('a'), EndpointId: id('e'), Ifname: 'eth0', HostIf: 'veth1234567', IPAddress: '10.9.0.2', IPPrefixLen: 24, Gateway: '10.9.0.1', MacAddress: '02:42:0a:09:00:02', Aliases: [] }],
    Ports: [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPort: 8080, containerIp: '10.9.0.2' }],
  };
}

export function networkStoreConformance(name: string, factory: () => Promise<NetworkHarness>): void {
  describe(`NetworkStore conformance: ${name}`, () => {
    const withStore = harnessTest<NetworkStore, NetworkHarness>(factory);
    withStore('records survive a reopen; saves replace; removes are idempotent', async (first, h) => {
      let s = first;
      assert.deepEqual(await s.load(), { networks: [], endpoints: [], unreadable: [] });
      await s.saveNetwork(network('a', 'one'));
      await s.saveNetwork(network('b', 'two'));
      await s.saveNetwork({ ...network('b', 'two'), Labels: { c: 'd' } });
      await s.saveEndpoints(endpoints('c'));
      s = await h.open();
      const got = await s.load();
      assert.deepEqual(got.networks.sort((x, y) => x.Name.localeCompare(y.Name)), [network('a', 'one'), { ...network('b', 'two'), Labels: { c: 'd' } }]);
      assert.deepEqual(got.endpoints, [endpoints('c')]);
      await s.removeNetwork(id('a'));
      await s.removeNetwork(id('a'));
      await s.removeEndpoints(id('c'));
      await s.removeEndpoints(id('c'));
      s = await h.open();
      const after = await s.load();
      assert.deepEqual(after.networks.map((n) => n.Name), ['two']);
      assert.deepEqual(after.endpoints, []);
    });

    withStore('a torn record is reported as unreadable and not returned; the others load', async (s, h) => {
      await s.saveNetwork(network('a', 'one'));
      await s.saveEndpoints(endpoints('c'));
      await h.tear('network', id('d'));
      await h.tear('endpoints', id('e'));
      const got = await (await h.open()).load();
      assert.deepEqual(got.networks.map((n) => n.Name), ['one']);
      assert.equal(got.endpoints.length, 1);
      assert.equal(got.unreadable.length, 2);
    });
  });
}
