// berth's own CLI beside its floor and its peer, in one run against one berthd: `berth version`
// against `node -e 0` (the floor: Node starting and exiting), `berth run --rm busybox true` and
// `berth ps` against the docker CLI doing the same. Every round runs each command once, in turn,
// so that drift on a shared machine falls on all alike. Besides wall time it records each
// process's CPU time (user + system, from bash's `times`), which moves less when
// other work shares the machine. Prints JSON; `node dist/bench/cli.js` runs it alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, REPO, startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { printBench } from './alone';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? process.env.BENCH_RUNS ?? 30);
// a pause after each command (BENCH_CLI_PAUSE_MS): a person's cadence instead of back to back,
// which gives each spare taken the time to be replaced before the next command
const PAUSE_MS = Number(process.env.BENCH_CLI_PAUSE_MS ?? 0);
const pause = () => { if (PAUSE_MS > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE_MS); };
const BUNDLE = path.join(REPO, 'dist', 'cli', 'berth.js');
// bash times the command from inside (EPOCHREALTIME: its own start is not counted) and reports
// the child's user and system time (`times`, to the millisecond)
const TIMER = 's=$EPOCHREALTIME; "$@"; r=$?; e=$EPOCHREALTIME; { times; echo "$s $e"; } > "$BENCH_TIMES"; exit $r';

interface Candidate { name: string; cmd: string; args: string[]; env?: NodeJS.ProcessEnv }
interface Sample { wall: number; cpu: number }

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(1));
}

const seconds = (t: string) => { const m = /^(\d+)m([\d.]+)s$/.exec(t); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };

function runOnce(c: Candidate, timesFile: string): Sample {
  const r = spawnSync('bash', ['-c', TIMER, 'bash', c.cmd, ...c.args], { env: { ...c.env, BENCH_TIMES: timesFile }, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${c.cmd} ${c.args.join(' ')} exited ${r.status}`);
  const [, children, stamps] = fs.readFileSync(timesFile, 'utf8').trim().split('\n');
  const [user, sys] = children.split(' ').map(seconds);
  const [start, end] = stamps.split(' ').map(Number);
  return { wall: (end - start) * 1000, cpu: (user + sys) * 1000 };
}

/** Each candidate once per round (after one warm-up round); wall and CPU p50 per candidate. */
export function interleaved(cands: Candidate[], runs = RUNS): Record<string, { runs: number; p50_ms: number; min_ms: number; cpu_p50_ms: number }> {
  const cpuFile = path.join(os.tmpdir(), `bench-cli-${process.pid}.times`);
  const samples = new Map<string, Sample[]>(cands.map((c) => [c.name, []]));
  try {
    for (let round = 0; round <= runs; round++) {
      for (const c of cands) {
        const s = runOnce(c, cpuFile);
        pause();
        if (round > 0) samples.get(c.name)!.push(s);
      }
    }
  } finally {
    fs.rmSync(cpuFile, { force: true });
  }
  return Object.fromEntries(cands.map((c) => {
    const xs = samples.get(c.name)!;
    const walls = xs.map((s) => s.wall);
    return [c.name, { runs: xs.length, p50_ms: p50(walls), min_ms: Number(Math.min(...walls).toFixed(1)), cpu_p50_ms: p50(xs.map((s) => s.cpu)) }];
  }));
}

const ratio = (a: number, b: number) => Number((a / b).toFixed(2));

export async function cliBench(daemon?: TestDaemon): Promise<Record<string, unknown>> {
  const d = daemon ?? await startDaemon();
  const loadStart = Number(os.loadavg()[0].toFixed(1));
  try {
    await d.ensureBusybox();
    const env = d.env;
    // bin/berth uses the bundle when it is built; BERTH_CLI_BUNDLE=0 makes it run dist/ as tsc built it
    const unbundled = { ...env, BERTH_CLI_BUNDLE: '0' };
    // bin/berth takes the bundle only when it is not older than what tsc built
    const bundled = fs.existsSync(BUNDLE) && fs.statSync(BUNDLE).mtimeMs >= fs.statSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js')).mtimeMs - 1000;
    // the warm path (bin/berth hands the call to a spare, native/launcher.c) is the default; cold
    // is Node starting for the command, as before there were spares
    const cold = { ...env, BERTH_CLI_SPARE: '0' };
    const withoutExtraCa = { ...env };
    delete withoutExtraCa.NODE_EXTRA_CA_CERTS;
    const startup = interleaved([
      { name: 'node_e_0', cmd: process.execPath, args: ['-e', '0'], env },
      // bin/berth starts Node without NODE_EXTRA_CA_CERTS (its certificates are parsed at start):
      // the floor without them too, so that berth is not measured against a slower Node only
      ...(env.NODE_EXTRA_CA_CERTS ? [{ name: 'node_e_0_without_extra_ca', cmd: process.execPath, args: ['-e', '0'], env: withoutExtraCa }] : []),
      { name: 'berth_version', cmd: BERTH, args: ['version'], env },
      { name: 'berth_version_cold', cmd: BERTH, args: ['version'], env: cold },
      ...(bundled ? [{ name: 'berth_version_unbundled', cmd: BERTH, args: ['version'], env: unbundled }] : []),
      { name: 'docker_version', cmd: 'docker', args: ['version'], env },
    ]);
    const ps = interleaved([
      { name: 'berth_ps', cmd: BERTH, args: ['ps'], env },
      { name: 'berth_ps_cold', cmd: BERTH, args: ['ps'], env: cold },
      { name: 'docker_ps', cmd: 'docker', args: ['ps'], env },
    ]);
    const runArgs = ['run', '--rm', 'busybox', 'true'];
    const run = interleaved([
      { name: 'berth_run_rm', cmd: BERTH, args: runArgs, env },
      { name: 'berth_run_rm_cold', cmd: BERTH, args: runArgs, env: cold },
      ...(bundled ? [{ name: 'berth_run_rm_unbundled', cmd: BERTH, args: runArgs, env: unbundled }] : []),
      { name: 'docker_run_rm', cmd: 'docker', args: runArgs, env },
    ]);
    const over = (a: number, b: number) => Number((a - b).toFixed(1));
    const floor = startup.node_e_0_without_extra_ca ?? startup.node_e_0;
    const goalVersion = over(startup.berth_version.p50_ms, floor.p50_ms);
    const goalPs = ratio(ps.berth_ps.p50_ms, ps.docker_ps.p50_ms);
    const goalRun = ratio(run.berth_run_rm.p50_ms, run.docker_run_rm.p50_ms);
    return {
      bundle: bundled ? path.relative(REPO, BUNDLE) : 'none or older than dist/ (npm run build:cli makes it)',
      pause_after_each_command_ms: PAUSE_MS,
      // bash's `times` counts children only: a warm row's CPU is the launcher's, not the spare's
      // that ran the command (nor the boot of the spare that replaces it, ~60 ms)
      cpu_note: 'warm rows (berth_* without _cold): the launcher only',
      load_average_1m: { start: loadStart, end: Number(os.loadavg()[0].toFixed(1)) },
      // the figures the goals are judged on. The floor is Node as bin/berth starts it: without
      // NODE_EXTRA_CA_CERTS (parsing a system bundle of CAs costs ~50 ms at Node's start, which
      // bin/berth avoids for a unix socket); against node_e_0 with them berth would look ~50 ms better.
      goals: {
        version_over_node_floor_ms: { value: goalVersion, at_most: 25, met: goalVersion <= 25 },
        ps_over_docker_ps: { value: goalPs, at_most: 1.3, met: goalPs <= 1.3 },
        run_rm_over_docker_run_rm: { value: goalRun, at_most: 1.3, met: goalRun <= 1.3 },
      },
      // the same goals on the cold path (BERTH_CLI_SPARE=0: Node starts for every command)
      goals_cold: {
        version_over_node_floor_ms: over(startup.berth_version_cold.p50_ms, floor.p50_ms),
        ps_over_docker_ps: ratio(ps.berth_ps_cold.p50_ms, ps.docker_ps.p50_ms),
        run_rm_over_docker_run_rm: ratio(run.berth_run_rm_cold.p50_ms, run.docker_run_rm.p50_ms),
      },
      startup,
      ps,
      run_rm_busybox_true: run,
      node_extra_ca_certs: env.NODE_EXTRA_CA_CERTS ?? null,
      berth_version_over_node_ms: over(startup.berth_version.p50_ms, startup.node_e_0.p50_ms),
      berth_version_over_node_cpu_ms: over(startup.berth_version.cpu_p50_ms, startup.node_e_0.cpu_p50_ms),
      berth_version_over_node_without_extra_ca_ms: over(startup.berth_version.p50_ms, floor.p50_ms),
      berth_version_over_node_without_extra_ca_cpu_ms: over(startup.berth_version.cpu_p50_ms, floor.cpu_p50_ms),
      ratio_berth_over_docker_ps: ratio(ps.berth_ps.p50_ms, ps.docker_ps.p50_ms),
      // the floor of any Node CLI: Node starting and exiting, against docker's whole `ps`
      ratio_node_floor_over_docker_ps: ratio(floor.p50_ms, ps.docker_ps.p50_ms),
      berth_ps_over_node_floor_ms: over(ps.berth_ps.p50_ms, floor.p50_ms),
      ratio_berth_over_docker_run_rm: ratio(run.berth_run_rm.p50_ms, run.docker_run_rm.p50_ms),
      goal: { version_over_node_ms_at_most: 25, ps_ratio_at_most: 1.3, run_ratio_at_most: 1.3 },
    };
  } finally {
    if (!daemon) await d.stop();
  }
}

if (require.main === module) printBench(cliBench());
