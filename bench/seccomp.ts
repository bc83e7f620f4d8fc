// What the default seccomp profile costs a start: `docker run --rm busybox true` alternately
// with the default profile and with seccomp=unconfined (alternating, so that drift on a shared
// machine falls on both alike), and the in-process cost of resolving the profile for one start.
import { spawnSync } from 'node:child_process';
import { toOciSeccomp } from '../src/runtime/seccomp';
import { DEFAULT_SECCOMP_PROFILE } from '../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../src/runtime/defaults';
import type { TestDaemon } from '../test/helpers/daemon';

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(2));
}

function timeRun(d: TestDaemon, extra: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', ['run', '--rm', '--network', 'none', ...extra, 'busybox', 'true'], { env: d.env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`docker run ${extra.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function seccompStartCost(d: TestDaemon, runs = Number(process.env.BENCH_RUNS ?? 30)): Record<string, unknown> {
  const unconfined = ['--security-opt', 'seccomp=unconfined'];
  timeRun(d, []); timeRun(d, unconfined); // warm-up
  const withProfile: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < runs; i++) {
    withProfile.push(timeRun(d, []));
    without.push(timeRun(d, unconfined));
  }
  const resolve: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    JSON.stringify(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES }));
    resolve.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return {
    runs,
    default_profile_p50_ms: p50(withProfile),
    unconfined_p50_ms: p50(without),
    cost_p50_ms: Number((p50(withProfile) - p50(without)).toFixed(2)),
    resolve_profile_p50_ms: p50(resolve),
    budget_ms: 5,
  };
}
