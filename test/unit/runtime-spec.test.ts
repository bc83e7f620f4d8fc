import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildSpec, clampRlimits, hostHardLimits, processSpec, serializeSpec } from '../../src/runtime/spec';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, HOST_CAPABILITIES } from '../../src/runtime/defaults';
import { runtimeMessage } from '../../src/runtime/runc';
import { conmonArgs } from '../../src/runtime/conmon';
import type { ContainerSpecInput } from '../../src/runtime/types';

function input(over: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    id: 'abc', rootfs: '/r', readonlyRootfs: true, hostname: 'h',
    process: {
      args: ['sh'], env: ['A=1'], cwd: '/w', uid: 1, gid: 2, additionalGids: [3], terminal: false,
      noNewPrivileges: true, capabilities: [...DEFAULT_CAPABILITIES], rlimits: [],
    },
    privileged: false,
    namespaces: { network: { mode: 'private' }, ipc: { mode: 'private' }, pid: { mode: 'private' }, uts: { mode: 'private' } },
    mounts: [], resources: {}, maskedPaths: [...DEFAULT_MASKED_PATHS], readonlyPaths: [...DEFAULT_READONLY_PATHS],
    cgroupsPath: '/berth/abc', shmSize: 0, ...over,
  };
}

test('defaults: Docker lists', () => {
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(DEFAULT_MASKED_PATHS, ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
    '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware']);
  assert.deepEqual(DEFAULT_READONLY_PATHS, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.ok(ALL_CAPABILITIES.includes('CAP_SYS_ADMIN'));
  for (const c of ALL_CAPABILITIES) assert.ok(HOST_CAPABILITIES.has(c));
});

test('buildSpec: Docker-like defaults', () => {
  const s = buildSpec(input({ shmSize: 1 << 20, sysctls: { 'net.ipv4.ip_forward': '1' } }));
  assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.ok(s.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes(`size=${1 << 20}`));
  assert.ok(s.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities.effective, [...DEFAULT_CAPABILITIES]);
  assert.equal((s.process.capabilities as Record<string, unknown>).inheritable, undefined);
  assert.equal((s.process.capabilities as Record<string, unknown>).ambient, undefined);
  assert.deepEqual(s.process.user, { uid: 1, gid: 2, additionalGids: [3] });
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.root.readonly, true);
  assert.equal(s.hostname, 'h');
  assert.equal(s.linux.cgroupsPath, '/berth/abc');
  assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(s.linux.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  const ns = s.linux.namespaces.map((n) => n.type);
  for (const t of ['mount', 'network', 'pid', 'ipc', 'uts']) assert.ok(ns.includes(t));
  assert.deepEqual(s.linux.resources.devices[0], { allow: false, access: 'rwm' });
  assert.equal(s.linux.devices, undefined);
});

test('buildSpec: namespaces host/path, user mounts override defaults, init', () => {
  const s = buildSpec(input({
    namespaces: { network: { mode: 'path', path: '/run/netns/x' }, ipc: { mode: 'private' }, pid: { mode: 'host' }, uts: { mode: 'host' } },
    mounts: [{ destination: '/dev/shm', source: '/host/shm', type: 'bind', options: ['rbind'] }],
    init: { hostPath: '/usr/bin/tini-static' },
  }));
  assert.deepEqual(s.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
  assert.equal(s.linux.namespaces.find((n) => n.type === 'pid'), undefined);
  assert.equal(s.hostname, undefined);
  assert.equal(s.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.equal(s.mounts.find((m) => m.destination === '/dev/shm')!.source, '/host/shm');
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sh']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/sbin/docker-init'),
    { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
});

test('buildSpec: resources', () => {
  const s = buildSpec(input({ resources: { memory: 1 << 24, memoryReservation: 1 << 23, cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, cpusetCpus: '0', pidsLimit: 10, blkioWeight: 300, oomKillDisable: true } }));
  assert.equal(s.linux.resources.memory!.limit, 1 << 24);
  assert.equal(s.linux.resources.memory!.reservation, 1 << 23);
  assert.equal(s.linux.resources.memory!.disableOOMKiller, true);
  assert.deepEqual(s.linux.resources.cpu, { shares: 512, quota: 50000, period: 100000, cpus: '0' });
  assert.deepEqual(s.linux.resources.pids, { limit: 10 });
  assert.deepEqual(s.linux.resources.blockIO, { weight: 300 });
});

test('buildSpec: privileged', () => {
  const s = buildSpec(input({ privileged: true }));
  assert.deepEqual(s.process.capabilities.bounding, [...ALL_CAPABILITIES]);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(s.linux.devices!.some((d) => d.path === '/dev/null' && d.type === 'c' && d.major === 1 && d.minor === 3));
  assert.ok(!s.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
});

test('buildSpec: capabilities the daemon lacks are dropped', () => {
  const s = buildSpec(input({ process: { ...input().process, capabilities: ['CAP_SYS_RESOURCE', 'chown'] } }));
  const want = HOST_CAPABILITIES.has('CAP_SYS_RESOURCE') ? ['CAP_SYS_RESOURCE', 'CAP_CHOWN'] : ['CAP_CHOWN'];
  assert.deepEqual(s.process.capabilities.bounding, want);
});

test('one process builder for create and exec: config.json\'s process is what exec writes', () => {
  const proc = {
    ...input().process, terminal: true, consoleSize: { height: 30, width: 100 },
    capabilities: ['chown', 'CAP_KILL', 'kill'], rlimits: [{ type: 'nofile', soft: 1024, hard: 1024 }],
  };
  const fromCreate = buildSpec(input({ process: proc })).process;
  const fromExec = processSpec(proc);
  assert.deepEqual(fromExec, fromCreate);
  assert.deepEqual(fromExec.capabilities.bounding, ['CAP_CHOWN', 'CAP_KILL']);
  assert.deepEqual(fromExec.consoleSize, { height: 30, width: 100 });
  assert.deepEqual(fromExec.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
  assert.deepEqual(fromExec.user, { uid: 1, gid: 2, additionalGids: [3] });
  // no console size sent (0x0): none written, the runtime picks its default
  assert.equal(processSpec({ ...proc, consoleSize: { height: 0, width: 0 } }).consoleSize, undefined);
  // what differs for a container is only what create adds: the init in front, all capabilities when privileged
  const init = buildSpec(input({ process: proc, init: { hostPath: '/usr/bin/tini' } })).process;
  assert.deepEqual(init.args, ['/sbin/docker-init', '--', 'sh']);
  assert.deepEqual(buildSpec(input({ process: proc, privileged: true })).process.capabilities.bounding, [...ALL_CAPABILITIES]);
});

test('rlimits are clamped to the host hard limit; infinity is written exactly', () => {
  const hard = hostHardLimits().get('RLIMIT_NOFILE')!;
  const [r] = clampRlimits([{ type: 'nofile', soft: 1e9, hard: 1e9 }]);
  assert.equal(r.type, 'RLIMIT_NOFILE');
  assert.equal(BigInt(r.hard), hard < 1000000000n ? hard : 1000000000n);
  assert.ok(BigInt(r.soft) <= BigInt(r.hard));
  const s = buildSpec(input({ process: { ...input().process, rlimits: [{ type: 'RLIMIT_CORE', soft: -1, hard: -1 }] } }));
  const json = serializeSpec(s);
  const core = hostHardLimits().get('RLIMIT_CORE');
  if (core === 18446744073709551615n) assert.match(json, /"soft":18446744073709551615,"hard":18446744073709551615/);
  JSON.parse(json);
});

test('runtime messages from logrus text', () => {
  assert.equal(runtimeMessage('time="2024-01-01T00:00:00Z" level=error msg="container not running"\n'), 'container not running');
  assert.equal(runtimeMessage('time="x" level=error msg="say \\"hi\\""'), 'say "hi"');
  assert.equal(runtimeMessage('plain error\n'), 'plain error');
});

test('conmon args', () => {
  const a = conmonArgs({
    conmonPath: '/usr/bin/conmon', id: 'i', bundleDir: '/b', runtimePath: '/usr/sbin/runc', runtimeArgs: ['--root=/x'],
    persistDir: '/p', exitDir: '/e', containerPidFile: '/p/pidfile', conmonPidFile: '/p/conmon.pid', logPath: '/l',
    terminal: true, stdin: true, leaveStdinOpen: false,
  });
  assert.ok(a.includes('--terminal') && a.includes('--stdin') && !a.includes('--leave-stdin-open'));
  assert.ok(a.includes('k8s-file:/l') && a.includes('--runtime-arg=--root=/x'));
  assert.ok(!a.includes('--log-size-max'), 'conmon never truncates the log');
});
