// Create-time mount parsing (mountpoints.ts): Docker's Binds syntax, --mount fields, tmpfs
// options, precedence and clashes. No daemon: what the parser decides, and its words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBind, parseMount, parseTmpfsOptions, planMountPoints, type MountPoint } from '../../src/engine/containers/mountpoints';
import type { ContainerConfig, HostConfig } from '../../src/engine/containers/Container';

const bad = (fn: () => unknown, msg: RegExp) => assert.throws(fn, (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && msg.test(e.message));

test('Binds: named, anonymous and bind entries with their modes', () => {
  assert.deepEqual(parseBind('db:/var/lib/db'), { Type: 'volume', Name: 'db', Source: '', Destination: '/var/lib/db', Driver: 'local', Mode: '', RW: true, Propagation: '', CopyData: true });
  assert.deepEqual(parseBind('db:/d/:ro,nocopy'), { Type: 'volume', Name: 'db', Source: '', Destination: '/d', Driver: 'local', Mode: 'ro,nocopy', RW: false, Propagation: '', CopyData: false });
  assert.deepEqual(parseBind('/anon'), { Type: 'volume', Anonymous: true, Source: '', Destination: '/anon', Driver: 'local', Mode: '', RW: true, Propagation: '', CopyData: true });
  assert.deepEqual(parseBind('/srv/:/h:ro,rslave,Z'), { Type: 'bind', Source: '/srv', Destination: '/h', Mode: 'ro,rslave,Z', RW: false, Propagation: 'rslave', CreateSource: true });
  bad(() => parseBind('/srv:/h:nocopy'), /invalid mode: nocopy/);
  bad(() => parseBind('v:/h:ro,rw'), /invalid mode: ro,rw/);
  bad(() => parseBind('v:/h:shared'), /field BindOptions must not be specified/);
  bad(() => parseBind('/h:ro'), /invalid volume specification: '\/h:ro'/);
  bad(() => parseBind('a:b:c:d'), /invalid volume specification/);
  bad(() => parseBind('x:/h'), /includes invalid characters for a local volume name/);
  bad(() => parseBind('v:/'), /destination can't be '\/'/);
});

test('Mounts: each type, its options, and the fields a type may not carry', () => {
  assert.deepEqual(parseMount({ Type: 'volume', Source: 'vv', Target: '/v', ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } }),
    { Type: 'volume', Name: 'vv', Source: '', Destination: '/v', Driver: 'local', Mode: 'z', RW: false, Propagation: '', CopyData: false, VolumeLabels: { a: 'b' }, DriverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  assert.deepEqual(parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } }),
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '', TmpfsOptions: ['size=1048576', 'mode=1777'] });
  assert.deepEqual(parseMount({ Type: 'bind', Source: '/tmp', Target: '/m', BindOptions: { Propagation: 'rshared', NonRecursive: true } }),
    { Type: 'bind', Source: '/tmp', Destination: '/m', Mode: '', RW: true, Propagation: 'rshared', NonRecursive: true });
  bad(() => parseMount({ Type: 'bind', Source: '/no/such/dir/here', Target: '/m' }), /^invalid mount config for type "bind": bind source path does not exist: \/no\/such\/dir\/here$/);
  bad(() => parseMount({ Type: 'bind', Source: 'rel', Target: '/m' }), /mount path must be absolute/);
  bad(() => parseMount({ Type: 'bind', Source: '/tmp', Target: '/m', VolumeOptions: {} }), /field VolumeOptions must not be specified/);
  bad(() => parseMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }), /field Source must not be specified/);
  bad(() => parseMount({ Type: 'volume', Target: '' }), /field Target must not be empty/);
  bad(() => parseMount({ Type: 'weird', Target: '/x' }), /mount type unknown/);
  bad(() => parseMount({ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }), /berth does not support HostConfig\.Mounts\.VolumeOptions\.Subpath/);
  assert.throws(() => parseMount({ Type: 'volume', Target: '/x', VolumeOptions: { DriverConfig: { Name: 'flocker' } } }), (e: Error & { kind?: string }) => e.kind === 'NotFound');
});

test('tmpfs options: flags and tmpfs data pass, anything else is refused', () => {
  assert.deepEqual(parseTmpfsOptions('/t', 'size=1m,mode=1777,exec,uid=1000'), ['size=1m', 'mode=1777', 'exec', 'uid=1000']);
  bad(() => parseTmpfsOptions('/t', 'size=1m,bogus'), /invalid tmpfs option "bogus"/);
});

function plan(h: Partial<HostConfig>, volumes: Record<string, object> | null = null, others: Record<string, MountPoint[]> = {}): MountPoint[] {
  return planMountPoints({
    hostConfig: h as HostConfig, config: { Volumes: volumes } as ContainerConfig,
    container: (ref) => { if (!others[ref]) throw new Error('no such'); return { Id: ref, MountPoints: others[ref] }; },
  });
}

test('planning: binds and mounts win over VOLUME paths and volumes-from; clashes are refused; parents first', () => {
  const from: MountPoint[] = [
    { Type: 'volume', Name: 'shared', Anonymous: true, Source: '/s', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '', CopyData: true },
    { Type: 'bind', Source: '/tmp', Destination: '/a/b', Mode: '', RW: true, Propagation: 'rprivate' },
  ];
  const got = plan({ Binds: ['mine:/data'], VolumesFrom: ['src:ro'], Tmpfs: { '/run': 'size=1m' } }, { '/data': {}, '/run': {}, '/logs': {} }, { src: from });
  assert.deepEqual(got.map((m) => [m.Destination, m.Type, m.Name ?? m.Source, m.RW]), [
    ['/data', 'volume', 'mine', true], ['/logs', 'volume', '', true], ['/a/b', 'bind', '/tmp', false],
  ]);
  // what comes from another container is never this one's to remove, nor copied up again
  assert.equal(got[2].Anonymous, undefined);
  bad(() => plan({ Binds: ['a1:/x'], Mounts: [{ Type: 'volume', Source: 'a2', Target: '/x' }] as never }), /Duplicate mount point: \/x/);
  bad(() => plan({ Binds: ['a1:/x'], Tmpfs: { '/x': '' } }), /Duplicate mount point: \/x/);
  bad(() => plan({ VolumesFrom: ['src:rx'] }, null, { src: [] }), /invalid mode: rx/);
});
