// berth's benchmark: prints JSON figures, never asserts. Compares `docker run` through
// berthd with a bare `runc run` of the same rootfs (the floor), and measures memory.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type Durability, writeJsonAtomic } from '../src/lib/atomic';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { benchPull } from './pull';
import { cliBench } from './cli';
import { pushBench } from './push';
import { loadBench } from './load';
import { benchBuild } from './build';
import { networkBench, networkBesideDockerd } from './network';
import { seccompStartCost } from './seccomp';
import { busyboxBundle } from './bundle';
import { registryBench } from './registry';
import { scaleBench } from './scale';
import { readoptBench } from './readopt';
import { composeBench } from './compose';
import { limitsBench } from './limits';
import { fuzzBench } from './fuzz';
import { usernsBench } from './userns';
import { lifecycleBench } from './lifecycle';
import { runtimesBench } from './runtimes';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const IDLE_CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 50);
// e.g. BENCH_LOG_OPTS=max-size=10m,max-file=3: the idle containers' logs rotate (berth-logwriter).
const LOG_OPTS = (process.env.BENCH_LOG_OPTS ?? '').split(',').filter(Boolean).flatMap((o) => ['--log-opt', o]);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1));
}

function summary(xs: number[]) {
  return { runs: xs.length, p50_ms: percentile(xs, 50), p95_ms: percentile(xs, 95), min_ms: Number(Math.min(...xs).toFixed(1)) };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function timeCmd(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function dockerRun(d: TestDaemon, network: string): Promise<number[]> {
  const args = ['run', '--rm', '--network', network, 'busybox', 'true'];
  timeCmd('docker', args, d.env); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(timeCmd('docker', args, d.env));
  return xs;
}

/**
 * What durable state writes cost a `run --rm`: the same command alternately against this
 * daemon and one started with BERTH_STATE_FSYNC=0 (state changes renamed without fsync), so
 * that drift on a shared machine falls on both alike.
 */
async function stateFsyncCost(d: TestDaemon): Promise<Record<string, unknown>> {
  process.env.BERTH_STATE_FSYNC = '0';
  let fast: TestDaemon;
  try {
    fast = await startDaemon();
  } finally {
    delete process.env.BERTH_STATE_FSYNC;
  }
  try {
    await fast.ensureBusybox();
    const args = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
    timeCmd('docker', args, d.env);
    timeCmd('docker', args, fast.env);
    const durable: number[] = [];
    const noFsync: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      durable.push(timeCmd('docker', args, d.env));
      noFsync.push(timeCmd('docker', args, fast.env));
    }
    return {
      run_rm_network_none_durable_state: summary(durable),
      run_rm_network_none_state_fsync_off: summary(noFsync),
      p50_cost_ms: Number((percentile(durable, 50) - percentile(noFsync, 50)).toFixed(1)),
      // One record write of a container's size, on the data root's filesystem.
      record_write_p50_ms: await recordWrites(d),
    };
  } finally {
    await fast.stop();
  }
}

async function recordWrites(d: TestDaemon): Promise<Record<Durability, number>> {
  const dir = path.join(d.root, 'bench-writes');
  fs.mkdirSync(dir, { recursive: true });
  const id = (await d.docker(['create', '--network', 'none', 'busybox', 'true'])).stdout.trim();
  const record = JSON.parse(fs.readFileSync(path.join(d.dataRoot, 'containers', id, 'config.v2.json'), 'utf8'));
  await d.docker(['rm', id]);
  const out = {} as Record<Durability, number>;
  for (const level of ['full', 'record', 'none'] as Durability[]) {
    const xs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = process.hrtime.bigint();
      await writeJsonAtomic(path.join(dir, 'config.v2.json'), { ...record, RestartCount: i }, 0o600, level);
      xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    out[level] = percentile(xs, 50);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

async function bareRunc(d: TestDaemon): Promise<number[]> {
  const dir = path.join(d.root, 'bare');
  const spec = busyboxBundle(d, dir, ['true']);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  const root = path.join(d.root, 'bare-runc');
  const xs: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t = timeCmd('runc', ['--root', root, 'run', '-b', dir, `bench-${process.pid}-${i}`]);
    if (i > 0) xs.push(t);
  }
  return xs;
}

async function memoryAndRestart(d: TestDaemon): Promise<Record<string, unknown>> {
  const pid = d.proc!.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = rssKb(pid);
  const ids: string[] = [];
  for (let i = 0; i < IDLE_CONTAINERS; i++) {
    const r = await d.docker(['run', '-d', '--network', 'none', ...LOG_OPTS, 'busybox', 'sleep', '3600']);
    ids.push(r.stdout.trim());
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssKb(pid);
  const ours = async (name: string) => (await run('pgrep', ['-x', name]).catch(() => ({ stdout: '' }))).stdout.trim().split('\n').filter(Boolean)
    .map(Number).filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(d.root));
  const conmons = await ours('conmon');
  const writers = await ours('berth-logwriter');
  const writerKb = writers.reduce((s, p) => s + rssKb(p), 0);
  // A container's shim is its conmon and, when its log rotates, its log writer.
  const conmonKb = conmons.reduce((s, p) => s + rssKb(p), 0) + writerKb;
  // Restart with the containers running: how long until the API answers again.
  await d.kill9();
  const t0 = process.hrtime.bigint();
  await d.start();
  const readoptMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const exec: number[] = [];
  timeCmd('docker', ['exec', ids[0], 'true'], d.env);
  for (let i = 0; i < RUNS; i++) exec.push(timeCmd('docker', ['exec', ids[0], 'true'], d.env));
  await d.docker(['rm', '-f', ...ids], { timeout: 120_000 });
  return {
    restart_to_ping_ms_with_running_containers: Number(readoptMs.toFixed(1)),
    docker_exec_true: summary(exec),
    idle_berthd_rss_mb: Number((idle / 1024).toFixed(1)),
    berthd_rss_with_containers_mb: Number((after / 1024).toFixed(1)),
    containers: IDLE_CONTAINERS,
    shims_counted: conmons.length,
    per_container_overhead_mb: Number((((after - idle) + conmonKb) / 1024 / IDLE_CONTAINERS).toFixed(2)),
    per_container_shim_rss_mb: Number((conmonKb / 1024 / Math.max(1, conmons.length)).toFixed(2)),
    log_opts: LOG_OPTS.filter((o) => o !== '--log-opt'),
    log_writers_counted: writers.length,
    per_log_writer_rss_mb: Number((writerKb / 1024 / Math.max(1, writers.length)).toFixed(2)),
  };
}

/** `run --rm` with a named volume (made once), and with an anonymous one (made and removed each run). */
async function volumeRuns(d: TestDaemon): Promise<Record<string, unknown>> {
  const time = (args: string[]) => {
    timeCmd('docker', args, d.env); // warm-up (and, for the named one, its creation)
    return summary(Array.from({ length: RUNS }, () => timeCmd('docker', args, d.env)));
  };
  const out = {
    named_volume: time(['run', '--rm', '--network', 'none', '-v', 'benchvol:/data', 'busybox', 'true']),
    anonymous_volume: time(['run', '--rm', '--network', 'none', '-v', '/data', 'busybox', 'true']),
  };
  await d.docker(['volume', 'rm', 'benchvol']);
  return out;
}

async function main(): Promise<void> {
  const d = await startDaemon();
  try {
    await d.ensureBusybox();
    const none = await dockerRun(d, 'none');
    const bridge = await dockerRun(d, 'default');
    const bare = await bareRunc(d);
    const volumes = await volumeRuns(d);
    const stateWrites = await stateFsyncCost(d);
    const net = { ...(await networkBench(d, RUNS)), beside_dockerd: await networkBesideDockerd(d, RUNS) };
    const mem = await memoryAndRestart(d);
    // BENCH_PULL=0 skips the registry pulls (they need ~1 minute and the debian test images)
    const pull = process.env.BENCH_PULL === '0' ? 'skipped (BENCH_PULL=0)' : await benchPull();
    const push = await pushBench(d);
    // docker load and layer import (bench/load.ts), against dockerd when installed
    const load = process.env.BENCH_LOAD === '0' ? 'skipped (BENCH_LOAD=0)' : await loadBench();
    const build = process.env.BENCH_NO_BUILD === '1' ? 'skipped (BENCH_NO_BUILD=1)' : await benchBuild(d);
    const seccomp = await seccompStartCost(d);
    // BENCH_SCALE=0 skips the scale runs (minutes: 500 running containers, 200-run bursts)
    const scale = process.env.BENCH_SCALE === '0' ? 'skipped (BENCH_SCALE=0)' : await scaleBench();
    // BENCH_READOPT=0 skips berthd's kill -9 restarts with 100 running (+ 900 created) to re-adopt
    const readopt = process.env.BENCH_READOPT === '0' ? 'skipped (BENCH_READOPT=0)' : await readoptBench();
    const result = {
      machine: { cpus: (await import('node:os')).cpus().length, kernel: (await import('node:os')).release() },
      docker_run_rm_network_none_true: summary(none),
      docker_run_rm_default_network_true: summary(bridge),
      bare_runc_run_true: summary(bare),
      docker_run_rm_network_none_with_volume_true: volumes,
      ratio_p50_berth_over_runc: Number((percentile(none, 50) / percentile(bare, 50)).toFixed(2)),
      // run --rm, create + start -a + rm, exec: berthd, a private dockerd and bare runc taking
      // turns (bench/lifecycle.ts); BENCH_LIFECYCLE=0 skips it
      lifecycle_beside_dockerd: process.env.BENCH_LIFECYCLE === '0' ? 'skipped (BENCH_LIFECYCLE=0)' : await lifecycleBench(d),
      // runc against crun through one berthd, spans and bare runs taking turns (bench/runtimes.ts)
      runtimes_runc_vs_crun: process.env.BENCH_RUNTIMES === '0' ? 'skipped (BENCH_RUNTIMES=0)' : await runtimesBench(),
      durable_state_writes: stateWrites,
      with_idle_containers: mem,
      pull_from_loopback_registry: pull,
      push,
      // berth's own CLI against node -e 0 and the docker CLI on the same berthd (bench/cli.ts)
      cli: process.env.BENCH_CLI === '0' ? 'skipped (BENCH_CLI=0)' : await cliBench(d),
      load_and_extract: load,
      build,
      network: net,
      seccomp_start_cost: seccomp,
      // userns-remap on against --userns=host on one remapped daemon (bench/userns.ts)
      userns_remap_start_cost: process.env.BENCH_USERNS === '0' ? 'skipped (BENCH_USERNS=0)' : await usernsBench(),
      registry: await registryBench(),
      scale,
      readopt,
      // BENCH_COMPOSE=0 skips it (it loads the debian test images and starts a dockerd)
      compose: process.env.BENCH_COMPOSE === '0' ? 'skipped (BENCH_COMPOSE=0)' : await composeBench(d),
      limits: await limitsBench(d),
      // BENCH_FUZZ=0 skips the long fuzzing run (a few minutes at the default BENCH_FUZZ_RUNS)
      fuzz: process.env.BENCH_FUZZ === '0' ? 'skipped (BENCH_FUZZ=0)' : await fuzzBench(),
      budgets: { run_p50_ms: 120, bridge_p50_ms: 150, idle_rss_mb: 80, per_container_mb: 3 },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await d.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
