// What the default seccomp profile costs a start: `docker run --rm busybox true` alternately
// with the default profile and with seccomp=unconfined (alternating, so that drift on a shared
// machine falls on both alike); bare `runc run` of one bundle without a filter, with the
// profile's rules as written and as berth orders them (seccompOrder.ts), alternating, wall
// time and CPU time (runc compiles the filter with libseccomp at every start: CPU-bound); and
// the in-process cost of resolving the profile for one start.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveSeccomp, toOciSeccomp, type OciSeccomp } from '../src/runtime/seccomp';
import { orderForLibseccomp } from '../src/runtime/seccompOrder';
import { DEFAULT_SECCOMP_PROFILE } from '../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../src/runtime/defaults';
import type { TestDaemon } from '../test/helpers/daemon';
import { busyboxBundle } from './bundle';
import { compileSeccomp, seccompCompiler } from '../test/helpers/seccompCompile';
import { benchAlone } from './alone';

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

/** CPU time (user + system, ms) of this process's waited-for children so far: /proc/self/stat's cutime and cstime. */
function childCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // fields 16 and 17 of proc(5), in USER_HZ (100)
}

/** `runc run` of a busybox bundle, per filter variant: wall p50 and mean CPU, alternating. */
function bareRuncCost(d: TestDaemon, runs: number): Record<string, unknown> {
  const dir = path.join(d.root, 'seccomp-bare');
  const spec = busyboxBundle(d, dir, ['true']);
  spec.process.noNewPrivileges = false; // as berth runs containers unless asked
  spec.process.capabilities = { bounding: DEFAULT_CAPABILITIES, effective: DEFAULT_CAPABILITIES, permitted: DEFAULT_CAPABILITIES };
  const target = { capabilities: DEFAULT_CAPABILITIES };
  const variants: Record<string, OciSeccomp | undefined> = {
    unconfined: undefined,
    rules_as_written: resolveSeccomp(DEFAULT_SECCOMP_PROFILE, target),
    rules_ordered: toOciSeccomp(DEFAULT_SECCOMP_PROFILE, target),
  };
  const root = path.join(d.root, 'seccomp-bare-runc');
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  for (let i = 0; i <= runs; i++) {
    for (const [name, seccomp] of Object.entries(variants)) {
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...spec, linux: { ...spec.linux, seccomp } }));
      const c0 = childCpuMs();
      const t0 = process.hrtime.bigint();
      const r = spawnSync('runc', ['--root', root, 'run', '-b', dir, `bench-seccomp-${process.pid}-${i}`], { stdio: 'ignore' });
      const t = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`runc run (${name}) exited ${r.status}`);
      if (i === 0) continue; // warm-up
      (wall[name] ??= []).push(t);
      cpu[name] = (cpu[name] ?? 0) + childCpuMs() - c0;
    }
  }
  const out: Record<string, unknown> = { runs, architectures: variants.rules_ordered?.architectures };
  for (const name of Object.keys(variants)) out[name] = { wall_p50_ms: p50(wall[name]), cpu_mean_ms: Number((cpu[name] / runs).toFixed(2)) };
  const cost = (name: string) => ({
    wall_p50_ms: Number((p50(wall[name]) - p50(wall.unconfined)).toFixed(2)),
    cpu_mean_ms: Number(((cpu[name] - cpu.unconfined) / runs).toFixed(2)),
  });
  out.cost_as_written = cost('rules_as_written');
  out.cost_ordered = cost('rules_ordered');
  return out;
}

/**
 * libseccomp alone: CPU time of compiling the rules as written and as ordered, each in a
 * process of its own as runc init is (test/helpers/seccompCompile.ts), alternating.
 */
function libseccompCompileCost(runs: number): Record<string, unknown> | string {
  if (!seccompCompiler()) return 'skipped (needs gcc and libseccomp-dev)';
  const target = { capabilities: DEFAULT_CAPABILITIES };
  const variants = { rules_as_written: resolveSeccomp(DEFAULT_SECCOMP_PROFILE, target), rules_ordered: toOciSeccomp(DEFAULT_SECCOMP_PROFILE, target) };
  const cpu: Record<string, number> = {};
  let same = true;
  const n = runs * 10; // short runs, 10 ms ticks: many of them
  for (let i = 0; i < n; i++) {
    const bpf: Buffer[] = [];
    for (const [name, s] of Object.entries(variants)) {
      const c0 = childCpuMs();
      bpf.push(compileSeccomp(s).stdout);
      cpu[name] = (cpu[name] ?? 0) + childCpuMs() - c0;
    }
    same &&= bpf[0].equals(bpf[1]);
  }
  return {
    runs: n,
    same_bpf: same,
    cpu_mean_ms: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number((v / n).toFixed(2))])),
  };
}

export function seccompStartCost(d: TestDaemon, runs = Number(process.env.BENCH_RUNS ?? 30)): Record<string, unknown> {
  const load = os.loadavg().map((x) => Number(x.toFixed(2)));
  const unconfined = ['--security-opt', 'seccomp=unconfined'];
  timeRun(d, []); timeRun(d, unconfined); // warm-up
  const withProfile: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < runs; i++) {
    withProfile.push(timeRun(d, []));
    without.push(timeRun(d, unconfined));
  }
  // berthd's side: resolving and ordering the profile the first time for a capability set, and
  // again (kept per profile and target), each with the spec's JSON of it
  const timed = (f: () => unknown) => {
    const xs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = process.hrtime.bigint();
      JSON.stringify(f());
      xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return p50(xs);
  };
  const target = { capabilities: DEFAULT_CAPABILITIES };
  const firstTime = timed(() => { const r = resolveSeccomp(DEFAULT_SECCOMP_PROFILE, target); return orderForLibseccomp(r.syscalls); });
  const again = timed(() => toOciSeccomp(DEFAULT_SECCOMP_PROFILE, target));
  return {
    runs,
    loadavg_at_start: load,
    default_profile_p50_ms: p50(withProfile),
    unconfined_p50_ms: p50(without),
    cost_p50_ms: Number((p50(withProfile) - p50(without)).toFixed(2)),
    resolve_profile_p50_ms: { first_time_for_a_capability_set: firstTime, again: again },
    bare_runc: bareRuncCost(d, runs),
    libseccomp_compile: libseccompCompileCost(runs),
    budget_ms: 5,
  };
}

// `node dist/bench/seccomp.js`: this figure alone, on a daemon of its own.
if (require.main === module) benchAlone(seccompStartCost);
