// The daemon holds against clients that misbehave (issue 19, limits): JSON bodies have a cap
// (413) and an idle timeout (408) while streamed bodies have neither; a slow-loris client, or
// one that connects and sends nothing, is cut off while long streams (events, logs -f, a
// hijacked attach) live on past every timeout; a client that stops reading a fast `logs -f`
// or attach costs berthd a bounded buffer (its RSS is measured); 1,000 connections held open
// leave /_ping answering. Real berthd, raw sockets where HTTP clients would be too polite.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { useDaemon, type TestDaemon } from '../helpers/daemon';
import { STREAM_BACKLOG, startJsonStream } from '../../src/api/respond';
import { BODY_IDLE_TIMEOUT_MS, MAX_JSON_BODY } from '../../src/api/body';
import { CONNECTION_LIMITS } from '../../src/api/server';
import { heldConnections, openRaw, pingMs, rssMb, stalledStream, waitClosed, type RawConn } from '../helpers/rawhttp';

const run = promisify(execFile);

let d: TestDaemon;
useDaemon((x) => { d = x; });

/** Longer than any of berthd's connection timeouts, so that a survivor has outlived them all. */
const PAST_TIMEOUTS_MS = Math.max(CONNECTION_LIMITS.headersTimeoutMs, CONNECTION_LIMITS.keepAliveTimeoutMs) + 3 * CONNECTION_LIMITS.checkIntervalMs;
/** A bound on waits for a cut-off: liveness, not timing (the machine is shared and slow). */
const CUT_OFF_WITHIN_MS = 4 * (BODY_IDLE_TIMEOUT_MS + PAST_TIMEOUTS_MS);

test('a JSON body over the cap is refused with 413, announced or chunked', async () => {
  const big = Buffer.alloc(MAX_JSON_BODY + 1024, 0x20);
  big.write('{"Image":"busybox","Cmd":["true"],"Labels":{"a":"');
  big.write('"}}', big.length - 3);
  const announced = await d.request('POST', '/v1.44/containers/create', big);
  assert.equal(announced.status, 413, announced.body.toString());
  assert.match(announced.json().message, /request body is too large/);
  // chunked: no Content-Length to refuse up front, the cap is met while reading
  const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: '/v1.44/containers/create', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (e) => (/EPIPE|ECONNRESET/.test(String(e)) ? undefined : reject(e)));
    for (let i = 0; i < big.length; i += 1 << 20) req.write(big.subarray(i, i + (1 << 20)));
    req.end();
  });
  assert.equal(chunked.status, 413, chunked.body);
  assert.match(JSON.parse(chunked.body).message, /too large/);
  assert.deepEqual((await d.request('GET', '/v1.44/containers/json?all=1')).json(), []);
});

test('streamed bodies have no cap: put-archive and import of more than the JSON cap', async () => {
  const dir = fs.mkdtempSync(path.join(d.root, 'big-'));
  const file = path.join(dir, 'big.bin');
  fs.writeFileSync(file, Buffer.alloc(2 * MAX_JSON_BODY, 7));
  const id = (await d.dockerOk(['create', 'busybox', 'true'])).trim();
  try {
    await d.dockerOk(['cp', file, `${id}:/big.bin`]);
    await d.dockerOk(['cp', `${id}:/big.bin`, path.join(dir, 'back.bin')]);
    assert.equal(fs.statSync(path.join(dir, 'back.bin')).size, 2 * MAX_JSON_BODY);
    await run('tar', ['-C', dir, '-cf', path.join(dir, 'img.tar'), 'big.bin']);
    await d.dockerOk(['import', path.join(dir, 'img.tar'), 'limits-big:1']);
    await d.dockerOk(['rmi', 'limits-big:1']);
  } finally {
    await d.docker(['rm', '-f', id]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('slow and silent clients are cut off; long streams outlive every timeout', async () => {
  const cname = 'limits-cat';
  await d.dockerOk(['run', '-d', '-i', '-t', '--name', cname, 'busybox', 'sh', '-c', 'echo started; exec cat']);
  try {
    // slow-loris: a byte of headers every 2 s, forever
    const loris = openRaw(d.socket);
    const header = 'GET /v1.44/info HTTP/1.1\r\nHost: berth\r\nX-Slow: ' + 'a'.repeat(1000);
    let i = 0;
    const drip = setInterval(() => { if (!loris.sock.destroyed) loris.sock.write(header[i++ % header.length]); }, 2000);
    // connected, never a byte
    const silent = openRaw(d.socket);
    // one request answered, then the connection idles between requests
    const idle = openRaw(d.socket);
    idle.sock.write('GET /_ping HTTP/1.1\r\nHost: berth\r\n\r\n');
    // headers whole, then a JSON body that stops half-way
    const stalled = openRaw(d.socket);
    stalled.sock.write('POST /v1.44/containers/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Image":');

    // streams that must live on: events, logs -f, a hijacked attach
    const events = stalledStream(d.socket, 'GET /v1.44/events HTTP/1.1\r\nHost: berth\r\n\r\n', { read: true });
    const logs = stalledStream(d.socket, `GET /v1.44/containers/${cname}/logs?follow=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: berth\r\n\r\n`, { read: true });
    const attach = stalledStream(d.socket, `POST /v1.44/containers/${cname}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`, { read: true });

    try {
      const [lorisEnd, silentEnd, idleEnd, stalledEnd] = await Promise.all([loris, silent, idle, stalled].map((c) => waitClosed(c, CUT_OFF_WITHIN_MS)));
      assert.ok(lorisEnd.closed, 'a slow-loris client held its connection');
      assert.match(lorisEnd.data, /^HTTP\/1\.1 408/, lorisEnd.data);
      assert.ok(silentEnd.closed, 'a silent connection was held');
      assert.ok(idleEnd.closed, 'an idle keep-alive connection was held');
      assert.match(idleEnd.data, /^HTTP\/1\.1 200/);
      assert.ok(stalledEnd.closed, 'a stalled JSON body was held');
      assert.match(stalledEnd.data, /^HTTP\/1\.1 408[^]*"message":"request body: no data/, stalledEnd.data);

      // the long streams saw all of that time pass, and still work
      await sleep(Math.max(0, PAST_TIMEOUTS_MS - (Date.now() - events.openedAt)));
      for (const s of [events, logs, attach]) assert.ok(!s.sock.destroyed, `a long stream was cut: ${s.data.slice(0, 200)}`);
      await d.dockerOk(['create', '--name', 'limits-event', 'busybox', 'true']);
      await d.dockerOk(['rm', 'limits-event']);
      attach.sock.write('still-here\n');
      await until(() => events.data.includes('limits-event') && attach.data.includes('still-here') && logs.data.includes('still-here'), 'the streams after the timeouts');
      assert.match(attach.data, /^HTTP\/1\.1 101/);
      assert.match(logs.data, /started/);
    } finally {
      clearInterval(drip);
      for (const s of [events, logs, attach, loris, silent, idle, stalled]) s.sock.destroy();
    }
  } finally {
    await d.docker(['rm', '-f', cname]);
  }
});

test('a client that stops reading a fast logs -f or attach holds a bounded buffer', async () => {
  const cname = 'limits-fast';
  // ~1.5 MB/s of output (SEQ_BYTES a round, counted in /n), logs rotated so that the disk stays small too
  await d.dockerOk(['run', '-d', '--name', cname, '--log-opt', 'max-size=4m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
    'i=0; while :; do seq 1 40000; i=$((i+1)); echo $i > /n; sleep 0.1; done']);
  const pid = d.proc!.pid!;
  const resumes = async (s: RawConn) => {
    assert.ok(!s.sock.destroyed, 'a paused stream was cut');
    const had = s.bytes;
    s.sock.resume();
    await until(() => s.bytes > had + 100_000, 'data after resuming');
  };
  try {
    // logs -f reads the log file: berthd stops reading it, the container writes on
    const logs = stalledStream(d.socket, `GET /v1.44/containers/${cname}/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: berth\r\n\r\n`, { read: false });
    try {
      await sleep(2000);
      const before = rssMb(pid);
      const producedBefore = await produced(cname);
      await sleep(12_000);
      const after = rssMb(pid);
      const wrote = (await produced(cname)) - producedBefore;
      process.stdout.write(`# stalled logs -f: berthd RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MB while the container wrote ${(wrote / 1e6).toFixed(1)} MB\n`);
      assert.ok(wrote > 8e6, `the container wrote too little to tell (${wrote} bytes)`);
      // Unbuffered reading would hold all that was written.
      assert.ok(after - before < wrote / 2e6, `berthd grew ${after - before} MB for a client that does not read ${wrote / 1e6} MB`);
      await resumes(logs);
    } finally {
      logs.sock.destroy();
    }
    // attach is the container's stdout itself: as with dockerd (whose per-attach pipe blocks at
    // 1 MB), a client that does not read holds the output back, and berthd buffers nothing
    const attach = stalledStream(d.socket, `POST /v1.44/containers/${cname}/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`, { read: false });
    try {
      await sleep(2000);
      const before = rssMb(pid);
      const rounds = await produced(cname);
      await sleep(6000);
      const after = rssMb(pid);
      const wrote = (await produced(cname)) - rounds;
      process.stdout.write(`# stalled attach: berthd RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MB, the container wrote ${(wrote / 1e6).toFixed(1)} MB meanwhile\n`);
      assert.ok(after - before < 16, `berthd grew ${after - before} MB for an attach client that does not read`);
      await resumes(attach);
      const rounds2 = await produced(cname);
      await until(async () => (await produced(cname)) > rounds2 + SEQ_BYTES * 5, 'output flowing again once the client reads');
    } finally {
      attach.sock.destroy();
    }
  } finally {
    await d.docker(['rm', '-f', cname]);
  }
});

test('JSON streams: progress is coalesced and other messages cut off a client that does not read', async () => {
  const opened: { res: http.ServerResponse; stream: ReturnType<typeof startJsonStream> }[] = [];
  const server = http.createServer((_q, r) => { opened.push({ res: r, stream: startJsonStream(r, '\r\n') }); });
  const sockPath = path.join(d.root, 'jsonstream.sock');
  await new Promise<void>((r) => server.listen(sockPath, r));
  try {
    const client = stalledStream(sockPath, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { read: false, keep: true });
    const { res, stream } = await until(() => opened[0], 'the stream');
    let maxBacklog = 0;
    for (let n = 0; n < 200_000; n++) {
      stream.write({ status: 'Downloading', id: `layer${n % 5}`, progressDetail: { current: n, total: 200_000 }, progress: `[${'='.repeat(40)}>]` });
      maxBacklog = Math.max(maxBacklog, res.writableLength);
    }
    assert.ok(maxBacklog < STREAM_BACKLOG.softBytes + 64 * 1024, `progress backlog reached ${maxBacklog}`);
    stream.write({ status: 'Download complete', id: 'layer0', progressDetail: {} });
    stream.end();
    client.sock.resume();
    const end = await waitClosed(client, 30_000);
    const lines = end.data.split('\r\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const last = lines.filter((m) => m.id === 'layer0');
    assert.equal(last[last.length - 1].status, 'Download complete');
    assert.equal(last[last.length - 2].progressDetail.current, 199_995, 'the latest progress of a layer comes before its next message');
    for (let k = 1; k < 5; k++) assert.equal(lines.filter((m) => m.id === `layer${k}`).pop().progressDetail.current, 199_995 + k);
    assert.ok(lines.length < 200_000, 'nothing was coalesced');

    // events-like messages: no coalescing, the client is cut at the hard limit
    const client2 = stalledStream(sockPath, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { read: false });
    const s2 = (await until(() => opened[1], 'a second stream')).stream;
    let written = 0;
    while (!s2.closed && written < 4 * STREAM_BACKLOG.hardBytes) {
      const line = { Type: 'container', Action: 'create', Actor: { ID: 'x'.repeat(64), Attributes: { n: String(written) } } };
      s2.write(line);
      written += JSON.stringify(line).length;
      if (written % (1 << 20) < 200) await sleep(1);
    }
    assert.ok(s2.closed, `a client that does not read was sent ${written} bytes and is still connected`);
    client2.sock.destroy();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('1,000 connections held open (silent and slow-loris) leave /_ping answering', async () => {
  const pid = d.proc!.pid!;
  const quiet: number[] = [];
  for (let i = 0; i < 10; i++) quiet.push(await pingMs(d.socket));
  const held = await heldConnections(d.socket, 1000);
  try {
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    const loaded: number[] = [];
    for (let i = 0; i < 20; i++) loaded.push(await pingMs(d.socket));
    const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))].toFixed(1);
    process.stdout.write(`# /_ping quiet p50 ${p(quiet, 0.5)} ms; with ${held.open()} held connections (berthd fds ${fds}) p50 ${p(loaded, 0.5)} max ${p(loaded, 1)} ms\n`);
    assert.equal(held.open(), 1000, 'berthd refused or dropped connections at once');
    // The goal is under 100 ms; a shared machine gets a generous bound, the figure is in bench/limits.ts.
    assert.ok(Math.min(...loaded) < 2000, `/_ping took ${Math.min(...loaded)} ms at best under load`);
  } finally {
    held.close();
  }
});

/** `seq 1 40000` prints this many bytes. */
const SEQ_BYTES = Array.from({ length: 40000 }, (_, i) => String(i + 1).length + 1).reduce((x, y) => x + y, 0);

/** Bytes the fast container has written so far (it counts its rounds in /n). */
/** Bytes the container has written so far: its round counter (read again when caught mid-rewrite, empty). */
async function produced(name: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const n = Number((await d.docker(['exec', name, 'cat', '/n'])).stdout.trim());
    if (n > 0) return n * SEQ_BYTES;
    await sleep(50);
  }
  return 0;
}

async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
