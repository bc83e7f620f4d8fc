// The wire shapes in api/views: pure functions of the engine's records, and the only place
// that knows the API version (engine/ answers the same whatever the request's version).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { ContainerRecord } from '../../src/engine/containers/Container';
import type { BerthEvent } from '../../src/engine/events/EventBus';
import { containerPruneView, containerSummaryView, statusString } from '../../src/api/views/containers';
import { eventView } from '../../src/api/views/events';
import { diskUsageView } from '../../src/api/views/system';

const ZERO = '0001-01-01T00:00:00Z';

function record(state: Partial<ContainerRecord['State']>): ContainerRecord {
  return {
    Id: 'a'.repeat(64), Name: '/c', Created: '2026-01-01T00:00:00Z', Path: 'sh', Args: ['-c', 'echo hi', ''], Image: 'sha256:' + 'b'.repeat(64),
    Config: { Image: 'busybox', Labels: null }, HostConfig: { NetworkMode: 'default' },
    State: { Status: 'created', Running: false, Paused: false, Restarting: false, Dead: false, ExitCode: 0, StartedAt: ZERO, FinishedAt: ZERO, ...state },
  } as unknown as ContainerRecord;
}

test('Status text: the state in words with how long ago (presentation, computed per request)', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  assert.equal(statusString(record({}), now), 'Created');
  assert.equal(statusString(record({ Status: 'running', Running: true, StartedAt: '2026-01-01T00:55:00Z' }), now), 'Up 5 minutes');
  assert.equal(statusString(record({ Status: 'paused', Running: true, Paused: true, StartedAt: '2026-01-01T00:00:00Z' }), now), 'Up About an hour (Paused)');
  assert.equal(statusString(record({ Status: 'exited', ExitCode: 3, StartedAt: '2026-01-01T00:00:00Z', FinishedAt: '2026-01-01T00:59:58Z' }), now), 'Exited (3) 2 seconds ago');
  assert.equal(statusString(record({ Status: 'removing' }), now), 'Removal In Progress');
});

test('list item: quoted command, labels {} for none, SizeRw only when the layer has grown', () => {
  const s = containerSummaryView({ record: record({}) });
  assert.equal(s.Command, "sh -c 'echo hi' ''");
  assert.deepEqual(s.Labels, {});
  assert.deepEqual(Object.keys(s.NetworkSettings as object), ['Networks']);
  assert.ok(!('SizeRw' in s) && !('SizeRootFs' in s));
  const empty = containerSummaryView({ record: record({}), sizes: { rw: 0, rootFs: 42 } });
  assert.ok(!('SizeRw' in empty));
  assert.equal(empty.SizeRootFs, 42);
  assert.equal(containerSummaryView({ record: record({}), sizes: { rw: 5, rootFs: 47 } }).SizeRw, 5);
});

test('prune and df: null for nothing deleted, only the types asked for, in Docker\'s key order', () => {
  assert.deepEqual(containerPruneView({ deleted: [], reclaimed: 0 }), { ContainersDeleted: null, SpaceReclaimed: 0 });
  assert.deepEqual(containerPruneView({ deleted: ['x'], reclaimed: 9 }), { ContainersDeleted: ['x'], SpaceReclaimed: 9 });
  assert.deepEqual(diskUsageView('1.44', { volumes: [] }), { Volumes: [] });
  const all = diskUsageView('1.44', { layersSize: 1, images: [], containers: [{ record: record({}) }], volumes: [], buildCache: [] });
  assert.deepEqual(Object.keys(all), ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache']);
  assert.equal((all.Containers as { Status: string }[])[0].Status, 'Created');
});

test('events: the deprecated status/id/from lead container and image events before API 1.52 only', () => {
  const ev: BerthEvent = { Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { image: 'busybox', name: 'c' } }, scope: 'local', time: 1, timeNano: 1e9 };
  assert.deepEqual(Object.keys(eventView('1.44', ev)), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  assert.equal(eventView('1.24', ev).from, 'busybox');
  assert.ok(!('status' in eventView('1.52', ev)));
  const net: BerthEvent = { ...ev, Type: 'network' };
  assert.ok(!('status' in eventView('1.44', net)));
  const noImage: BerthEvent = { ...ev, Type: 'image', Actor: { ID: 'sha256:x', Attributes: { name: 'busybox:latest' } } };
  assert.deepEqual(Object.keys(eventView('1.44', noImage)).slice(0, 3), ['status', 'id', 'Type']);
});

test('engine/ knows no API version and no HTTP: nothing under it imports api/ or the version comparator', () => {
  const root = path.resolve(__dirname, '../../../src/engine');
  const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 20, `engine sources found under ${root}`);
  const offenders = files.filter((f) => /from '(\.\.\/)+(api\/|lib\/apiVersion)/.test(fs.readFileSync(path.join(root, f), 'utf8')));
  assert.deepEqual(offenders, []);
});
