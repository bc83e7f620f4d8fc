import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Command } from 'commander';
import { addContainerFlags, buildCreateBody, ContainerFlags } from '../../src/cli/containerflags';

function parse(argv: string[], run = true): { image: string; cmd: string[]; o: ContainerFlags } {
  let got: { image: string; cmd: string[]; o: ContainerFlags } | undefined;
  const c = new Command(run ? 'run' : 'create').helpOption('--help').argument('[image]').argument('[command...]').passThroughOptions().exitOverride();
  addContainerFlags(c, run);
  c.action((image: string, cmd: string[], o: ContainerFlags) => { got = { image, cmd, o }; });
  c.parse(argv, { from: 'user' });
  return got as { image: string; cmd: string[]; o: ContainerFlags };
}

function body(argv: string[], run = true) {
  const p = parse(argv, run);
  return JSON.parse(JSON.stringify(buildCreateBody(p.o, p.image, p.cmd, { run })));
}

const DEFAULT_RUN_BODY = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false,
  StdinOnce: false, Env: null, Cmd: ['echo', 'hi'], Image: 'busybox', Volumes: {}, WorkingDir: '', Entrypoint: null, OnBuild: null,
  Labels: {},
  HostConfig: {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default', PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: true, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0],
    CapAdd: null, CapDrop: null, CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null,
    IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false,
    ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 0,
    NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0,
    CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0,
    MemorySwap: 0, MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0, Ulimits: [], CpuCount: 0, CpuPercent: 0,
    IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
  },
  NetworkingConfig: {
    EndpointsConfig: {
      default: {
        IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '',
        Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
      },
    },
  },
};

test('docker run --rm busybox echo hi: the complete captured body', () => {
  const b = body(['--rm', 'busybox', 'echo', 'hi']);
  assert.deepEqual(b, DEFAULT_RUN_BODY);
  // same key order as the Go encoder for the top level
  assert.deepEqual(Object.keys(b), Object.keys(DEFAULT_RUN_BODY));
});

test('options after the image belong to the container command', () => {
  const p = parse(['--rm', 'busybox', 'echo', '-n', '--rm', 'hi']);
  assert.deepEqual(p.cmd, ['echo', '-n', '--rm', 'hi']);
});

test('create with many flags (containers.md)', () => {
  const b = body(['--name', 'tr-flags', '-e', 'FOO=bar', '-e', 'EMPTY=', '-w', '/srv', '-u', '1000:1000', '-h', 'localhost',
    '-l', 'tr=1', '-l', 'app=demo', '--entrypoint', '/bin/sh', '-m', '64m', '--cpus', '0.5', '--pids-limit', '100',
    '--cap-add', 'NET_ADMIN', '--cap-drop', 'MKNOD', '--read-only', '--privileged', '--network', 'none',
    '--restart', 'on-failure:3', '--init', '--ulimit', 'nofile=1024:2048', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2',
    'busybox', '-c', 'echo hi'], false);
  assert.equal(b.Hostname, 'localhost');
  assert.equal(b.User, '1000:1000');
  assert.equal(b.AttachStdout, true);
  assert.equal(b.AttachStderr, true);
  assert.deepEqual([...b.Env].sort(), ['EMPTY=', 'FOO=bar']);
  assert.deepEqual(b.Cmd, ['-c', 'echo hi']);
  assert.equal(b.WorkingDir, '/srv');
  assert.deepEqual(b.Entrypoint, ['/bin/sh']);
  assert.deepEqual(b.Labels, { app: 'demo', tr: '1' });
  const h = b.HostConfig;
  assert.deepEqual(h.LogConfig, { Type: '', Config: { 'max-file': '2', 'max-size': '1m' } });
  assert.equal(h.NetworkMode, 'none');
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(h.AutoRemove, false);
  assert.deepEqual(h.CapAdd, ['CAP_NET_ADMIN']);
  assert.deepEqual(h.CapDrop, ['CAP_MKNOD']);
  assert.equal(h.Privileged, true);
  assert.equal(h.ReadonlyRootfs, true);
  assert.equal(h.Memory, 67108864);
  assert.equal(h.NanoCpus, 500000000);
  assert.equal(h.MemorySwap, 0);
  assert.equal(h.PidsLimit, 100);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Hard: 2048, Soft: 1024 }]);
  assert.equal(h.Init, true);
  assert.equal(Object.keys(h).pop(), 'Init');
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: {} });
});

test('ports, mounts, tmpfs, healthcheck, stop signal (containers.md)', () => {
  const b = body(['--name', 'tr-mounts', '-l', 'tr=1', '--mount', 'type=bind,src=/srv,dst=/host,readonly',
    '--mount', 'type=volume,src=tr-vol2,dst=/v2', '-v', '/data', '--tmpfs', '/run:size=1m', '-p', '8080:80',
    '-p', '127.0.0.1::53/udp', '--expose', '9000', '--dns', '127.0.0.1', '--stop-signal', 'SIGUSR1',
    '--stop-timeout', '5', '--health-cmd', 'true', '--health-interval', '5s', '-t', '-i', 'busybox'], false);
  assert.equal(b.AttachStdin, true);
  assert.equal(b.Tty, true);
  assert.equal(b.OpenStdin, true);
  assert.equal(b.StdinOnce, true);
  assert.equal(b.Cmd, null);
  assert.deepEqual(b.ExposedPorts, { '53/udp': {}, '80/tcp': {}, '9000/tcp': {} });
  assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5000000000 });
  assert.deepEqual(b.Volumes, { '/data': {} });
  assert.equal(b.StopSignal, 'SIGUSR1');
  assert.equal(b.StopTimeout, 5);
  assert.equal(b.HostConfig.Binds, null);
  assert.deepEqual(b.HostConfig.PortBindings, {
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
  });
  assert.deepEqual(b.HostConfig.ConsoleSize, [0, 0]);
  assert.deepEqual(b.HostConfig.Dns, ['127.0.0.1']);
  assert.deepEqual(b.HostConfig.Tmpfs, { '/run': 'size=1m' });
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'bind', Source: '/srv', Target: '/host', ReadOnly: true },
    { Type: 'volume', Source: 'tr-vol2', Target: '/v2' },
  ]);
});

test('detached run, binds, named network, misc resources', () => {
  const b = body(['-d', '--name', 'tr-d', '-p', '127.0.0.1:18080:80', '-v', 'tr-vol1:/data', '-l', 'tr=1', 'busybox', 'sh', '-c', 'x']);
  assert.equal(b.AttachStdout, false);
  assert.equal(b.AttachStderr, false);
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {} });
  assert.deepEqual(b.HostConfig.Binds, ['tr-vol1:/data']);
  assert.deepEqual(b.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] });
  const n = body(['--network', 'tr-net', '--ip', '10.99.0.20', '--network-alias', 'x1', 'busybox']);
  assert.equal(n.HostConfig.NetworkMode, 'tr-net');
  assert.deepEqual(n.NetworkingConfig.EndpointsConfig['tr-net'].IPAMConfig, { IPv4Address: '10.99.0.20' });
  assert.deepEqual(n.NetworkingConfig.EndpointsConfig['tr-net'].Aliases, ['x1']);
  const r = body(['--memory-swap', '-1', '--cpu-shares', '512', '--cpu-quota', '50000', '--cpu-period', '100000',
    '--security-opt', 'no-new-privileges', '--runtime', 'runc', '--cap-add', 'sys_admin', '--env', 'A', '--entrypoint', '', 'busybox']);
  assert.equal(r.HostConfig.MemorySwap, -1);
  assert.equal(r.HostConfig.CpuShares, 512);
  assert.equal(r.HostConfig.CpuQuota, 50000);
  assert.equal(r.HostConfig.CpuPeriod, 100000);
  assert.deepEqual(r.HostConfig.SecurityOpt, ['no-new-privileges']);
  assert.equal(r.HostConfig.Runtime, 'runc');
  assert.deepEqual(r.HostConfig.CapAdd, ['CAP_SYS_ADMIN']);
  assert.deepEqual(r.Entrypoint, ['']);
  assert.equal('Init' in r.HostConfig, false);
  const it = parse(['-it', '--rm', 'busybox', 'sh']);
  const ib = buildCreateBody(it.o, it.image, it.cmd, { run: true, consoleSize: [30, 100] });
  assert.deepEqual(ib.HostConfig.ConsoleSize, [30, 100]);
  assert.equal(ib.AttachStdin && ib.OpenStdin && ib.StdinOnce && ib.Tty, true);
});
