// berth beside dockerd's packet rules. The daemon runs in a network namespace of its own that
// plays a host where dockerd has run: the iptables FORWARD policy DROP and the DOCKER-USER chain
// that dockerd leaves (made here with the iptables command, as dockerd makes them; no dockerd
// runs). A second namespace plays another machine on the host's LAN. Checked: a container
// reaches the other machine, a published port answers it, berth's rules sit in DOCKER-USER
// (and nowhere else of dockerd's), a user network gets its pair and loses it on rm, isolation
// between berth's networks still holds, and with berth's rules taken away the traffic is
// dropped (so the test can fail) until a restart of berthd puts them back.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

const exec = promisify(execFile);
const HOST_NS = `bch${process.pid}`;
const LAN_NS = `bcl${process.pid}`;
const HOST_IP = '192.0.2.1';
const LAN_IP = '192.0.2.2';

let d: TestDaemon;
let lanServer: ChildProcess | undefined;

const inNs = (ns: string, cmd: string, ...args: string[]) => exec('ip', ['netns', 'exec', ns, cmd, ...args]);
const iptables = (...args: string[]) => inNs(HOST_NS, 'iptables', '-w', ...args);
const dockerUser = async () => (await iptables('-S', 'DOCKER-USER')).stdout.trim().split('\n');

before(async () => {
  await exec('ip', ['netns', 'add', HOST_NS]);
  await exec('ip', ['netns', 'add', LAN_NS]);
  await exec('ip', ['-n', HOST_NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', LAN_NS]);
  for (const [ns, ip] of [[HOST_NS, HOST_IP], [LAN_NS, LAN_IP]]) {
    await exec('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await exec('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // what dockerd leaves on a host (its FORWARD jump to DOCKER-USER first, the policy DROP)
  await iptables('-N', 'DOCKER-USER');
  await iptables('-A', 'DOCKER-USER', '-j', 'RETURN');
  await iptables('-I', 'FORWARD', '-j', 'DOCKER-USER');
  await iptables('-P', 'FORWARD', 'DROP');

  d = await startDaemon([], { netns: HOST_NS });
  await d.ensureBusybox();
  const www = path.join(d.root, 'www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'hello'), 'from the lan\n');
  lanServer = spawn('ip', ['netns', 'exec', LAN_NS, 'busybox', 'httpd', '-f', '-p', `${LAN_IP}:8000`, '-h', www], { stdio: 'ignore' });
});

after(async () => {
  await d?.stop();
  lanServer?.kill('SIGKILL');
  await exec('ip', ['netns', 'del', HOST_NS]).catch(() => undefined);
  await exec('ip', ['netns', 'del', LAN_NS]).catch(() => undefined);
});

/**
 * The body of `http://ip:port/file` fetched by a container on `network`, '' when nothing came
 * back (busybox-static's wget crashes in its resolver: a raw request through nc).
 */
async function fetchIn(network: string, ip: string, port: number, file = ''): Promise<string> {
  const r = await d.docker(['run', '--rm', '--network', network, 'busybox', 'sh', '-c',
    `printf 'GET /${file} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port}`]);
  const at = r.stdout.indexOf('\r\n\r\n');
  return at < 0 ? '' : r.stdout.slice(at + 4);
}

const fetchFromLan = (network = 'bridge') => fetchIn(network, LAN_IP, 8000, 'hello');

test('a container on the default bridge reaches another machine through a FORWARD policy of DROP', async () => {
  assert.equal(await fetchFromLan(), 'from the lan\n');
});

test("berth's rules are in DOCKER-USER, ahead of dockerd's RETURN, and dockerd's own rules are kept", async () => {
  const rules = await dockerUser();
  const bridge = (await d.docker(['network', 'inspect', 'bridge', '--format', '{{index .Options "com.docker.network.bridge.name"}}'])).stdout.trim();
  assert.ok(bridge, 'the default bridge has a device name');
  const mine = rules.filter((r) => r.includes('berth:'));
  assert.equal(mine.length, 2, rules.join('\n'));
  assert.ok(mine.some((r) => r.includes(`-i ${bridge} `)) && mine.some((r) => r.includes(`-o ${bridge} `)), rules.join('\n'));
  assert.equal(rules[rules.length - 1], '-A DOCKER-USER -j RETURN');
  const forward = (await iptables('-S', 'FORWARD')).stdout;
  assert.match(forward, /^-P FORWARD DROP$/m);
  assert.match(forward, /^-A FORWARD -j DOCKER-USER$/m);
  assert.doesNotMatch(forward, /berth/);
});

test('a published port answers the other machine', async () => {
  const id = (await d.dockerOk(['run', '-d', '-p', '8080:80', 'busybox', 'sh', '-c', 'mkdir /w && echo published > /w/index.html && exec httpd -f -p 80 -h /w'])).trim();
  try {
    let body = '';
    for (let i = 0; i < 50 && body !== 'published\n'; i++) {
      body = await inNs(LAN_NS, 'curl', '-s', '-m', '2', `http://${HOST_IP}:8080/`).then((r) => r.stdout, () => '');
      if (body !== 'published\n') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'published\n');
  } finally {
    await d.docker(['rm', '-f', id]);
  }
});

test("a user network gets its own pair of rules, removed with it; berth's isolation still holds", async () => {
  await d.dockerOk(['network', 'create', 'coexa']);
  await d.dockerOk(['network', 'create', 'coexb']);
  const server = (await d.dockerOk(['run', '-d', '--network', 'coexa', 'busybox', 'sh', '-c', 'mkdir /w && echo a > /w/index.html && exec httpd -f -p 80 -h /w'])).trim();
  try {
    assert.equal((await dockerUser()).filter((r) => r.includes('berth:')).length, 6);
    assert.equal(await fetchFromLan('coexa'), 'from the lan\n');
    const ip = (await d.dockerOk(['inspect', '-f', '{{.NetworkSettings.Networks.coexa.IPAddress}}', server])).trim();
    assert.equal(await fetchIn('coexa', ip, 80), 'a\n');
    assert.equal(await fetchIn('coexb', ip, 80), '', 'a container on another network must not reach it');
  } finally {
    await d.docker(['rm', '-f', server]);
    await d.docker(['network', 'rm', 'coexa', 'coexb']);
  }
  const rules = await dockerUser();
  assert.equal(rules.filter((r) => r.includes('berth:')).length, 2, rules.join('\n'));
});

test("without berth's rules dockerd's policy drops the traffic; a restart of berthd puts them back", async () => {
  // no container runs across the restart: each `ip netns exec` is a new mount namespace
  for (const r of (await dockerUser()).filter((x) => x.includes('berth:'))) {
    await iptables(...r.replace(/^-A /, '-D ').replace(/"/g, '').split(' '));
  }
  assert.equal(await fetchFromLan(), '', 'dropped without the DOCKER-USER rules');
  await d.restart();
  assert.equal((await dockerUser()).filter((r) => r.includes('berth:')).length, 2);
  assert.equal(await fetchFromLan(), 'from the lan\n');
});
