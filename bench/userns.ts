// What userns-remap costs a start: on one berthd started with `"userns-remap": "default"`,
// `docker run --rm busybox true` remapped (idmapped layers, a user namespace, on the bridge
// also the user-namespace-owned network namespace) alternately with `--userns=host` (the same
// daemon, nothing remapped), on `--network none` and on the default bridge. Medians, and the
// daemon's CPU time per run (utime+stime of berthd, /proc/PID/stat). JSON on stdout when run alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestDaemon } from '../test/helpers/daemon';
import { printBench } from './alone';

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(2));
}

const TICK_MS = 1000 / 100; // USER_HZ

function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

function timeRun(d: TestDaemon, extra: string[], network: string): { ms: number; cpu: number } {
  const pid = d.proc!.pid!;
  const c0 = cpuMs(pid);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', ['run', '--rm', '--network', network, ...extra, 'busybox', 'true'], { env: d.env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`docker run ${extra.join(' ')} exited ${r.status}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpu: cpuMs(pid) - c0 };
}

export async function usernsBench(runs = Number(process.env.BENCH_RUNS ?? 30)): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  fs.chmodSync(root, 0o711);
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({ 'cgroup-parent': `/berth-test-${path.basename(root)}`, 'userns-remap': 'default' }));
  const d = new TestDaemon(root);
  try {
    await d.start();
    await d.ensureBusybox();
    const out: Record<string, unknown> = { runs, load_average: os.loadavg().map((x) => Number(x.toFixed(2))) };
    for (const network of ['none', 'default']) {
      const on = { ms: [] as number[], cpu: [] as number[] };
      const off = { ms: [] as number[], cpu: [] as number[] };
      timeRun(d, [], network); timeRun(d, ['--userns=host'], network); // warm-up
      for (let i = 0; i < runs; i++) {
        const a = timeRun(d, [], network);
        on.ms.push(a.ms); on.cpu.push(a.cpu);
        const b = timeRun(d, ['--userns=host'], network);
        off.ms.push(b.ms); off.cpu.push(b.cpu);
      }
      out[`network_${network}`] = {
        remapped_p50_ms: p50(on.ms), userns_host_p50_ms: p50(off.ms), cost_p50_ms: Number((p50(on.ms) - p50(off.ms)).toFixed(2)),
        berthd_cpu_remapped_p50_ms: p50(on.cpu), berthd_cpu_userns_host_p50_ms: p50(off.cpu),
      };
    }
    return out;
  } finally {
    await d.stop();
  }
}

if (require.main === module) printBench(usernsBench());
