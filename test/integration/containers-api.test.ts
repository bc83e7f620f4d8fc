// Container endpoints at the wire level: hijacked attach framing per API version, wait
// conditions, logs options, stats, events, errors and no half-made containers.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

async function create(body: Record<string, unknown>, name?: string): Promise<string> {
  const r = await d.request('POST', `/v1.44/containers/create${name ? `?name=${name}` : ''}`, { Image: 'busybox', ...body });
  assert.equal(r.status, 201, r.body.toString());
  return r.json().Id;
}

/** Raw hijack: returns the response head and everything the daemon sent until it closed. */
function hijackAttach(version: string, id: string, stdin?: string): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(d.socket);
    const chunks: Buffer[] = [];
    sock.on('connect', () => {
      sock.write(`POST /v${version}/containers/${id}/attach?stream=1&stdout=1&stderr=1${stdin !== undefined ? '&stdin=1' : ''} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      if (stdin !== undefined) sock.write(stdin);
      sock.end();
    });
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, split).toString(), body: all.subarray(split + 4) });
    });
  });
}

test('attach before start: 101, multiplexed frames at 1.44, raw-stream type at 1.41, stdin held until start', async () => {
  const id = await create({ Cmd: ['sh', '-c', 'cat; echo err >&2'], OpenStdin: true, StdinOnce: true, AttachStdin: true });
  const attached = hijackAttach('1.44', id, 'piped\n');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await d.request('POST', `/v1.44/containers/${id}/start`)).status, 204);
  const { head, body } = await attached;
  assert.match(head, /^HTTP\/1.1 101 UPGRADED/);
  assert.match(head, /Content-Type: application\/vnd.docker.multiplexed-stream/);
  const frames: [number, string][] = [];
  for (let off = 0; off < body.length;) {
    const len = body.readUInt32BE(off + 4);
    frames.push([body[off], body.subarray(off + 8, off + 8 + len).toString()]);
    off += 8 + len;
  }
  assert.deepEqual(frames.filter(([t]) => t === 1).map(([, s]) => s).join(''), 'piped\n');
  assert.deepEqual(frames.filter(([t]) => t === 2).map(([, s]) => s).join(''), 'err\n');
  const old = await create({ Cmd: ['echo', 'x'] });
  const oldAttach = hijackAttach('1.41', old);
  await new Promise((r) => setTimeout(r, 100));
  await d.request('POST', `/v1.41/containers/${old}/start`);
  assert.match((await oldAttach).head, /Content-Type: application\/vnd.docker.raw-stream/);
});

test('wait: headers at once; not-running, next-exit and removed conditions', async () => {
  const created = await create({ Cmd: ['true'] });
  const notRunning = await d.request('POST', `/v1.44/containers/${created}/wait`);
  assert.deepEqual(notRunning.json(), { Error: null, StatusCode: 0 });
  const id = await create({ Cmd: ['sh', '-c', 'sleep 0.3; exit 7'], HostConfig: { AutoRemove: true } });
  const next = d.request('POST', `/v1.44/containers/${id}/wait?condition=next-exit`);
  const removed = d.request('POST', `/v1.44/containers/${id}/wait?condition=removed`);
  await d.request('POST', `/v1.44/containers/${id}/start`);
  assert.equal((await next).json().StatusCode, 7);
  assert.equal((await removed).json().StatusCode, 7);
  assert.equal((await d.request('GET', `/v1.44/containers/${id}/json`)).status, 404);
  const bad = await d.request('POST', `/v1.44/containers/${created}/wait?condition=bogus`);
  assert.equal(bad.status, 400);
});

test('logs: frames per record, tail across streams, timestamps, since/until, follow ends at exit', async () => {
  const id = await create({ Cmd: ['sh', '-c', 'echo one; echo two >&2; echo three; sleep 1; echo four'] });
  const t0 = Math.floor(Date.now() / 1000);
  await d.request('POST', `/v1.44/containers/${id}/start`);
  const follow = await d.request('GET', `/v1.44/containers/${id}/logs?follow=1&stdout=1&stderr=1`);
  const text = follow.body.toString();
  // Order holds within a stream; between stdout and stderr it is not guaranteed (as in Docker).
  assert.match(text, /one\n[\s\S]*three\n[\s\S]*four\n/);
  assert.match(text, /two\n/);
  const tail = await d.request('GET', `/v1.44/containers/${id}/logs?stdout=1&stderr=1&tail=2`);
  const frameCount = (b: Buffer) => { let n = 0; for (let o = 0; o < b.length; o += 8 + b.readUInt32BE(o + 4)) n++; return n; };
  assert.equal(frameCount(tail.body), 2);
  assert.match(tail.body.toString(), /four\n/);
  assert.doesNotMatch(tail.body.toString(), /one/);
  const onlyErr = await d.request('GET', `/v1.44/containers/${id}/logs?stderr=1`);
  assert.equal(onlyErr.body[0], 2);
  assert.equal(onlyErr.body.subarray(8).toString(), 'two\n');
  const ts = await d.request('GET', `/v1.44/containers/${id}/logs?stdout=1&timestamps=1&tail=1`);
  assert.match(ts.body.subarray(8).toString(), /^\d{4}-\d\d-\d\dT[\d:.]+Z four\n$/);
  const future = await d.request('GET', `/v1.44/containers/${id}/logs?stdout=1&since=${t0 + 3600}`);
  assert.equal(future.body.length, 0);
  const past = await d.request('GET', `/v1.44/containers/${id}/logs?stdout=1&until=${t0 - 3600}`);
  assert.equal(past.body.length, 0);
  const none = await d.request('GET', `/v1.44/containers/${id}/logs`);
  assert.equal(none.status, 400);
});

test('stats: one-shot with precpu, and a stream of samples', async () => {
  const id = await create({ Cmd: ['sleep', '30'], HostConfig: { Memory: 32 * 1024 * 1024 } });
  await d.request('POST', `/v1.44/containers/${id}/start`);
  const one = (await d.request('GET', `/v1.44/containers/${id}/stats?stream=0`)).json();
  assert.equal(one.id, id);
  assert.equal(one.memory_stats.limit, 32 * 1024 * 1024);
  assert.ok(one.cpu_stats.cpu_usage.total_usage > 0);
  assert.ok(one.precpu_stats.system_cpu_usage > 0);
  assert.ok(one.pids_stats.current >= 1);
  await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
});

test('events: live stream with a type filter', async () => {
  const got: string[] = [];
  const sock = net.connect(d.socket);
  const filters = encodeURIComponent(JSON.stringify({ type: { container: true }, event: { start: true, die: true } }));
  sock.write(`GET /v1.44/events?filters=${filters} HTTP/1.1\r\nHost: x\r\n\r\n`);
  sock.on('data', (c) => got.push(c.toString()));
  await new Promise((r) => setTimeout(r, 200));
  const id = await create({ Cmd: ['true'] });
  await d.request('POST', `/v1.44/containers/${id}/start`);
  await d.request('POST', `/v1.44/containers/${id}/wait`);
  await new Promise((r) => setTimeout(r, 200));
  sock.destroy();
  const events = got.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.Action), ['start', 'die']);
  assert.equal(events[0].id, id);
  assert.equal(events[1].Actor.Attributes.exitCode, '0');
});

test('bad create requests leave nothing behind', async () => {
  const before = (await d.request('GET', '/v1.44/containers/json?all=1')).json().length;
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{ Image: 'busybox', Cmd: 'not-a-list-but-ok' }, 201, /./],
    [{ Image: 'busybox', HostConfig: { Memory: 1024 } }, 400, /Minimum memory limit allowed is 6MB/],
    [{ Image: 'busybox', HostConfig: { NanoCpus: 1e9, CpuQuota: 50000 } }, 400, /Conflicting options/],
    [{ Image: 'busybox', HostConfig: { CapAdd: ['CAP_BOGUS'] } }, 400, /unknown capability/],
    [{ Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, 400, /invalid restart policy/],
    [{ Image: 'busybox', Entrypoint: [], Cmd: [] }, 400, /No command specified/],
    [{ Image: 'busybox', HostConfig: { NetworkMode: 'no-such-net' } }, 404, /network no-such-net not found/],
    [{ Cmd: ['true'] }, 400, /No image specified/],
  ];
  let created = 0;
  for (const [body, status, msg] of cases) {
    const r = await d.request('POST', '/v1.44/containers/create', body);
    assert.equal(r.status, status, `${JSON.stringify(body)} -> ${r.body}`);
    if (status === 201) created++;
    else assert.match(r.json().message, msg);
  }
  const badName = await d.request('POST', '/v1.44/containers/create?name=bad%2Fname', { Image: 'busybox' });
  assert.equal(badName.status, 400);
  assert.equal((await d.request('GET', '/v1.44/containers/json?all=1')).json().length, before + created);
});

test('ID prefixes and names resolve; ambiguity and absence are errors', async () => {
  const id = await create({ Cmd: ['true'] }, 'api-named');
  assert.equal((await d.request('GET', `/v1.44/containers/${id.slice(0, 12)}/json`)).json().Id, id);
  assert.equal((await d.request('GET', '/v1.44/containers/api-named/json')).json().Name, '/api-named');
  assert.equal((await d.request('POST', `/v1.44/containers/${id}/kill`)).status, 409);
  assert.equal((await d.request('POST', `/v1.44/containers/${id}/stop`)).status, 304);
  assert.equal((await d.request('POST', '/v1.44/containers/nope/start')).status, 404);
  assert.equal((await d.request('POST', `/v1.44/containers/${id}/kill?signal=BOGUS`)).status, 400);
  assert.equal((await d.request('DELETE', `/v1.44/containers/${id}`)).status, 204);
});
