// What the host uses of the IPv4 space (src/engine/networks/hostReserved.ts), which the pools'
// automatic subnets skip as Docker's do: on-link routes of the main table, nameservers.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatCidr } from '../../src/network/ipv4';
import { nameserversIn, onLinkRoutesIn } from '../../src/engine/networks/hostReserved';

// /proc/net/fib_trie of a namespace with a bridge on 10.9.1.1/24, 10.9.2.0/24 via 10.9.1.2,
// 10.9.3.0/24 and 10.9.6.7 on the bridge, a blackhole 10.9.4.0/24, 10.9.5.0/24 in table 100
// (a rule unmerges the local table from main), a default route
const UNMERGED = `Id 100:
  |-- 10.9.5.0
     /24 link UNICAST
Main:
  +-- 0.0.0.0/4 2 0 2
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.9.0.0/21 4 0 11
        |-- 10.9.1.0
           /24 link UNICAST
        |-- 10.9.2.0
           /24 universe UNICAST
        |-- 10.9.3.0
           /24 link UNICAST
        |-- 10.9.4.0
           /24 universe BLACKHOLE
        |-- 10.9.6.7
           /32 link UNICAST
Local:
  +-- 10.9.1.0/24 2 0 2
     |-- 10.9.1.1
        /32 host LOCAL
     |-- 10.9.1.255
        /32 link BROADCAST
`;

// the same host without rules: the local table's entries show in Main too
const MERGED = `Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 0.0.0.0/4 2 0 2
        |-- 0.0.0.0
           /0 universe UNICAST
        +-- 10.119.31.0/24 2 0 2
           +-- 10.119.31.0/31 1 0 0
              |-- 10.119.31.0
                 /24 link UNICAST
              |-- 10.119.31.1
                 /32 host LOCAL
           |-- 10.119.31.255
              /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 10.119.31.0/24 2 0 2
        |-- 10.119.31.0
           /24 link UNICAST
`;

test('on-link routes of the main table: not those via a gateway, blackholes, other tables, local entries', () => {
  assert.deepEqual(onLinkRoutesIn(UNMERGED).map(formatCidr), ['10.9.1.0/24', '10.9.3.0/24', '10.9.6.7/32']);
  assert.deepEqual(onLinkRoutesIn(MERGED).map(formatCidr), ['10.119.31.0/24']);
  assert.deepEqual(onLinkRoutesIn(''), []);
});

test('nameservers of a resolv.conf, in order', () => {
  const text = '# generated\nsearch example.org\nnameserver 10.9.8.7\n  nameserver fd00::53\noptions ndots:2\nnameserver 127.0.0.53\n';
  assert.deepEqual(nameserversIn(text), ['10.9.8.7', 'fd00::53', '127.0.0.53']);
  assert.deepEqual(nameserversIn(''), []);
});
