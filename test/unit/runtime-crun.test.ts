// crun 1.8's failures to start a process, given in runc's (Docker's) words: the docker CLI
// derives exit codes 127 and 126 from those phrases, and tests and users read them. The default
// runtime's choice, and where crun's fast delete looks for the cgroups.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseDaemonOptions } from '../../src/daemon/options';
import type { DaemonConfig } from '../../src/engine/config';
import { runtimeWarnings } from '../../src/engine/system/info';
import { crunCgroupDirs, crunInDockerTerms, crunRefusal } from '../../src/runtime/crun';
import { runtimeMessage } from '../../src/runtime/runc';

const create = { op: 'create' as const, args: ['/etc'], cwd: '/', rootfs: '/b/rootfs', mounts: [{ destination: '/data', source: '/v/data' }] };

test('a command not found, by name and by path', () => {
  assert.equal(crunInDockerTerms('executable file `nope` not found in $PATH: No such file or directory', create),
    'unable to start container process: exec: "nope": executable file not found in $PATH');
  assert.equal(crunInDockerTerms('executable file `/bin/nope` not found in $PATH: No such file or directory', { op: 'exec' }),
    'exec failed: unable to start container process: exec: "/bin/nope": stat /bin/nope: no such file or directory');
});

test('not executable: a file (EACCES) and a directory (EPERM) are both permission denied', () => {
  assert.equal(crunInDockerTerms('open executable: Permission denied', { op: 'create', args: ['/etc/passwd'] }),
    'unable to start container process: exec: "/etc/passwd": permission denied');
  assert.equal(crunInDockerTerms('open executable: Operation not permitted', create), 'unable to start container process: exec: "/etc": permission denied');
  assert.equal(crunInDockerTerms('open executable: Operation not permitted', { op: 'exec' }), 'exec failed: unable to start container process: exec: permission denied');
});

test('a working directory that is missing or not a directory', () => {
  assert.equal(crunInDockerTerms('chdir `/nope`: No such file or directory', { op: 'exec' }),
    'exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory');
  assert.equal(crunInDockerTerms('chdir `/etc/passwd`: Not a directory', create),
    'unable to start container process: chdir to cwd ("/etc/passwd") set in config.json failed: not a directory');
});

test('a mount target names its mount (under the rootfs or inside it)', () => {
  assert.equal(crunInDockerTerms('mkdir `/data/x`: Not a directory', create), 'error mounting "/v/data" to rootfs at "/data": mkdir /data/x: not a directory');
  assert.equal(crunInDockerTerms('open `/b/rootfs/data`: Not a directory', create), 'error mounting "/v/data" to rootfs at "/data": open /b/rootfs/data: not a directory');
  assert.equal(crunInDockerTerms('mkdir `/database`: Not a directory', create), 'mkdir `/database`: Not a directory');
});

test('runc\'s texts and anything else pass unchanged; runtimeMessage translates only with a context', () => {
  const runc = 'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH';
  assert.equal(crunInDockerTerms(runc, create), runc);
  assert.equal(crunInDockerTerms('cgroups in hybrid mode not supported, drop all controllers from cgroupv2', create), 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2');
  const stderr = 'executable file `x` not found in $PATH: No such file or directory\n';
  assert.equal(runtimeMessage(stderr), 'executable file `x` not found in $PATH: No such file or directory');
  assert.equal(runtimeMessage(stderr, { op: 'exec' }), 'exec failed: unable to start container process: exec: "x": executable file not found in $PATH');
});

test('the default runtime: crun where it can run, else runc; flag and daemon.json still choose', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brc-'));
  const cfg = path.join(dir, 'daemon.json');
  const crunOnPath = (process.env.PATH ?? '').split(':').some((p) => p && fs.existsSync(path.join(p, 'crun')));
  try {
    fs.writeFileSync(cfg, '{}');
    const o = parseDaemonOptions(['--config-file', cfg]);
    assert.equal(o.defaultRuntime, crunOnPath && crunRefusal() === undefined ? 'crun' : 'runc');
    assert.ok(o.runtimes.runc);
    assert.equal(o.runtimes.crun !== undefined, crunOnPath);
    assert.equal(parseDaemonOptions(['--config-file', cfg, '--default-runtime', 'runc']).defaultRuntime, 'runc');
    assert.throws(() => parseDaemonOptions(['--config-file', cfg, '--default-runtime', 'nope']), /default runtime nope is not among the configured runtimes/);
    fs.writeFileSync(cfg, JSON.stringify({ runtimes: { mine: { path: '/bin/true', runtimeArgs: ['--x'] } }, 'default-runtime': 'mine' }));
    const m = parseDaemonOptions(['--config-file', cfg]);
    assert.equal(m.defaultRuntime, 'mine');
    assert.deepEqual(m.runtimes.mine, { name: 'mine', path: '/bin/true', args: ['--x'] });
    assert.throws(() => parseDaemonOptions(['--config-file', cfg, '--default-runtime', 'runc']), /default-runtime/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('crun\'s cgroup directories: one per hierarchy of /proc/self/cgroup, "unified" for the v2 line of a hybrid host', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brc-'));
  try {
    const self = path.join(dir, 'cgroup');
    fs.writeFileSync(self, '3:cpu,cpuacct:/\n2:name=systemd:/x\n1:memory:/\n0::/\n');
    // a plain directory is no cgroup2: the v2 line counts only on a hybrid host
    assert.deepEqual(crunCgroupDirs('/p/c1', dir, self), [`${dir}/cpu,cpuacct/p/c1`, `${dir}/systemd/p/c1`, `${dir}/memory/p/c1`]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('docker info warns when crun is configured but refused by the host, and says what to do', () => {
  const base = { runtimes: { runc: { name: 'runc', path: '/usr/sbin/runc' }, crun: { name: 'crun', path: '/usr/bin/crun' } }, defaultRuntime: 'runc' } as unknown as DaemonConfig;
  const why = 'its cgroup2 hierarchy /sys/fs/cgroup/unified holds controllers (hugetlb)';
  assert.deepEqual(runtimeWarnings(base, undefined), []);
  const [w] = runtimeWarnings(base, why);
  assert.match(w, /^WARNING: crun cannot run containers on this host: its cgroup2 hierarchy .* \(hugetlb\); containers use runc; --runtime crun fails\. .*scripts\/host-cgroups\.sh/);
  assert.match(runtimeWarnings({ ...base, defaultRuntime: 'crun' }, why)[0], /the default runtime crun will fail to start containers/);
  assert.deepEqual(runtimeWarnings({ ...base, runtimes: { runc: base.runtimes.runc } }, why), []);
});
