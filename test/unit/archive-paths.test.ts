// The pure parts of docker cp and devices: how a requested path is read, Go's FileMode bits,
// tar entry names and the mount a path falls under, device cgroup rules, and what the runtime
// spec gets for --device.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { archivePath, goFileMode, rfc3339Nano } from '../../src/engine/containers/archive/stat';
import { mountFor } from '../../src/engine/containers/archive/view';
import { parseDeviceCgroupRule } from '../../src/engine/containers/devices';
import { entryPath } from '../../src/lib/tar/extractInto';
import { buildSpec } from '../../src/runtime/spec';
import { DEFAULT_CAPABILITIES, DEFAULT_DEVICE_RULES } from '../../src/runtime/defaults';
import type { ContainerSpecInput } from '../../src/runtime/types';

test('archivePath: trailing / and /. keep their meaning; names as Docker\'s filepath.Base', () => {
  assert.deepEqual(archivePath('/data/x.txt'), { abs: '/data/x.txt', followLast: false, contents: false, name: 'x.txt' });
  assert.deepEqual(archivePath('data/dir/'), { abs: '/data/dir', followLast: true, contents: false, name: 'dir' });
  assert.deepEqual(archivePath('/data/dir/.'), { abs: '/data/dir', followLast: true, contents: true, name: '.' });
  assert.deepEqual(archivePath('/a/../../b'), { abs: '/b', followLast: false, contents: false, name: 'b' });
  assert.equal(archivePath('/').contents, true);
});

test('goFileMode: Go os.FileMode bits', () => {
  assert.equal(goFileMode(0o040755), 2147484141); // the reference's directory
  assert.equal(goFileMode(0o100644), 420);
  assert.equal(goFileMode(0o120777), 0x08000000 + 0o777);
  assert.equal(goFileMode(0o104755), 0x800000 + 0o755); // setuid
  assert.equal(goFileMode(0o020666), 0x04000000 + 0x200000 + 0o666); // char device
});

test('rfc3339Nano: trailing zeros of the fraction dropped, none for whole seconds', () => {
  assert.equal(rfc3339Nano(1795547760n, 929769673n), '2026-11-24T19:16:00.929769673Z');
  assert.equal(rfc3339Nano(1795547760n, 500000000n), '2026-11-24T19:16:00.5Z');
  assert.equal(rfc3339Nano(1795547760n, 0n), '2026-11-24T19:16:00Z');
});

test('entryPath: names below the destination; climbing out is refused', () => {
  assert.equal(entryPath('a/b'), '/a/b');
  assert.equal(entryPath('/etc/passwd'), '/etc/passwd');
  assert.equal(entryPath('./'), '/');
  assert.equal(entryPath('a/../b/'), '/b');
  for (const bad of ['..', '../x', 'a/../../x', '/../x'.slice(1)]) assert.throws(() => entryPath(bad), /outside of the destination/);
});

test('mountFor: the longest destination wins; a file mount matches its own path', () => {
  const m = (destination: string, source = '/src' + destination) => ({ destination, source, type: 'bind', options: ['rbind'] });
  const mounts = [m('/data'), m('/data/inner'), m('/etc/hosts'), { destination: '/tmpfs', source: 'tmpfs', type: 'tmpfs', options: [] }];
  assert.equal(mountFor(mounts, '/data/inner/x')?.destination, '/data/inner');
  assert.equal(mountFor(mounts, '/data/innerx')?.destination, '/data');
  assert.equal(mountFor(mounts, '/data')?.destination, '/data');
  assert.equal(mountFor(mounts, '/etc/hosts')?.destination, '/etc/hosts');
  assert.equal(mountFor(mounts, '/etc/hostsx'), undefined);
  assert.equal(mountFor(mounts, '/tmpfs/x'), undefined, 'a tmpfs holds nothing while stopped');
  assert.equal(mountFor(mounts, '/a/../data/x')?.destination, '/data');
});

test('parseDeviceCgroupRule: Docker\'s syntax, wildcards, its error text', () => {
  assert.deepEqual(parseDeviceCgroupRule('c 7:128 rwm'), { allow: true, type: 'c', major: 7, minor: 128, access: 'rwm' });
  assert.deepEqual(parseDeviceCgroupRule('b 8:* r'), { allow: true, type: 'b', major: 8, access: 'r' });
  assert.deepEqual(parseDeviceCgroupRule('a *:* m'), { allow: true, access: 'm' });
  for (const bad of ['c 7 rwm', 'x 1:2 r', 'c 1:2 rwx', 'c 1:2']) {
    assert.throws(() => parseDeviceCgroupRule(bad), { message: `invalid device cgroup format '${bad}'` });
  }
});

test('buildSpec: --device nodes and rules after the defaults; privileged keeps the host\'s and allows all', () => {
  const base: ContainerSpecInput = {
    id: 'abc', rootfs: '/r', readonlyRootfs: false, hostname: 'h',
    process: { args: ['sh'], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], terminal: false, noNewPrivileges: false, capabilities: [...DEFAULT_CAPABILITIES], rlimits: [] },
    privileged: false,
    namespaces: { network: { mode: 'private' }, ipc: { mode: 'private' }, pid: { mode: 'private' }, uts: { mode: 'private' } },
    mounts: [], resources: {}, maskedPaths: [], readonlyPaths: [], cgroupsPath: '/berth/abc', shmSize: 0,
    devices: [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }],
    deviceRules: [{ allow: true, type: 'c', major: 7, minor: 128, access: 'rw' }],
  };
  const s = buildSpec(base);
  assert.deepEqual(s.linux.devices, base.devices);
  assert.equal(s.linux.resources.devices.length, DEFAULT_DEVICE_RULES.length + 1);
  assert.deepEqual(s.linux.resources.devices.at(-1), { allow: true, type: 'c', major: 7, minor: 128, access: 'rw' });
  const p = buildSpec({ ...base, privileged: true, devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }] });
  assert.deepEqual(p.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.equal(p.linux.devices!.filter((d) => d.path === '/dev/null').length, 1, 'one node per path');
  assert.equal(p.linux.devices!.find((d) => d.path === '/dev/null')!.fileMode, 0o600, 'the --device one wins');
});
