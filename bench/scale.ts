// How cost grows with the work (issue 20's scale figures), on a daemon of its own:
// - throughput: 200 `docker run -d` from 10 parallel clients, then 200 parallel `rm -f`, as
//   containers per second, beside a private dockerd 20.10 where docker.io is installed (both
//   with --network none: the private dockerd has no bridge), the two taking turns for
//   BENCH_SCALE_ROUNDS rounds (default 2), medians;
// - with N running busybox `sleep` (BENCH_SCALE_CONTAINERS, default 500): berthd's RSS, what
//   each container adds outside its own processes (berthd's growth plus its conmon), `docker ps`
//   against its time with 5, `GET /containers/json?all=1` with 1,000 records (N running plus
//   created ones) as seen by a client on the socket, `docker stats --no-stream` and
//   `docker events --since/--until` over all of them, and berthd's kill -9 to `/_ping`.
// Medians; nothing asserted.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { promisify } from 'node:util';
import { REPO, startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { dockerdInstalled, startDockerd } from './dockerd';
import { printBench } from './alone';
import { captureAnswer, cliAlone, cliAloneMs, machineBusyMs, minimalListAnswer } from './replay';

const run = promisify(execFile);

const median = (xs: number[]) => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

function timeCmd(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status}`);
  return ms(t0);
}

async function inParallel<T>(items: T[], clients: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * 200 runs from 10 clients, then 200 parallel rm -f: per second each, the errors seen, and the
 * CPU the whole machine spent per container in each burst (the CLI's share included).
 */
async function throughput(env: NodeJS.ProcessEnv, count = 200, clients = 10): Promise<Record<string, number>> {
  const ids: string[] = [];
  let errors = 0;
  const docker = async (args: string[]) => (await run('docker', args, { env }).catch(() => { errors++; return { stdout: '' }; })).stdout.trim();
  let t0 = process.hrtime.bigint();
  let busy0 = machineBusyMs();
  await inParallel(Array.from({ length: count }, (_, i) => i), clients, async () => {
    const id = await docker(['run', '-d', '--network', 'none', 'busybox', 'sleep', '600']);
    if (id) ids.push(id);
  });
  const runS = ms(t0) / 1000;
  const runCpu = (machineBusyMs() - busy0) / count;
  t0 = process.hrtime.bigint();
  busy0 = machineBusyMs();
  await inParallel(ids, clients, async (id) => { await docker(['rm', '-f', id]); });
  const rmS = ms(t0) / 1000;
  const rmCpu = (machineBusyMs() - busy0) / Math.max(1, ids.length);
  const left = (await docker(['ps', '-aq'])).split('\n').filter(Boolean).length;
  return {
    runs_per_s: Number((ids.length / runS).toFixed(1)), rm_per_s: Number((ids.length / rmS).toFixed(1)), errors, containers_left: left,
    run_cpu_ms: Number(runCpu.toFixed(1)), rm_cpu_ms: Number(rmCpu.toFixed(1)),
  };
}

/**
 * The docker CLI's own CPU per `run -d` and per `rm -f`, against answers replayed from memory:
 * the share of each burst's cost that is the same whatever the daemon.
 */
async function cliCpu(): Promise<{ run_cpu_ms: number; rm_cpu_ms: number }> {
  const created = Buffer.from(JSON.stringify({ Id: 'f'.repeat(64), Warnings: [] }));
  const runs = await cliAlone(['run', '-d', '--network', 'none', 'busybox', 'sleep', '600'], created, 21);
  const rms = await cliAlone(['rm', '-f', 'f'.repeat(64)], Buffer.alloc(0), 21);
  return { run_cpu_ms: runs.cpuMs, rm_cpu_ms: rms.cpuMs };
}

function socketGet(socket: string, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http.get({ socketPath: socket, path: p }, (res) => {
      res.resume();
      res.on('end', () => resolve(ms(t0)));
    }).on('error', reject);
  });
}

async function conmonKb(root: string): Promise<number> {
  const pids = (await run('pgrep', ['-f', `conmon.*${root}`]).catch(() => ({ stdout: '' }))).stdout.trim().split('\n').filter(Boolean);
  return pids.reduce((s, p) => s + rssKb(Number(p)), 0);
}

async function withManyRunning(d: TestDaemon, n: number): Promise<Record<string, unknown>> {
  const pid = d.proc!.pid!;
  const idleKb = rssKb(pid);
  const start = (count: number, from: number) => inParallel(Array.from({ length: count }, (_, i) => from + i), 10, async (i) => {
    await run('docker', ['run', '-d', '--network', 'none', '--name', `s${i}`, 'busybox', 'sleep', '3600'], { env: d.env });
  });
  await start(5, 0);
  const ps5 = median(Array.from({ length: 11 }, () => timeCmd(['ps'], d.env)));
  const cli5 = await cliAloneMs(['ps'], await captureAnswer(d.socket, '/v1.44/containers/json'));
  const floor5 = await cliAloneMs(['ps'], minimalListAnswer(5));
  const floorN = await cliAloneMs(['ps'], minimalListAnswer(n));
  await start(n - 5, 5);
  await new Promise((r) => setTimeout(r, 2000)); // let the starts' garbage go
  const atN = rssKb(pid);
  const shims = await conmonKb(d.root);
  const psN = median(Array.from({ length: 11 }, () => timeCmd(['ps'], d.env)));
  const cliN = await cliAloneMs(['ps'], await captureAnswer(d.socket, '/v1.44/containers/json'));
  // created (not started) records up to 1,000 in all, for the list
  await inParallel(Array.from({ length: Math.max(0, 1000 - n) }, (_, i) => i), 16, async (i) => {
    await d.request('POST', `/v1.44/containers/create?name=c${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
  });
  await socketGet(d.socket, '/v1.44/containers/json?all=1');
  const listTimes: number[] = [];
  for (let i = 0; i < 21; i++) listTimes.push(await socketGet(d.socket, '/v1.44/containers/json?all=1'));
  const list = median(listTimes);
  const stats = median(Array.from({ length: 3 }, () => timeCmd(['stats', '--no-stream'], d.env)));
  const now = Math.floor(Date.now() / 1000) + 1;
  const events = median(Array.from({ length: 3 }, () => timeCmd(['events', '--since', '0', '--until', String(now)], d.env)));
  // kill -9 with N running: to /_ping, and to the first ps that lists them all
  await d.kill9();
  const t0 = process.hrtime.bigint();
  await d.start();
  const ready = ms(t0);
  const readopt = Number(d.pingAt! - t0) / 1e6;
  const listedAfter = (await run('docker', ['ps', '-q'], { env: d.env })).stdout.trim().split('\n').filter(Boolean).length;
  return {
    running: n,
    berthd_rss_idle_mb: Number((idleKb / 1024).toFixed(1)),
    berthd_rss_mb: Number((atN / 1024).toFixed(1)),
    per_container_overhead_mb: Number((((atN - idleKb) + shims) / 1024 / n).toFixed(2)),
    docker_ps_ms: {
      with_5: ps5, [`with_${n}`]: psN, ratio: Number((psN / ps5).toFixed(2)),
      // the same `docker ps` against berthd's answer replayed from memory: the CLI's own cost,
      // which grows with the rows whatever the daemon (its table, not the decoding)
      cli_alone_with_5: cli5, [`cli_alone_with_${n}`]: cliN, cli_alone_ratio: Number((cliN / cli5).toFixed(2)),
      berthd_part_with_5: Number((ps5 - cli5).toFixed(1)), [`berthd_part_with_${n}`]: Number((psN - cliN).toFixed(1)),
      // and against the least any daemon could answer (the table's fields alone): the ratio no
      // daemon can get under with this CLI on this machine
      cli_floor_with_5: floor5, [`cli_floor_with_${n}`]: floorN, cli_floor_ratio: Number((floorN / floor5).toFixed(2)),
    },
    containers_json_all_1000_records_ms: list,
    docker_stats_no_stream_ms: stats,
    docker_events_since_until_ms: events,
    restart_to_ping_ms: Number(readopt.toFixed(1)),
    restart_to_ready_ms: Number(ready.toFixed(1)),
    running_after_restart: listedAfter,
    goals: { rss_mb: 150, per_container_mb: 3, ps_ratio: 1.5, list_ms: 30, restart_to_ping_ms_with_100: 300 },
  };
}

/** Bursts taking turns between berthd and the private dockerd (drift falls on both), medians. */
async function throughputSideBySide(berth: NodeJS.ProcessEnv, peer: NodeJS.ProcessEnv | undefined): Promise<Record<string, unknown>> {
  const rounds = Number(process.env.BENCH_SCALE_ROUNDS ?? 2);
  const seen: Record<string, Record<string, number>[]> = { berth: [], dockerd: [] };
  for (let i = 0; i < rounds; i++) {
    seen.berth.push(await throughput(berth));
    if (peer) seen.dockerd.push(await throughput(peer));
  }
  const mid = (xs: Record<string, number>[]) => ({
    runs_per_s: median(xs.map((x) => x.runs_per_s)), rm_per_s: median(xs.map((x) => x.rm_per_s)),
    run_cpu_ms: median(xs.map((x) => x.run_cpu_ms)), rm_cpu_ms: median(xs.map((x) => x.rm_cpu_ms)),
    errors: xs.reduce((a, x) => a + x.errors, 0), containers_left: xs.reduce((a, x) => a + x.containers_left, 0), rounds: xs.length,
  });
  const out: Record<string, unknown> = { throughput_berth: mid(seen.berth) };
  if (peer) {
    const b = mid(seen.berth);
    const k = mid(seen.dockerd);
    out.throughput_dockerd = k;
    out.throughput_ratio_berth_over_dockerd = { runs: Number((b.runs_per_s / k.runs_per_s).toFixed(2)), rm: Number((b.rm_per_s / k.rm_per_s).toFixed(2)), goal: 3 };
    // Each burst is CPU-bound: the machine's CPU per container, less the CLI's own, is each
    // engine's cost; the CLI's share caps how far apart the two rates can be.
    const cli = await cliCpu();
    const engine = (x: { run_cpu_ms: number; rm_cpu_ms: number }) => ({ run_cpu_ms: Number((x.run_cpu_ms - cli.run_cpu_ms).toFixed(1)), rm_cpu_ms: Number((x.rm_cpu_ms - cli.rm_cpu_ms).toFixed(1)) });
    const eb = engine(b);
    const ek = engine(k);
    out.cpu_per_container_ms = {
      docker_cli_alone: cli, berth_less_cli: eb, dockerd_less_cli: ek,
      ratio_dockerd_over_berth: { run: Number((ek.run_cpu_ms / eb.run_cpu_ms).toFixed(2)), rm: Number((ek.rm_cpu_ms / eb.rm_cpu_ms).toFixed(2)) },
    };
  }
  return out;
}

export async function scaleBench(): Promise<Record<string, unknown>> {
  const n = Number(process.env.BENCH_SCALE_CONTAINERS ?? 500);
  const d = await startDaemon();
  let out: Record<string, unknown> = {};
  try {
    await d.ensureBusybox();
    const peer = dockerdInstalled() ? await startDockerd() : undefined;
    try {
      if (peer) {
        await run('sh', [`${REPO}/scripts/busybox-rootfs.sh`, `${peer.root}/busybox.tar`]);
        await run('docker', ['import', '-c', 'CMD ["sh"]', `${peer.root}/busybox.tar`, 'busybox'], { env: peer.env });
      }
      out = await throughputSideBySide(d.env, peer?.env);
    } finally {
      await peer?.stop();
    }
    out.with_many_running = await withManyRunning(d, n);
  } finally {
    await d.stop();
  }
  return out;
}

if (require.main === module) printBench(scaleBench());
