// What the default seccomp profile costs a start, under crun (berth's default runtime where it
// is installed: the filter compiled by berthd once per profile and capability set and passed as
// run.oci.seccomp_bpf_data) and under runc (which compiles linux.seccomp with libseccomp at
// every start): `docker run --rm busybox true` with the default profile and with
// seccomp=unconfined, the four taking turns (so that drift on a shared machine falls on all
// alike), p50; bare `crun run` / `runc run` of one bundle without a filter and with it (crun:
// compiled by crun and precompiled), wall p50 and CPU mean (user + system of the runtime and
// its children: the compile is CPU-bound); berthd's side: resolving the profile and compiling
// it for a capability set. The load average is given beside each figure.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveSeccomp, toOciSeccomp, type OciSeccomp } from '../src/runtime/seccomp';
import { orderForLibseccomp } from '../src/runtime/seccompOrder';
import { DEFAULT_SECCOMP_PROFILE } from '../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../src/runtime/defaults';
import { SECCOMP_BPF_ANNOTATION, seccompBpfOf } from '../src/runtime/seccompBpf';
import { compileSeccompBpf } from '../src/lib/sys/seccomp';
import type { TestDaemon } from '../test/helpers/daemon';
import { busyboxBundle } from './bundle';
import { compileSeccomp, seccompCompiler } from '../test/helpers/seccompCompile';
import { benchAlone } from './alone';

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(2));
}

const loadavg = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const round = (x: number) => Number(x.toFixed(2));

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

const haveCrun = () => spawnSync('crun', ['--version']).status === 0;

/** Makes sure berthd knows a runtime named crun (daemon.json's runtimes, until it is built in). */
async function withCrun(d: TestDaemon): Promise<void> {
  const info = spawnSync('docker', ['info', '--format', '{{json .Runtimes}}'], { env: d.env, encoding: 'utf8' });
  if (/"crun"/.test(info.stdout)) return;
  const conf = path.join(d.root, 'daemon.json');
  const json = fs.existsSync(conf) ? JSON.parse(fs.readFileSync(conf, 'utf8')) : {};
  fs.writeFileSync(conf, JSON.stringify({ ...json, runtimes: { ...json.runtimes, crun: { path: 'crun' } } }));
  await d.restart();
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';

/**
 * The daemon's cgroup parent where cgroup v1's cpuacct accounts it, or undefined. Its usage
 * counts every group under it (the containers' own) to the nanosecond, whether or not their
 * processes have been reaped: conmon is not berthd's child, a runtime's container is not the
 * runtime's, so neither's CPU reaches a parent's rusage.
 */
function accountingParent(d: TestDaemon): string | undefined {
  const parent = (JSON.parse(fs.readFileSync(path.join(d.root, 'daemon.json'), 'utf8')) as { 'cgroup-parent'?: string })['cgroup-parent'];
  if (!parent || !fs.existsSync(path.join(CPUACCT, 'cpuacct.usage'))) return undefined;
  fs.mkdirSync(path.join(CPUACCT, parent), { recursive: true });
  return parent;
}

const usageMs = (group: string) => Number(fs.readFileSync(path.join(CPUACCT, group, 'cpuacct.usage'), 'utf8')) / 1e6;

/** Moves `pid` into the cpuacct group `group` (made if needed); returns the group it was in. */
function moveTo(pid: number, group: string): string {
  const was = /^\d+:cpuacct:(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '/';
  fs.mkdirSync(path.join(CPUACCT, group), { recursive: true });
  fs.writeFileSync(path.join(CPUACCT, group, 'cgroup.procs'), String(pid));
  return was;
}

interface CpuMeter { read(): number; close(): void }

/**
 * CPU time (ms) of berthd and of everything it starts (conmon, the runtime, the containers):
 * berthd moved into a group of its own under the daemon's cgroup parent, whose usage is read.
 */
function startCpuMeter(d: TestDaemon): CpuMeter | undefined {
  const pid = d.proc?.pid;
  const parent = accountingParent(d);
  if (!pid || !parent) return undefined;
  const group = path.join(parent, 'bench-berthd');
  const was = moveTo(pid, group);
  return {
    read: () => usageMs(parent),
    close: () => {
      moveTo(pid, was);
      fs.rmdirSync(path.join(CPUACCT, group));
    },
  };
}

/**
 * `docker run --rm` with the default profile and unconfined, under each runtime, all taking
 * turns: wall p50, and the mean CPU of berthd and all it started for the run (startCpuMeter;
 * the docker CLI's own is left out: the same for all).
 */
async function dockerRunCost(d: TestDaemon, runs: number, runtimes: string[]): Promise<Record<string, unknown>> {
  const unconfined = ['--security-opt', 'seccomp=unconfined'];
  const variants = runtimes.flatMap((rt) => [[`${rt}/default_profile`, ['--runtime', rt]], [`${rt}/unconfined`, ['--runtime', rt, ...unconfined]]] as const);
  const times: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  const load = loadavg();
  const meter = startCpuMeter(d);
  try {
    for (let i = 0; i <= runs; i++) {
      for (const [name, extra] of variants) {
        const c0 = meter?.read() ?? 0;
        const t = timeRun(d, [...extra]);
        if (i === 0) continue; // the first round warms up (and compiles the filter once)
        (times[name] ??= []).push(t);
        cpu[name] = (cpu[name] ?? 0) + (meter?.read() ?? 0) - c0;
      }
    }
  } finally {
    meter?.close();
  }
  const out: Record<string, unknown> = {};
  for (const rt of runtimes) {
    const [def, unc] = [`${rt}/default_profile`, `${rt}/unconfined`];
    out[rt] = {
      default_profile_p50_ms: p50(times[def]), unconfined_p50_ms: p50(times[unc]), cost_p50_ms: round(p50(times[def]) - p50(times[unc])),
      ...(meter ? {
        cpu_mean_ms: { default_profile: round(cpu[def] / runs), unconfined: round(cpu[unc] / runs), cost: round((cpu[def] - cpu[unc]) / runs) },
      } : { cpu_mean_ms: 'unavailable (no cgroup v1 cpuacct)' }),
    };
  }
  return { runs, loadavg_at_start: load, loadavg_at_end: loadavg(), ...out };
}

/**
 * `<runtime> run` of a busybox bundle, per variant of its spec: wall p50 and mean CPU,
 * alternating; each variant's cost against the first one's. CPU: the runtime and its container
 * under the daemon's cgroup parent (accountingParent), else the runtime's rusage (the
 * container's share of it lost, and 10 ms ticks).
 */
function bareRuntimeCost(d: TestDaemon, runtime: string, runs: number, variants: Record<string, (spec: Record<string, unknown>) => Record<string, unknown>>): Record<string, unknown> {
  const dir = path.join(d.root, `seccomp-bare-${runtime}`);
  const spec = busyboxBundle(d, dir, ['true']);
  spec.process.noNewPrivileges = false; // as berth runs containers unless asked
  spec.process.capabilities = { bounding: DEFAULT_CAPABILITIES, effective: DEFAULT_CAPABILITIES, permitted: DEFAULT_CAPABILITIES };
  const parent = accountingParent(d);
  if (parent) spec.linux.cgroupsPath = `${parent}/bench-bare-container`;
  const configs = Object.entries(variants).map(([name, make]) => [name, JSON.stringify(make(spec))] as const);
  const root = path.join(d.root, `seccomp-bare-${runtime}-state`);
  // the runtime starts in a group under the parent too: a shell that joins it, then execs it
  const join = parent ? ['sh', '-c', 'echo $$ > "$0" && exec "$@"', path.join(CPUACCT, parent, 'bench-bare', 'cgroup.procs')] : [];
  if (parent) fs.mkdirSync(path.join(CPUACCT, parent, 'bench-bare'), { recursive: true });
  const cpuNow = () => (parent ? usageMs(parent) : childCpuMs());
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  const load = loadavg();
  for (let i = 0; i <= runs; i++) {
    for (const [name, config] of configs) {
      fs.writeFileSync(path.join(dir, 'config.json'), config);
      const argv = [...join, runtime, '--root', root, 'run', '-b', dir, `bench-seccomp-${process.pid}-${i}`];
      const c0 = cpuNow();
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
      const t = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${runtime} run (${name}) exited ${r.status}`);
      if (i === 0) continue; // warm-up
      (wall[name] ??= []).push(t);
      cpu[name] = (cpu[name] ?? 0) + cpuNow() - c0;
    }
  }
  const [base, ...others] = configs.map(([name]) => name);
  const out: Record<string, unknown> = { runs, cpu_from: parent ? 'cgroup cpuacct' : 'rusage of the runtime', loadavg_at_start: load, loadavg_at_end: loadavg() };
  for (const [name] of configs) out[name] = { wall_p50_ms: p50(wall[name]), cpu_mean_ms: round(cpu[name] / runs) };
  for (const name of others) {
    out[`cost_${name}`] = { wall_p50_ms: round(p50(wall[name]) - p50(wall[base])), cpu_mean_ms: round((cpu[name] - cpu[base]) / runs) };
  }
  return out;
}

const withSeccomp = (seccomp: OciSeccomp | undefined, annotations?: Record<string, string>) => (spec: Record<string, unknown>) =>
  ({ ...spec, linux: { ...(spec.linux as object), seccomp }, ...(annotations ? { annotations } : {}) });

/** berthd compiling the default profile for a capability set (libuv's threadpool): wall p50 and this process's CPU. */
async function berthdCompileCost(runs: number): Promise<Record<string, unknown>> {
  const section = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES });
  const wall: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await compileSeccompBpf(section);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const c = process.cpuUsage(c0);
  await seccompBpfOf(section);
  const again: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await seccompBpfOf(section);
    again.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return {
    runs, loadavg: loadavg(),
    first_time_for_a_capability_set: { wall_p50_ms: p50(wall), cpu_mean_ms: round((c.user + c.system) / 1000 / runs) },
    again_cached_p50_ms: p50(again),
    program_bytes: (await compileSeccompBpf(section)).bpf.length,
  };
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

export async function seccompStartCost(d: TestDaemon, runs = Number(process.env.BENCH_RUNS ?? 30)): Promise<Record<string, unknown>> {
  const crun = haveCrun();
  if (crun) await withCrun(d);
  const dockerRun = await dockerRunCost(d, runs, crun ? ['crun', 'runc'] : ['runc']);
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
  const ordered = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, target);
  const precompiled = { [SECCOMP_BPF_ANNOTATION]: await seccompBpfOf(ordered) };
  return {
    runs,
    budget_ms: 5,
    docker_run_rm: dockerRun,
    bare_crun: crun
      ? bareRuntimeCost(d, 'crun', runs, { unconfined: withSeccomp(undefined), compiled_by_crun: withSeccomp(ordered), precompiled: withSeccomp(ordered, precompiled) })
      : 'skipped (no crun)',
    bare_runc: {
      architectures: ordered.architectures,
      ...bareRuntimeCost(d, 'runc', runs, { unconfined: withSeccomp(undefined), rules_as_written: withSeccomp(resolveSeccomp(DEFAULT_SECCOMP_PROFILE, target)), rules_ordered: withSeccomp(ordered) }),
    },
    resolve_profile_p50_ms: { first_time_for_a_capability_set: firstTime, again: again },
    berthd_compile: await berthdCompileCost(runs),
    libseccomp_compile: libseccompCompileCost(runs),
  };
}

// `node dist/bench/seccomp.js`: this figure alone, on a daemon of its own.
if (require.main === module) benchAlone(seccompStartCost);
