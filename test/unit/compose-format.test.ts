import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ComposeContainerContext, COMPOSE_PS_FORMAT, COMPOSE_PS_HEADERS, statusesOf } from '../../src/cli/commands/compose/ps';
import { eventJSON, eventText } from '../../src/cli/commands/compose/events';
import { rfc3339Nano, rfc3339NanoFixed } from '../../src/compose/progress/gotime';
import { filterProjects } from '../../src/cli/commands/compose/ls';
import { parsePrivatePort } from '../../src/cli/commands/compose/port';
import { resolveEnv } from '../../src/cli/commands/compose/exec';
import { renderFormat } from '../../src/cli/format/formatter';
import { combinedStatus, projectsFromContainers } from '../../src/compose/query/projects';
import { nameWithoutProject, projectFilters } from '../../src/compose/query/containers';
import { toServiceContainer } from '../../src/compose/query/summary';
import { toProjectEvent } from '../../src/compose/query/events';
import type { ContainerSummary } from '../../src/client/types';

const labels = (service: string, n: number, extra: Record<string, string> = {}) => ({
  'com.docker.compose.project': 'p', 'com.docker.compose.service': service, 'com.docker.compose.container-number': String(n),
  'com.docker.compose.oneoff': 'False', 'com.docker.compose.project.config_files': '/w/compose.yaml', ...extra,
});

function summary(name: string, service: string, n: number, state = 'running', extra: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    Id: 'a'.repeat(64), Names: [`/${name}`], Image: 'busybox', ImageID: 'sha256:' + 'b'.repeat(64), Command: 'sh -c \'echo hello; sleep 3600\'',
    Created: 1_700_000_000, Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }], Labels: labels(service, n),
    State: state, Status: 'Up 2 minutes', NetworkSettings: { Networks: { p_default: {} } }, Mounts: [{ Name: 'p_data', Driver: 'local', Type: 'volume' }],
    ...extra,
  } as ContainerSummary;
}

test('ps --format json: compose v2\'s fields and values', () => {
  const ctx = new ComposeContainerContext(toServiceContainer(summary('p-web-1', 'web', 1), 'healthy', 0), true, 1_700_000_120 * 1000);
  const j = JSON.parse(JSON.stringify(ctx));
  assert.deepEqual(Object.keys(j), ['Command', 'CreatedAt', 'ExitCode', 'Health', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts',
    'Name', 'Names', 'Networks', 'Ports', 'Project', 'Publishers', 'RunningFor', 'Service', 'Size', 'State', 'Status']);
  assert.equal(j.Command, '"sh -c \'echo hello; …"');
  assert.equal(j.ID, 'a'.repeat(12));
  assert.equal(j.Health, 'healthy');
  assert.equal(j.LocalVolumes, '1');
  assert.equal(j.Mounts, 'p_data');
  assert.equal(j.Networks, 'p_default');
  assert.equal(j.Ports, '0.0.0.0:8080->80/tcp');
  assert.deepEqual(j.Publishers, [{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' }]);
  assert.equal(j.RunningFor, '2 minutes ago');
  assert.equal(j.Size, '0B');
});

test('ps table: compose v2\'s default columns', () => {
  const ctx = new ComposeContainerContext(toServiceContainer(summary('p-web-1', 'web', 1), '', 0), true, 1_700_000_120 * 1000);
  const out = renderFormat(COMPOSE_PS_FORMAT, [ctx], COMPOSE_PS_HEADERS);
  assert.equal(out,
    'NAME      IMAGE     COMMAND                  SERVICE   CREATED         STATUS         PORTS\n' +
    'p-web-1   busybox   "sh -c \'echo hello; …"   web       2 minutes ago   Up 2 minutes   0.0.0.0:8080->80/tcp\n');
});

test('ps filters: --filter status= joins --status; other keys are refused as compose does', () => {
  assert.deepEqual(statusesOf({ status: ['exited'], filter: 'status=running' }), ['exited', 'running']);
  assert.throws(() => statusesOf({ filter: 'status' }), /arguments to --filter should be in form KEY=VAL/);
  assert.throws(() => statusesOf({ filter: 'name=x' }), /unknown filter name/);
  assert.throws(() => statusesOf({ filter: 'source=image' }), /not implemented/);
});

test('label filters as compose lists a project\'s containers', () => {
  assert.deepEqual(projectFilters('p', 'exclude', 'web').label, ['com.docker.compose.project=p', 'com.docker.compose.service=web',
    'com.docker.compose.config-hash', 'com.docker.compose.oneoff=False']);
  assert.deepEqual(projectFilters('p', 'include').label, ['com.docker.compose.project=p', 'com.docker.compose.config-hash']);
});

test('log prefix names: project- dropped, a container_name kept', () => {
  assert.equal(nameWithoutProject({ Id: 'x', Names: ['/p-web-2'], Labels: labels('web', 2) }), 'web-2');
  assert.equal(nameWithoutProject({ Id: 'x', Names: ['/custom'], Labels: labels('web', 1) }), 'custom');
});

test('ls: projects from labels, states counted and sorted, config files once', () => {
  const list = [summary('p-web-1', 'web', 1), summary('p-web-2', 'web', 2, 'exited'), summary('p-db-1', 'db', 1),
    summary('q-x-1', 'x', 1, 'running', { Labels: { ...labels('x', 1), 'com.docker.compose.project': 'q', 'com.docker.compose.project.config_files': '/q/a.yml,/q/b.yml' } })];
  assert.deepEqual(projectsFromContainers(list), [
    { name: 'p', status: 'exited(1), running(2)', configFiles: '/w/compose.yaml' },
    { name: 'q', status: 'running(1)', configFiles: '/q/a.yml,/q/b.yml' },
  ]);
  assert.equal(combinedStatus(['running', 'paused', 'running']), 'paused(1), running(2)');
  assert.deepEqual(filterProjects(projectsFromContainers(list), { name: ['^q'] }).map((p) => p.name), ['q']);
  assert.throws(() => filterProjects([], { status: ['x'] }), /invalid filter 'status'/);
});

test('events: compose labels and one-offs dropped; text and --json as compose prints them', () => {
  const prevTz = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    const raw = { Type: 'container', Action: 'start', Actor: { ID: 'c1', Attributes: { ...labels('web', 1), name: 'p-web-1', image: 'busybox' } }, time: 1_700_000_000, timeNano: 0 };
    const ev = toProjectEvent({ ...raw, timeNanoExact: '1700000000123456000' } as never)!;
    assert.deepEqual(ev.attributes, { name: 'p-web-1', image: 'busybox' });
    assert.equal(eventText(ev), '2023-11-14 22:13:20.123456 container start c1 (image=busybox, name=p-web-1)\n');
    assert.equal(eventJSON(ev), '{"action":"start","attributes":{"image":"busybox","name":"p-web-1"},"id":"c1","service":"web","time":"2023-11-14T22:13:20.123456Z","type":"container"}');
    assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
    assert.equal(rfc3339NanoFixed(1_700_000_000_000_000_000n), '2023-11-14T22:13:20.000000000Z');
    assert.equal(rfc3339NanoFixed(1_700_000_000_123_000_000n), '2023-11-14T22:13:20.123000000Z');
    assert.equal(toProjectEvent({ ...raw, Actor: { ID: 'c2', Attributes: { ...labels('web', 1), 'com.docker.compose.oneoff': 'True' } } } as never), undefined);
  } finally {
    if (prevTz === undefined) delete process.env.TZ; else process.env.TZ = prevTz;
  }
});

test('port and exec arguments', () => {
  assert.equal(parsePrivatePort('80'), 80);
  assert.throws(() => parsePrivatePort('x'), /strconv.ParseUint: parsing "x": invalid syntax/);
  assert.throws(() => parsePrivatePort('70000'), /value out of range/);
  assert.deepEqual(resolveEnv(['A=1', 'B', 'C'], { B: 'from-project' }), ['A=1', 'B=from-project', 'C']);
});
