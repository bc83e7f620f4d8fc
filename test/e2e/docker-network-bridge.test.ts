// The default bridge network through the real docker CLI: an eth0 with the address inspect
// shows, outbound reach to the gateway, published ports (nginx through -p, checked with curl
// from the host's loopback, the host's own address, another container and a namespace that
// plays another machine), -P, a taken host port, links, and nothing left behind.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import { promisify } from 'node:util';
import { networkNames, type TestDaemon } from '../helpers/daemon';
import { dockerOk, inspectOf, useNetworkDaemon } from '../helpers/network';

const exec = promisify(execFile);
let d: TestDaemon;
useNetworkDaemon((x) => { d = x; });

const ok = (args: string[], timeout?: number) => dockerOk(d, args, timeout);
const inspect = (id: string) => inspectOf(d, id);

/** The host's own non-loopback IPv4 address (the one of its default route). */
function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no host address');
}

async function curl(url: string, extra: string[] = []): Promise<string> {
  const r = await exec('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', ...extra, url]).catch((e) => ({ stdout: `fail ${e.code}` }));
  return r.stdout;
}

async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('docker network ls lists bridge, host and none as Docker does', async () => {
  const out = await ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
  assert.deepEqual(out.split('\n').sort(), ['bridge bridge local', 'host host local', 'none null local']);
});

test('a container on the default bridge has eth0 with the address inspect shows, and a default route', async () => {
  const id = await ok(['run', '-d', 'busybox', 'sleep', '60']);
  try {
    const c = await inspect(id);
    const ns = c.NetworkSettings;
    const n = networkNames(d.root);
    assert.equal(ns.Networks.bridge.Gateway, n.bip.split('/')[0]);
    assert.equal(ns.IPAddress, ns.Networks.bridge.IPAddress);
    assert.match(ns.IPAddress, /^10\./);
    assert.equal(ns.IPPrefixLen, 24);
    assert.match(ns.MacAddress, /^02:42:/);
    assert.match(ns.Networks.bridge.NetworkID, /^[0-9a-f]{64}$/);
    const addr = await ok(['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.match(addr, new RegExp(`inet ${ns.IPAddress.replace(/\./g, '\\.')}/24`));
    const link = await ok(['exec', id, 'cat', '/sys/class/net/eth0/address']);
    assert.equal(link, ns.MacAddress);
    const route = await ok(['exec', id, 'ip', 'route']);
    assert.match(route, new RegExp(`default via ${ns.Gateway.replace(/\./g, '\\.')}`));
    await ok(['exec', id, 'ping', '-c', '1', '-W', '2', ns.Gateway]);
    const hosts = await ok(['exec', id, 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`${ns.IPAddress.replace(/\./g, '\\.')}\\t${id.slice(0, 12)}`));
    // docker network inspect names the container with its address.
    const net = JSON.parse(await ok(['network', 'inspect', 'bridge']))[0];
    assert.equal(net.Containers[id].IPv4Address, `${ns.IPAddress}/24`);
    // stats: the eth0 counters are real (the ping above sent and received).
    const stats = JSON.parse((await d.request('GET', `/containers/${id}/stats?stream=false`)).body.toString());
    assert.ok(stats.networks.eth0.rx_packets > 0 && stats.networks.eth0.tx_bytes > 0, JSON.stringify(stats.networks));
  } finally {
    await ok(['rm', '-f', id]);
  }
});

test('--ip on the default bridge is refused as Docker does; --mac-address and --hostname apply', async () => {
  const bad = await d.docker(['run', '--rm', '--ip', '10.9.9.9', 'busybox', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /user specified IP address is supported on user defined networks only/);
  const out = await ok(['run', '--rm', '--mac-address', '02:42:de:ad:be:ef', '--hostname', 'web1', '--add-host', 'gw:host-gateway', 'busybox', 'sh', '-c',
    'cat /sys/class/net/eth0/address; hostname; grep web1 /etc/hosts; grep gw /etc/hosts']);
  const [mac, host, line, gw] = out.split('\n');
  assert.equal(mac, '02:42:de:ad:be:ef');
  assert.equal(host, 'web1');
  assert.match(line, /^10\.\S+\tweb1$/);
  // host-gateway: the host's address on the container's network (the bridge's gateway).
  assert.equal(gw, `${networkNames(d.root).bip.split('/')[0]}\tgw`);
  const onHost = await ok(['run', '--rm', '--network', 'host', '--add-host', 'gw2:host-gateway', 'busybox', 'grep', 'gw2', '/etc/hosts']);
  assert.equal(onHost, `${networkNames(d.root).bip.split('/')[0]}\tgw2`);
});

test('nginx through -p answers on 127.0.0.1, on the host address, from another container and from another machine', async () => {
  const id = await ok(['run', '-d', '-p', '0:80', 'nginx']);
  try {
    const port = (await ok(['port', id, '80/tcp'])).split('\n')[0].split(':').pop()!;
    assert.match(port, /^\d+$/);
    const host = hostAddress();
    assert.ok(await until(async () => (await curl(`http://127.0.0.1:${port}/`)) === '200'), 'nginx on 127.0.0.1');
    assert.equal(await curl(`http://${host}:${port}/`), '200');
    // Hairpin: another container on the bridge reaches the published port by the host's address.
    // (busybox-static's wget crashes in its resolver: a raw request through nc.)
    const fromCtr = await ok(['run', '--rm', 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port}`]);
    assert.match(fromCtr, /^HTTP\/1\.1 200/);
    // Another machine: a namespace with a veth to the host, routed via the host's end.
    const tag = Math.random().toString(36).slice(2, 8);
    // A /30 of TEST-NET-2 picked at random: two runs side by side must not share the addresses.
    const q = 4 * Math.floor(Math.random() * 64);
    const [farHost, farIp] = [`198.51.100.${q + 1}`, `198.51.100.${q + 2}`];
    const ns = `bt-far-${tag}`;
    const [a, b] = [`vfa${tag}`, `vfb${tag}`];
    await exec('ip', ['netns', 'add', ns]);
    try {
      await exec('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', ns]);
      await exec('ip', ['addr', 'add', `${farHost}/30`, 'dev', a]);
      await exec('ip', ['link', 'set', a, 'up']);
      await exec('ip', ['-n', ns, 'addr', 'add', `${farIp}/30`, 'dev', b]);
      await exec('ip', ['-n', ns, 'link', 'set', b, 'up']);
      await exec('ip', ['-n', ns, 'route', 'add', 'default', 'via', farHost]);
      const far = await exec('ip', ['netns', 'exec', ns, 'curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${host}:${port}/`]).then((r) => r.stdout, (e) => `fail ${e.stderr}`);
      assert.equal(far, '200');
      // ... but not the container's own address (only published ports are reachable from outside).
      const ip = (await inspect(id)).NetworkSettings.IPAddress;
      await exec('ip', ['netns', 'exec', ns, 'ip', 'route', 'add', ip, 'via', farHost]).catch(() => undefined);
      const direct = await exec('ip', ['netns', 'exec', ns, 'curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://${ip}:80/`]).then((r) => r.stdout, () => 'fail');
      assert.notEqual(direct, '200');
    } finally {
      await exec('ip', ['link', 'del', a]).catch(() => undefined);
      await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
    const c = await inspect(id);
    assert.deepEqual(c.NetworkSettings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: port }]);
    const ps = await ok(['ps', '--filter', `id=${id}`, '--format', '{{.Ports}}']);
    assert.equal(ps, `0.0.0.0:${port}->80/tcp`);
  } finally {
    await ok(['rm', '-f', id]);
  }
});

test('-P publishes EXPOSE on random ports; 127.0.0.1:PORT binds only loopback; udp maps', async () => {
  const id = await ok(['run', '-d', '-P', 'nginx']);
  const id2 = await ok(['run', '-d', '-p', '127.0.0.1:0:80', 'nginx']);
  const id3 = await ok(['run', '-d', '-p', '0:5353/udp', 'busybox', 'sleep', '60']);
  try {
    const port = (await ok(['port', id, '80'])).split('\n')[0].split(':').pop()!;
    assert.ok(await until(async () => (await curl(`http://127.0.0.1:${port}/`)) === '200'));
    const local = await ok(['port', id2, '80']);
    assert.match(local, /^127\.0\.0\.1:\d+$/);
    const lport = local.split(':')[1];
    assert.ok(await until(async () => (await curl(`http://127.0.0.1:${lport}/`)) === '200'));
    assert.notEqual(await curl(`http://${hostAddress()}:${lport}/`), '200');
    // busybox has no UDP server: the map is checked in the rules, and the port is held (taken).
    const uport = (await ok(['port', id3, '5353/udp'])).split('\n')[0].split(':').pop()!;
    const ip3 = (await inspect(id3)).NetworkSettings.IPAddress;
    const map = await exec('nft', ['list', 'map', 'ip', networkNames(d.root).table, 'pub_any']).then((r) => r.stdout);
    assert.match(map, new RegExp(`udp \\. ${uport} : ${ip3.replace(/\./g, '\\.')} \\. 5353`));
    const again = await d.docker(['run', '-d', '--name', 'udp2', '-p', `${uport}:5353/udp`, 'busybox', 'sleep', '5']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /address already in use/);
    await ok(['rm', 'udp2']);
  } finally {
    await ok(['rm', '-f', id, id2, id3]);
  }
});

test('a host port already taken (by a process, by another container) is a clear error and no half-started container', async () => {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', () => r()));
  const taken = (srv.address() as { port: number }).port;
  try {
    const r = await d.docker(['run', '-d', '--name', 'taken1', '-p', `${taken}:80`, 'busybox', 'sleep', '30']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`0\\.0\\.0\\.0:${taken}/tcp: address already in use`));
    const st = await inspect('taken1');
    assert.equal(st.State.Running, false);
    assert.deepEqual(st.NetworkSettings.Networks.bridge.IPAddress, '');
    await ok(['rm', 'taken1']);
  } finally {
    srv.close();
  }
  const first = await ok(['run', '-d', '-p', '0:80', 'busybox', 'sleep', '30']);
  try {
    const port = (await ok(['port', first, '80'])).split(':').pop()!;
    const r = await d.docker(['run', '-d', '--name', 'taken2', '-p', `${port}:80`, 'busybox', 'sleep', '30']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /address already in use/);
    await ok(['rm', 'taken2']);
  } finally {
    await ok(['rm', '-f', first]);
  }
});

test('--link on the default bridge: hosts entry and the ALIAS_ environment variables', async () => {
  const srv = await ok(['run', '-d', '--name', 'linked1', '-e', 'SECRET=x', '--expose', '8080', 'busybox', 'sleep', '60']);
  try {
    const ip = (await inspect(srv)).NetworkSettings.IPAddress;
    const out = await ok(['run', '--rm', '--name', 'client1', '--link', 'linked1:db', 'busybox', 'sh', '-c', 'grep db /etc/hosts; env | grep ^DB_ | sort']);
    assert.match(out, new RegExp(`${ip.replace(/\./g, '\\.')}\\tdb ${srv.slice(0, 12)} linked1`));
    assert.match(out, /DB_NAME=\/client1\/db/);
    assert.match(out, new RegExp(`DB_PORT=tcp://${ip}:8080`));
    assert.match(out, new RegExp(`DB_PORT_8080_TCP_ADDR=${ip}`));
    assert.match(out, /DB_PORT_8080_TCP_PORT=8080/);
    assert.match(out, /DB_ENV_SECRET=x/);
  } finally {
    await ok(['rm', '-f', srv]);
  }
});

test('kill -9 of the container process releases its address, namespace and ports', async () => {
  const id = await ok(['run', '-d', '-p', '0:80', 'busybox', 'sleep', '60']);
  const c = await inspect(id);
  const port = (await ok(['port', id, '80'])).split(':').pop()!;
  process.kill(c.State.Pid, 'SIGKILL');
  assert.ok(await until(async () => !(await inspect(id)).State.Running));
  assert.ok(await until(async () => {
    const nft = await exec('nft', ['list', 'map', 'ip', networkNames(d.root).table, 'pub_any']).then((r) => r.stdout, () => '');
    return !nft.includes(`. ${port} :`);
  }), 'the port map is gone');
  // The port is free again: another container takes it.
  const again = await ok(['run', '-d', '-p', `${port}:80`, 'busybox', 'sleep', '30']);
  await ok(['rm', '-f', id, again]);
});
