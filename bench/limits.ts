// What misbehaving clients cost berthd (issue 19, limits): /_ping latency quiet and with
// 1,000 connections held open (half silent, half slow-loris), berthd's RSS and fds with them;
// berthd's RSS while a client does not read a `logs -f` of a container printing fast; how long
// a slow-loris connection lives. JSON figures, no assertions. Own daemon (`node dist/bench/limits.js`).
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { heldConnections, openRaw, pingMs, rssMb, stalledStream, waitClosed } from '../test/helpers/rawhttp';
import { CONNECTION_LIMITS } from '../src/api/server';
import * as fs from 'node:fs';
import { printBench } from './alone';

const HELD = Number(process.env.BENCH_HELD_CONNECTIONS ?? 1000);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2));
  return { n: xs.length, p50_ms: at(0.5), p95_ms: at(0.95), max_ms: Number(s[s.length - 1].toFixed(2)) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pings(d: TestDaemon, n: number): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await pingMs(d.socket));
  return xs;
}

async function underConnections(d: TestDaemon): Promise<Record<string, unknown>> {
  const pid = d.proc!.pid!;
  const fdsBefore = fs.readdirSync(`/proc/${pid}/fd`).length;
  const quiet = await pings(d, 50);
  const rssQuiet = rssMb(pid);
  const t0 = Date.now();
  const held = await heldConnections(d.socket, HELD);
  const openedMs = Date.now() - t0;
  // berthd has accepted them all once its fd count says so (or after 5 s)
  const deadline = Date.now() + 5000;
  while (fs.readdirSync(`/proc/${pid}/fd`).length < fdsBefore + HELD && Date.now() < deadline) await sleep(50);
  try {
    const loaded = await pings(d, 50);
    return {
      held_connections: HELD,
      still_open_when_measured: held.open(),
      berthd_fds: fs.readdirSync(`/proc/${pid}/fd`).length,
      ms_to_open_them: openedMs,
      ping_quiet: stats(quiet),
      ping_with_connections_held: stats(loaded),
      berthd_rss_mb_quiet: Number(rssQuiet.toFixed(1)),
      berthd_rss_mb_with_connections_held: Number(rssMb(pid).toFixed(1)),
      goal: { ping_under_load_ms_below: 100 },
    };
  } finally {
    held.close();
  }
}

async function stalledLogs(d: TestDaemon): Promise<Record<string, unknown>> {
  const pid = d.proc!.pid!;
  const name = 'bench-limits-fast';
  // a round of `seq 1 40000` is 188,895 bytes; /n counts the rounds
  const seqBytes = Array.from({ length: 40000 }, (_, i) => String(i + 1).length + 1).reduce((x, y) => x + y, 0);
  await d.dockerOk(['run', '-d', '--name', name, '--log-opt', 'max-size=8m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
    'i=0; while :; do seq 1 40000; i=$((i+1)); echo $i > /n; sleep 0.05; done']);
  const rounds = async () => Number((await d.docker(['exec', name, 'cat', '/n'])).stdout.trim()) || 0;
  try {
    const s = stalledStream(d.socket, `GET /v1.44/containers/${name}/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: berth\r\n\r\n`, { read: false });
    await sleep(2000);
    const rss0 = rssMb(pid);
    const r0 = await rounds();
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) { await sleep(2000); samples.push(rssMb(pid)); }
    const written = ((await rounds()) - r0) * seqBytes;
    s.sock.destroy();
    return {
      seconds: 20,
      container_wrote_mb: Number((written / 1e6).toFixed(1)),
      berthd_rss_mb_at_start: Number(rss0.toFixed(1)),
      berthd_rss_mb_max: Number(Math.max(...samples).toFixed(1)),
      berthd_rss_mb_growth: Number((Math.max(...samples) - rss0).toFixed(1)),
    };
  } finally {
    await d.docker(['rm', '-f', name]);
  }
}

/** How long a connection sending a header byte every second lives (headersTimeout + check interval). */
async function slowLorisLifetime(d: TestDaemon): Promise<Record<string, unknown>> {
  const c = openRaw(d.socket);
  const timer = setInterval(() => { if (!c.sock.destroyed) c.sock.write('X'); }, 1000);
  c.sock.write('GET /_ping HTTP/1.1\r\nHost: berth\r\nX-Slow: ');
  const t0 = Date.now();
  await waitClosed(c, 120_000);
  clearInterval(timer);
  return {
    closed: c.closed,
    lived_ms: Date.now() - t0,
    answer: c.data.split('\r\n')[0],
    headers_timeout_ms: CONNECTION_LIMITS.headersTimeoutMs,
    check_interval_ms: CONNECTION_LIMITS.checkIntervalMs,
  };
}

export async function limitsBench(existing?: TestDaemon): Promise<Record<string, unknown>> {
  const d = existing ?? await startDaemon();
  try {
    if (!existing) await d.ensureBusybox();
    return {
      connections: await underConnections(d),
      stalled_logs_follow: await stalledLogs(d),
      slow_loris: await slowLorisLifetime(d),
    };
  } finally {
    if (!existing) await d.stop();
  }
}

if (require.main === module) printBench(limitsBench());
