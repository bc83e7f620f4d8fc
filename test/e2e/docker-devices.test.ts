// --device, --device-cgroup-rule and --privileged through the docker CLI: the node made in the
// container and the device cgroup that lets it be used (or not), as Docker does.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const docker = (...args: string[]) => d.docker(args);

test('--device /dev/null:/dev/mynull: the node is there and can be written', async () => {
  const r = await docker('run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c',
    'stat -c "%t:%T %F" /dev/mynull && echo data > /dev/mynull && echo written');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1:3 character special file\nwritten\n');
  // read-only permissions: the cgroup refuses the write (and the open for writing)
  const ro = await docker('run', '--rm', '--device', '/dev/full:/dev/myfull:r', 'busybox', 'sh', '-c',
    'head -c 4 /dev/myfull | wc -c; echo x > /dev/myfull && echo wrote || echo refused');
  assert.equal(ro.code, 0, ro.stderr);
  assert.equal(ro.stdout.replace(/ +/g, ''), '4\nrefused\n');
  // without the flag the node is not there
  const none = await docker('run', '--rm', 'busybox', 'test', '-e', '/dev/mynull');
  assert.equal(none.code, 1);
});

test('--device of a host directory brings the device nodes below it', async (t) => {
  if (!fs.existsSync('/dev/net/tun')) return t.skip('no /dev/net/tun on this host');
  const r = await docker('run', '--rm', '--device', '/dev/net:/dev/hostnet', 'busybox', 'stat', '-c', '%t:%T', '/dev/hostnet/tun');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'a:c8\n'); // 10:200 in hex
});

test('--device of a missing host path fails the start with Docker\'s text', async () => {
  const r = await docker('run', '--rm', '--device', '/dev/does-not-exist', 'busybox', 'true');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /error gathering device information while adding custom device "\/dev\/does-not-exist": no such file or directory/);
});

test('--device-cgroup-rule: mknod of a char device is allowed only with the rule', async () => {
  // c 7:128 is /dev/vcsa: not among the default rules (mknod itself is: Docker's `c *:* m`)
  const script = 'mknod /tmp/vcsa c 7 128 && head -c 4 /tmp/vcsa | wc -c';
  const denied = await docker('run', '--rm', 'busybox', 'sh', '-c', script);
  assert.match(denied.stderr, /Operation not permitted/);
  const allowed = await docker('run', '--rm', '--device-cgroup-rule', 'c 7:128 rwm', 'busybox', 'sh', '-c', script);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout.trim(), '4');
  const bad = await docker('create', '--device-cgroup-rule', 'x 1:7 rwm', 'busybox', 'true');
  assert.notEqual(bad.code, 0);
  const api = await d.request('POST', '/v1.44/containers/create', { Image: 'busybox', HostConfig: { DeviceCgroupRules: ['c 1 rwm'] } });
  assert.equal(api.status, 400);
  assert.equal(api.json().message, "invalid device cgroup format 'c 1 rwm'");
});

test('--privileged: the host\'s devices and every capability', async () => {
  const host = ['kmsg', 'loop-control', 'full'].filter((n) => fs.existsSync('/dev/' + n));
  assert.ok(host.length > 0);
  const r = await docker('run', '--rm', '--privileged', 'busybox', 'sh', '-c', `ls /dev; grep CapEff /proc/self/status`);
  assert.equal(r.code, 0, r.stderr);
  const names = r.stdout.split('\n');
  for (const n of host) assert.ok(names.includes(n), `/dev/${n} missing in a privileged container`);
  // every capability the daemon (root, as this test) holds
  const hostCaps = /CapEff:\s+(\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
  assert.equal(/CapEff:\s+(\w+)/.exec(r.stdout)?.[1], hostCaps);
  const plain = await docker('run', '--rm', 'busybox', 'ls', '/dev');
  for (const n of host.filter((x) => x !== 'full')) assert.ok(!plain.stdout.split('\n').includes(n), `/dev/${n} in a plain container`);
});
