// IPv6 text and blocks (src/network/ipv6.ts): parsing every written form, RFC 5952 output,
// containment and overlap, which IPAM relies on.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { contains6, formatCidr6, formatIp6, lastOf6, networkOf6, overlaps6, parseCidr6, parseIp6 } from '../../src/network/ipv6';

test('addresses round-trip in RFC 5952 form', () => {
  for (const [written, canonical] of [
    ['fd00::1', 'fd00::1'], ['FD00:0:0:0:0:0:0:1', 'fd00::1'], ['::', '::'], ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['2001:0db8:0000:0001:0000:0000:0000:0000', '2001:db8:0:1::'],
    ['fd12:3456:789a:1::99', 'fd12:3456:789a:1::99'], ['::ffff:10.0.0.1', '::ffff:a00:1'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ]) assert.equal(formatIp6(parseIp6(written)), canonical, written);
  for (const bad of ['fd00::1::2', '12345::', 'g::1', '1.2.3.4', '', 'fe80::1%eth0']) assert.throws(() => parseIp6(bad), /invalid IPv6 address/, bad);
});

test('blocks: network address, last address, containment, overlap', () => {
  const c = parseCidr6('fd00:1:2:3::5/64');
  assert.equal(formatCidr6(networkOf6(c)), 'fd00:1:2:3::/64');
  assert.equal(formatIp6(lastOf6(c)), 'fd00:1:2:3:ffff:ffff:ffff:ffff');
  assert.ok(contains6(c, parseIp6('fd00:1:2:3:abcd::1')));
  assert.ok(!contains6(c, parseIp6('fd00:1:2:4::1')));
  assert.ok(overlaps6(parseCidr6('fd00::/48'), parseCidr6('fd00:0:0:7::/64')));
  assert.ok(!overlaps6(parseCidr6('fd00:0:0:8::/64'), parseCidr6('fd00:0:0:7::/64')));
  assert.throws(() => parseCidr6('fd00::/129'), /invalid CIDR/);
});
