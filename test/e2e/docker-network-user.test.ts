// User-defined networks through the real docker CLI: create/ls/inspect/rm/prune, DNS between
// containers by name, alias and short id (scoped to the shared network), isolation between
// networks, --internal, connect/disconnect of a running container, and berthd killed -9 then
// restarted (rules of running containers restored, leftovers of gone ones removed).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { networkNames, type TestDaemon } from '../helpers/daemon';
import { dockerOk, inspectOf, useNetworkDaemon } from '../helpers/network';

const exec = promisify(execFile);
let d: TestDaemon;
useNetworkDaemon((x) => { d = x; });

const ok = (args: string[], timeout?: number) => dockerOk(d, args, timeout);
const inspect = (id: string) => inspectOf(d, id);

/** A /24 of this daemon's pool that no other test uses. */
function subnet(i: number): string {
  const base = networkNames(d.root).pool.split('.').slice(0, 2).join('.');
  return `${base}.${200 + i}.0/24`;
}

/** A unique local IPv6 /64 of this daemon's (from its root), no group with a leading zero. */
function ula(i: number): string {
  const h = createHash('sha256').update(d.root).digest();
  const g = (k: number) => ((h[k] << 8 | h[k + 1]) | 0x1000).toString(16);
  return `fd${(h[0] | 0x10).toString(16)}:${g(1)}:${g(3)}:${i + 1}::/64`;
}

test('network create with IPAM, labels and options; ls filters; inspect; rm 409 while in use; prune', async () => {
  const id = await ok(['network', 'create', '--subnet', subnet(1), '--gateway', subnet(1).replace('.0/24', '.254'), '--ip-range', subnet(1).replace('.0/24', '.128/25'),
    '--label', 'team=a', '-o', 'com.docker.network.driver.mtu=1400', 'net-a']);
  assert.match(id, /^[0-9a-f]{64}$/);
  const dup = await d.docker(['network', 'create', 'net-a']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /network with name net-a already exists/);
  const n = JSON.parse(await ok(['network', 'inspect', 'net-a']))[0];
  assert.deepEqual(n.IPAM.Config, [{ Subnet: subnet(1), Gateway: subnet(1).replace('.0/24', '.254'), IPRange: subnet(1).replace('.0/24', '.128/25') }]);
  assert.deepEqual(n.Labels, { team: 'a' });
  assert.equal(n.Driver, 'bridge');
  assert.equal(await ok(['network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}']), 'net-a');
  assert.equal(await ok(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']), 'net-a');
  assert.equal(await ok(['network', 'ls', '--filter', 'name=net-', '-q', '--no-trunc']), id);
  // A container on it: an address from the ip-range, the MTU, the bridge's name.
  // the bridge's MAC is fixed (a port with a lower one must not change the gateway's under the
  // containers' ARP caches)
  const sys = (f: string) => fs.readFileSync(`/sys/class/net/br-${id.slice(0, 12)}/${f}`, 'utf8').trim();
  const mac = sys('address');
  assert.equal(sys('addr_assign_type'), '3');
  const c = await ok(['run', '-d', '--network', 'net-a', 'busybox', 'sleep', '60']);
  await ok(['run', '--rm', '--network', 'net-a', 'busybox', 'true']);
  assert.equal(sys('address'), mac);
  const ep = (await inspect(c)).NetworkSettings.Networks['net-a'];
  assert.equal(ep.IPAddress, subnet(1).replace('.0/24', '.128'));
  assert.equal(ep.Gateway, subnet(1).replace('.0/24', '.254'));
  assert.equal(await ok(['exec', c, 'cat', '/sys/class/net/eth0/mtu']), '1400');
  assert.ok(fs.existsSync(`/sys/class/net/br-${id.slice(0, 12)}`));
  const rm = await d.docker(['network', 'rm', 'net-a']);
  assert.notEqual(rm.code, 0);
  assert.match(rm.stderr, new RegExp(`error while removing network: network net-a id ${id} has active endpoints`));
  const raw = await d.request('DELETE', `/networks/${id}`);
  assert.equal(raw.status, 409);
  await ok(['rm', '-f', c]);
  await ok(['network', 'create', '--subnet', subnet(2), 'net-b']);
  const pruned = await ok(['network', 'prune', '-f']);
  assert.match(pruned, /net-a/);
  assert.match(pruned, /net-b/);
  assert.equal(fs.existsSync(`/sys/class/net/br-${id.slice(0, 12)}`), false);
  assert.deepEqual((await ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n').sort(), ['bridge', 'host', 'none']);
  // Refused, not ignored: an IPv6 subnet on a network without IPv6.
  const v6 = await d.request('POST', '/networks/create', { Name: 'v6', IPAM: { Config: [{ Subnet: ula(7) }] } });
  assert.equal(v6.status, 400);
  assert.match(v6.json().message, /needs IPv6 enabled/);
  const pre = await d.docker(['network', 'rm', 'bridge']);
  assert.match(pre.stderr, /bridge is a pre-defined network and cannot be removed/);
});

test('containers on a user network resolve each other by name, alias and short id; not across networks', async () => {
  await ok(['network', 'create', '--subnet', subnet(3), 'dns-a']);
  await ok(['network', 'create', '--subnet', subnet(4), 'dns-b']);
  try {
    const srv = await ok(['run', '-d', '--name', 'srv1', '--network', 'dns-a', '--network-alias', 'db', 'debian:bookworm', 'sleep', '120']);
    const ip = (await inspect(srv)).NetworkSettings.Networks['dns-a'].IPAddress;
    const out = await ok(['run', '--rm', '--network', 'dns-a', 'debian:bookworm', 'sh', '-c',
      `getent hosts srv1; getent hosts db; getent hosts ${srv.slice(0, 12)}; cat /etc/resolv.conf`]);
    const lines = out.split('\n');
    for (const l of lines.slice(0, 3)) assert.match(l, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s`));
    assert.ok(lines.includes(`nameserver ${subnet(3).replace('.0/24', '.1')}`), out);
    // --dns on a user network: the embedded DNS stays in resolv.conf (the servers become its
    // upstreams), so names still resolve.
    const withDns = await ok(['run', '--rm', '--network', 'dns-a', '--dns', '203.0.113.53', 'debian:bookworm', 'sh', '-c', 'getent hosts srv1; grep nameserver /etc/resolv.conf']);
    assert.match(withDns, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+srv1\nnameserver ${subnet(3).replace('.0/24', '.1').replace(/\./g, '\\.')}$`));
    // Another network does not see it.
    const other = await d.docker(['run', '--rm', '--network', 'dns-b', 'debian:bookworm', 'getent', 'hosts', 'srv1']);
    assert.notEqual(other.code, 0, other.stdout);
    // The default bridge has no embedded DNS (hosts file and links only).
    const onBridge = await d.docker(['run', '--rm', 'debian:bookworm', 'getent', 'hosts', 'srv1']);
    assert.notEqual(onBridge.code, 0);
    // inspect's DNSNames and Aliases.
    const ep = (await inspect(srv)).NetworkSettings.Networks['dns-a'];
    assert.deepEqual(ep.Aliases, ['db']);
    assert.deepEqual(ep.DNSNames, ['srv1', 'db', srv.slice(0, 12)]);
    await ok(['rm', '-f', srv]);
  } finally {
    await ok(['network', 'rm', 'dns-a', 'dns-b']);
  }
});

test('isolation: no traffic between two user networks; --internal has no way out; --ip is applied', async () => {
  await ok(['network', 'create', '--subnet', subnet(5), 'iso-a']);
  await ok(['network', 'create', '--subnet', subnet(6), 'iso-b']);
  await ok(['network', 'create', '--internal', '--subnet', subnet(7), 'iso-int']);
  try {
    const a = await ok(['run', '-d', '--network', 'iso-a', '--ip', subnet(5).replace('.0/24', '.77'), 'busybox', 'sleep', '120']);
    assert.equal((await inspect(a)).NetworkSettings.Networks['iso-a'].IPAddress, subnet(5).replace('.0/24', '.77'));
    const b = await ok(['run', '-d', '--network', 'iso-b', 'busybox', 'sleep', '120']);
    const ipB = (await inspect(b)).NetworkSettings.Networks['iso-b'].IPAddress;
    const ipA = subnet(5).replace('.0/24', '.77');
    // Same network: reachable.
    await ok(['run', '--rm', '--network', 'iso-a', 'busybox', 'ping', '-c', '1', '-W', '2', ipA]);
    const cross = await d.docker(['exec', a, 'ping', '-c', '1', '-W', '2', ipB]);
    assert.notEqual(cross.code, 0, 'iso-a reached iso-b');
    const back = await d.docker(['exec', b, 'ping', '-c', '1', '-W', '2', ipA]);
    assert.notEqual(back.code, 0, 'iso-b reached iso-a');
    // Outbound works from a normal network (the host's address stands in for the outside)...
    const hostIp = fs.readFileSync('/proc/net/route', 'utf8') && (await exec('sh', ['-c', "ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1"])).stdout.trim();
    const out1 = await d.docker(['exec', a, 'ping', '-c', '1', '-W', '2', hostIp]);
    assert.equal(out1.code, 0, out1.stderr);
    // ... and not from an internal one (no default route, and the rules drop it).
    const i = await ok(['run', '-d', '--network', 'iso-int', 'busybox', 'sleep', '120']);
    const out2 = await d.docker(['exec', i, 'ping', '-c', '1', '-W', '2', hostIp]);
    assert.notEqual(out2.code, 0, 'internal network reached outside');
    await ok(['rm', '-f', a, b, i]);
  } finally {
    await ok(['network', 'rm', 'iso-a', 'iso-b', 'iso-int']);
  }
});

test('connect and disconnect a running container: eth1 appears and goes, DNS follows', async () => {
  await ok(['network', 'create', '--subnet', subnet(8), 'live-a']);
  await ok(['network', 'create', '--subnet', subnet(9), 'live-b']);
  try {
    const c = await ok(['run', '-d', '--name', 'mover', '--network', 'live-a', 'debian:bookworm', 'sleep', '120']);
    const peer = await ok(['run', '-d', '--network', 'live-b', 'debian:bookworm', 'sleep', '120']);
    assert.notEqual((await d.docker(['exec', peer, 'getent', 'hosts', 'mover'])).code, 0);
    await ok(['network', 'connect', '--ip', subnet(9).replace('.0/24', '.50'), '--alias', 'moved', 'live-b', 'mover']);
    const links = await ok(['exec', c, 'cat', '/proc/net/dev']);
    assert.match(links, /eth1:/);
    const addr = await ok(['exec', c, 'sh', '-c', 'cat /proc/net/fib_trie | grep -c ' + subnet(9).replace('.0/24', '.50')]);
    assert.ok(Number(addr) > 0);
    assert.match(await ok(['exec', peer, 'getent', 'hosts', 'moved']), new RegExp(subnet(9).replace('.0/24', '.50').replace(/\./g, '\\.')));
    const nets = (await inspect(c)).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['live-a', 'live-b']);
    assert.equal(nets['live-b'].IPAddress, subnet(9).replace('.0/24', '.50'));
    await ok(['network', 'disconnect', 'live-b', 'mover']);
    assert.doesNotMatch(await ok(['exec', c, 'cat', '/proc/net/dev']), /eth1:/);
    assert.notEqual((await d.docker(['exec', peer, 'getent', 'hosts', 'mover'])).code, 0);
    assert.deepEqual(Object.keys((await inspect(c)).NetworkSettings.Networks), ['live-a']);
    await ok(['rm', '-f', c, peer]);
  } finally {
    await ok(['network', 'rm', 'live-a', 'live-b']);
  }
});

test('berthd killed -9 and restarted: running containers keep their rules and DNS, gone ones leave nothing', async () => {
  await ok(['network', 'create', '--subnet', subnet(10), 'crash-a']);
  const keep = await ok(['run', '-d', '--name', 'keeper', '--network', 'crash-a', '-p', '0:80', 'nginx']);
  const gone = await ok(['run', '-d', '--name', 'goner', '--network', 'crash-a', '-p', '0:80', 'busybox', 'sleep', '120']);
  const port = (await ok(['port', keep, '80'])).split(':').pop()!;
  const goneInfo = await inspect(gone);
  const gonePort = (await ok(['port', gone, '80'])).split(':').pop()!;
  await d.kill9();
  // While berthd is down, one container's process dies as well.
  process.kill(goneInfo.State.Pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  await d.start();
  const curl = async () => exec('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`]).then((r) => r.stdout, () => 'fail');
  let code = '';
  for (let i = 0; i < 50 && code !== '200'; i++) { code = await curl(); if (code !== '200') await new Promise((r) => setTimeout(r, 100)); }
  assert.equal(code, '200');
  assert.match(await ok(['run', '--rm', '--network', 'crash-a', 'debian:bookworm', 'getent', 'hosts', 'keeper']), /\skeeper$/);
  const nft = (await exec('nft', ['list', 'map', 'ip', networkNames(d.root).table, 'pub_any'])).stdout;
  assert.match(nft, new RegExp(`tcp \\. ${port} :`));
  assert.doesNotMatch(nft, new RegExp(`tcp \\. ${gonePort} :`));
  assert.equal(fs.existsSync(path.join(d.execRoot, 'netns', gone)), false);
  assert.equal((await inspect(gone)).State.Running, false);
  await ok(['rm', '-f', keep, gone]);
  await ok(['network', 'rm', 'crash-a']);
});

test('the berth CLI: network create/ls/inspect/connect/disconnect/rm/prune and port', async () => {
  const b = async (args: string[]) => {
    const r = await d.berth(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const id = await b(['network', 'create', '--subnet', subnet(11), '--label', 'k=v', 'cli-net']);
  assert.match(id, /^[0-9a-f]{64}$/);
  const ls = await b(['network', 'ls']);
  assert.match(ls.split('\n')[0], /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
  assert.match(ls, new RegExp(`${id.slice(0, 12)}\\s+cli-net\\s+bridge\\s+local`));
  assert.equal(await b(['network', 'ls', '-q', '--no-trunc', '--filter', 'label=k=v']), id);
  assert.equal(await b(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'cli-net']), subnet(11));
  const c = await ok(['run', '-d', '-p', '127.0.0.1:0:80', 'busybox', 'sleep', '60']);
  const port = await b(['port', c, '80']);
  assert.match(port, /^127\.0\.0\.1:\d+$/);
  assert.equal(await b(['port', c]), `80/tcp -> ${port}`);
  await b(['network', 'connect', '--alias', 'x1', 'cli-net', c]);
  assert.ok((await inspect(c)).NetworkSettings.Networks['cli-net'].IPAddress);
  const rm = await d.berth(['network', 'rm', 'cli-net']);
  assert.notEqual(rm.code, 0);
  assert.match(rm.stderr, /has active endpoints/);
  await b(['network', 'disconnect', 'cli-net', c]);
  await ok(['rm', '-f', c]);
  assert.match(await b(['network', 'prune', '-f']), /cli-net/);
});

test('com.docker.network.bridge.enable_icc=false: containers on the network cannot reach each other, the gateway they can', async () => {
  await ok(['network', 'create', '--subnet', subnet(12), '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc']);
  try {
    const a = await ok(['run', '-d', '--network', 'noicc', 'busybox', 'sleep', '60']);
    const b = await ok(['run', '-d', '--network', 'noicc', 'busybox', 'sleep', '60']);
    const ipB = (await inspect(b)).NetworkSettings.Networks.noicc.IPAddress;
    await ok(['exec', a, 'ping', '-c', '1', '-W', '2', subnet(12).replace('.0/24', '.1')]);
    const r = await d.docker(['exec', a, 'ping', '-c', '1', '-W', '2', ipB]);
    assert.notEqual(r.code, 0, 'icc=false let a reach b');
    await ok(['rm', '-f', a, b]);
  } finally {
    await ok(['network', 'rm', 'noicc']);
  }
});

test('IPv6: an --ipv6 network gives each container an address, a default route and AAAA names; --ip6; isolation; a ULA when no subnet is given', async () => {
  const sub6 = ula(1);
  const at = (host: string) => sub6.replace('::/64', `::${host}`);
  await ok(['network', 'create', '--ipv6', '--subnet', subnet(9), '--subnet', sub6, 'six-a']);
  await ok(['network', 'create', '--ipv6', '--subnet', subnet(10), 'six-b']);
  try {
    const n = JSON.parse(await ok(['network', 'inspect', 'six-a']))[0];
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: subnet(9), Gateway: subnet(9).replace('.0/24', '.1') }, { Subnet: sub6, Gateway: at('1') }]);
    const auto = JSON.parse(await ok(['network', 'inspect', 'six-b']))[0].IPAM.Config[1];
    assert.match(auto.Subnet, /^fd[0-9a-f]{2}:[0-9a-f:]+\/64$/, 'a unique local /64 picked for six-b');

    const srv = await ok(['run', '-d', '--name', 'six1', '--network', 'six-a', '--network-alias', 'sixdb', '--ip6', at('99'), 'busybox', 'sleep', '120']);
    const ep = (await inspect(srv)).NetworkSettings.Networks['six-a'];
    assert.equal(ep.GlobalIPv6Address, at('99'));
    assert.equal(ep.GlobalIPv6PrefixLen, 64);
    assert.equal(ep.IPv6Gateway, at('1'));
    const listed = JSON.parse(await ok(['network', 'inspect', 'six-a']))[0].Containers[srv];
    assert.equal(listed.IPv6Address, `${at('99')}/64`);

    const peer = await ok(['run', '--rm', '--network', 'six-a', 'busybox', 'sh', '-c', `ip -6 route show default; ip -6 addr show dev eth0 scope global; ping -6 -c 1 -W 3 ${at('99')} >/dev/null && echo reached`]);
    assert.match(peer, new RegExp(`default via ${at('1')} dev eth0`));
    assert.match(peer, new RegExp(`inet6 ${at('2')}/64`), 'the first free address after the gateway');
    assert.match(peer, /reached/);
    const names = await ok(['run', '--rm', '--network', 'six-a', 'debian:bookworm', 'sh', '-c', 'getent ahostsv6 six1 | head -1; getent ahostsv6 sixdb | head -1; getent ahostsv4 six1 | head -1']);
    const [byName, byAlias, v4] = names.split('\n');
    assert.match(byName, new RegExp(`^${at('99')}\\s`));
    assert.match(byAlias, new RegExp(`^${at('99')}\\s`));
    assert.match(v4, new RegExp(`^${ep.IPAddress.replace(/\./g, '\\.')}\\s`), 'A records are still answered');
    const hosts = await ok(['exec', srv, 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^${at('99')}\\t`, 'm'));

    const across = await d.docker(['run', '--rm', '--network', 'six-b', 'busybox', 'ping', '-6', '-c', '1', '-W', '2', at('99')]);
    assert.notEqual(across.code, 0, 'no IPv6 traffic between two networks');
    const taken = await d.docker(['run', '--rm', '--network', 'six-a', '--ip6', at('99'), 'busybox', 'true']);
    assert.match(taken.stderr, /Address already in use/);
    const onBridge = await d.docker(['run', '--rm', '--ip6', at('5'), 'busybox', 'true']);
    assert.match(onBridge.stderr, /user specified IP address is supported on user defined networks only/);
    await ok(['rm', '-f', srv]);
  } finally {
    await d.docker(['rm', '-f', 'six1']);
    await ok(['network', 'rm', 'six-a', 'six-b']);
  }
});

test('a subnet without --subnet skips what the host sits on (an on-link route, as Docker\'s), not a gateway\'s aggregate', async () => {
  const { bip, bridge } = networkNames(d.root);
  const dev = `h${bridge.slice(1)}`; // a bridge device of this test's, on a /24 of the daemon's own pool
  const at = (s: string, last: number) => s.replace(/\.0\/24$/, `.${last}`);
  const third = (s: string) => Number(s.split('.')[2]);
  try {
    const first = JSON.parse(await ok(['network', 'inspect', await ok(['network', 'create', 'pool-a'])]))[0].IPAM.Config[0].Subnet as string;
    const used = new Set<number>([third(bip)]);
    for (const id of (await ok(['network', 'ls', '-q'])).split('\n')) {
      for (const c of JSON.parse(await ok(['network', 'inspect', id]))[0].IPAM.Config) if (!c.Subnet.includes(':')) used.add(third(c.Subnet));
    }
    // the next two /24s the pool would give
    const next: string[] = [];
    for (let i = third(first) + 1; next.length < 2; i++) if (!used.has(i)) next.push(first.replace(/\.\d+\.0\/24$/, `.${i}.0/24`));
    const [hostSide, behindGateway] = next;
    await exec('ip', ['link', 'add', dev, 'type', 'bridge']);
    await exec('ip', ['addr', 'add', `${at(hostSide, 1)}/24`, 'dev', dev]);
    await exec('ip', ['link', 'set', dev, 'up']);
    // a VPN-like aggregate through a gateway over the whole /16 (the /24s on-link stay more specific)
    await exec('ip', ['route', 'add', first.replace(/\.\d+\.0\/24$/, '.0.0/16'), 'via', at(hostSide, 2), 'dev', dev]);
    const second = JSON.parse(await ok(['network', 'inspect', await ok(['network', 'create', 'pool-b'])]))[0].IPAM.Config[0];
    assert.deepEqual(second, { Subnet: behindGateway, Gateway: at(behindGateway, 1) });
  } finally {
    await d.docker(['network', 'rm', 'pool-a', 'pool-b']);
    await exec('ip', ['link', 'del', dev]).catch(() => undefined);
  }
});
