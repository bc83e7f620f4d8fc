// runc against crun through one berthd, taking turns: `docker run --rm --runtime R --network
// none busybox true` (wall), berthd's spans of each run (its --log-level debug lines), and bare
// `R run` of the same busybox bundle (wall, and the CPU of the runtime's processes). p50s;
// nothing asserted. Skipped without crun. `node dist/bench/runtimes.js` alone.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon } from '../test/helpers/daemon';
import { printBench } from './alone';
import { bareBundle, median } from './lifecycle';

const RUNS = Number(process.env.BENCH_RUNTIMES_RUNS ?? process.env.BENCH_RUNS ?? 21);
const RUNTIMES = ['runc', 'crun'] as const;
type Rt = (typeof RUNTIMES)[number];

const loadAverage = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Wall ms of one command, run asynchronously: berthd's stderr (the spans) keeps flowing meanwhile. */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => execFile(cmd, args, { env }, (e, _o, err) => (e ? reject(new Error(`${cmd} ${args.join(' ')}: ${err}`)) : resolve(Number(process.hrtime.bigint() - t0) / 1e6))));
}

/** CPU ms (user + sys) of a command and its children, from this process's cutime + cstime. */
function cpuOf(cmd: string, args: string[]): number {
  const ticks = () => {
    const s = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[13]) + Number(f[14]);
  };
  const t = ticks();
  if (spawnSync(cmd, args, { stdio: 'ignore' }).status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  return (ticks() - t) * 10; // USER_HZ 100
}

export async function runtimesBench(): Promise<Record<string, unknown>> {
  if (spawnSync('crun', ['--version'], { stdio: 'ignore' }).status !== 0) return { skipped: 'crun is not installed' };
  const d = await startDaemon(['--log-level', 'debug']);
  try {
    await d.ensureBusybox();
    const { dir } = bareBundle(d.root, path.join(d.root, 'busybox.tar'));
    const wall: Record<Rt, number[]> = { runc: [], crun: [] };
    const bare: Record<Rt, number[]> = { runc: [], crun: [] };
    const bareCpu: Record<Rt, number[]> = { runc: [], crun: [] };
    const loadBefore = loadAverage();
    for (let i = 0; i <= RUNS; i++) {
      const keep = i > 0; // round 0 warms every path up (and probes the versions)
      for (const rt of RUNTIMES) {
        const name = `rt-${rt}-${i}`;
        const w = await timed('docker', ['run', '--rm', '--name', name, '--runtime', rt, '--network', 'none', 'busybox', 'true'], d.env);
        const root = path.join(d.root, `runtimes-${rt}`);
        const b = await timed(rt, ['--root', root, 'run', '-b', dir, `w-${i}`]);
        const c = cpuOf(rt, ['--root', root, 'run', '-b', dir, `c-${i}`]);
        if (keep) { wall[rt].push(w); bare[rt].push(b); bareCpu[rt].push(c); }
      }
    }
    await new Promise((r) => setTimeout(r, 500)); // the last lines of berthd's log
    // Each run's spans, by the container's short ID, in the order the containers were made
    const spans = new Map<string, Record<string, number>>();
    for (const m of d.stderr.matchAll(/msg="span" name="([^"]+)" id="([0-9a-f]{12})" ms=([\d.]+)/g)) {
      const s = spans.get(m[2]) ?? {};
      s[m[1]] = (s[m[1]] ?? 0) + Number(m[3]);
      spans.set(m[2], s);
    }
    const order = [...spans.keys()];
    const by: Record<Rt, Record<string, number[]>> = { runc: {}, crun: {} };
    // the runs alternate runc, crun from round 0: the n-th container seen is RUNTIMES[n % 2]
    order.forEach((id, n) => {
      if (n < RUNTIMES.length) return;
      const rt = RUNTIMES[n % RUNTIMES.length];
      for (const [k, ms] of Object.entries(spans.get(id)!)) (by[rt][k] ??= []).push(ms);
    });
    const pair = (f: (rt: Rt) => number) => Object.fromEntries(RUNTIMES.map((rt) => [rt, f(rt)]));
    return {
      runs: RUNS, load_average: { before: loadBefore, after: loadAverage() },
      run_rm_none_p50_ms: pair((rt) => median(wall[rt])),
      bare_run_p50_ms: pair((rt) => median(bare[rt])),
      bare_run_cpu_mean_ms: pair((rt) => Number((bareCpu[rt].reduce((a, b) => a + b, 0) / RUNS).toFixed(1))),
      berthd_spans_p50_ms: Object.fromEntries(Object.keys(by.runc).sort().map((k) => [k, pair((rt) => (by[rt][k] ? median(by[rt][k]) : NaN))])),
    };
  } finally {
    await d.stop();
  }
}

if (require.main === module) printBench(runtimesBench());
