// berthd's start after kill -9 with running containers to re-adopt (issue 20: at most 300 ms to
// /_ping with 100 running). Two daemons side by side, restarted in turn each round so that the
// machine's drift falls on both: one with N running busybox `sleep` containers
// (BENCH_READOPT_RUNNING, default 100), one with the same plus M created records
// (BENCH_READOPT_CREATED, default 900). Each round: kill -9, start, time to the first 200 on
// /_ping, time until start() returns (it lists a container after the ping, which waits for the
// engine: every record loaded and every container re-adopted), berthd's CPU time then, the
// running containers listed, and `node -e 0` beside it as the floor. Medians of BENCH_READOPT_RUNS (default 7); nothing asserted.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { promisify } from 'node:util';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { printBench } from './alone';

const run = promisify(execFile);
const median = (xs: number[]) => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** CPU time of every thread of `pid` so far, in ms (/proc/PID/task/TID/schedstat: ns on the CPU). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
  }
  return ns / 1e6;
}

async function inParallel<T>(items: T[], clients: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function populate(d: TestDaemon, running: number, created: number): Promise<void> {
  await d.ensureBusybox();
  await inParallel(Array.from({ length: running }, (_, i) => i), 8, async (i) => {
    await run('docker', ['run', '-d', '--network', 'none', '--name', `r${i}`, 'busybox', 'sleep', '3600'], { env: d.env });
  });
  await inParallel(Array.from({ length: created }, (_, i) => i), 16, async (i) => {
    const r = await d.request('POST', `/v1.44/containers/create?name=c${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.body}`);
  });
}

interface Round { ping_ms: number; ready_ms: number; cpu_ms: number; running: number }

async function restartOnce(d: TestDaemon, env: Record<string, string> = {}): Promise<Round> {
  await d.kill9();
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const t0 = process.hrtime.bigint();
  // returns once the engine is ready (it lists a container after the first /_ping)
  await d.start().finally(() => { for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v; });
  const ready = ms(t0);
  const ping = Number(d.pingAt! - t0) / 1e6;
  const cpu = cpuMs(d.proc!.pid!);
  const r = await d.request('GET', '/v1.44/containers/json');
  return { ping_ms: ping, ready_ms: ready, cpu_ms: cpu, running: (r.json() as unknown[]).length };
}

function nodeFloor(): number {
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  return ms(t0);
}

function summarise(rounds: Round[]): Record<string, number> {
  return {
    to_ping_ms: median(rounds.map((r) => r.ping_ms)),
    to_engine_ready_ms: median(rounds.map((r) => r.ready_ms)),
    berthd_cpu_ms_at_ready: median(rounds.map((r) => r.cpu_ms)),
    min_to_ping_ms: Number(Math.min(...rounds.map((r) => r.ping_ms)).toFixed(1)),
    running_listed_min: Math.min(...rounds.map((r) => r.running)),
  };
}

export async function readoptBench(): Promise<Record<string, unknown>> {
  const running = Number(process.env.BENCH_READOPT_RUNNING ?? 100);
  const created = Number(process.env.BENCH_READOPT_CREATED ?? 900);
  const runs = Number(process.env.BENCH_READOPT_RUNS ?? 7);
  const small = await startDaemon();
  const large = created > 0 ? await startDaemon() : undefined;
  try {
    for (const d of [small, large]) if (d) d.pingPollMs = 2;
    await populate(small, running, 0);
    if (large) await populate(large, running, created);
    const a: Round[] = [];
    const unbundled: Round[] = [];
    const b: Round[] = [];
    const floor: number[] = [];
    await restartOnce(small); // warm-up: page cache, the code cache if any
    if (large) await restartOnce(large);
    for (let i = 0; i < runs; i++) {
      floor.push(nodeFloor());
      a.push(await restartOnce(small));
      unbundled.push(await restartOnce(small, { BERTHD_BUNDLE: '0' }));
      if (large) b.push(await restartOnce(large));
    }
    return {
      runs,
      load_average: os.loadavg().map((x) => Number(x.toFixed(2))),
      node_e_0_ms: median(floor),
      [`running_${running}`]: summarise(a),
      // the same through dist/ as tsc built it (no bundle, no code cache)
      [`running_${running}_unbundled`]: summarise(unbundled),
      ...(large ? { [`running_${running}_created_${created}`]: summarise(b) } : {}),
      goal_to_ping_ms_with_100_running: 300,
    };
  } finally {
    await Promise.all([small.stop(), large?.stop()]);
  }
}

if (require.main === module) printBench(readoptBench());
