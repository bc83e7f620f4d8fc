// cgroup v1 (one hierarchy per controller) and v2 (unified) readers: version, stats, OOM.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSmallFileSync } from '../lib/sys/smallfile';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;
const USER_HZ = 100; // sysconf(_SC_CLK_TCK) on Linux

let version: 1 | 2 | undefined;

/** 2 when /sys/fs/cgroup is the unified hierarchy, else 1 (v1 or hybrid). */
export function cgroupVersion(): 1 | 2 {
  if (version === undefined) {
    try {
      version = fs.statfsSync(CGROUP_ROOT).type === CGROUP2_SUPER_MAGIC ? 2 : 1;
    } catch {
      version = 1;
    }
  }
  return version;
}

/** Directory of `cgroupsPath` (relative to the hierarchy root) for a v1 controller, or in v2. */
export function cgroupDir(cgroupsPath: string, controller?: string): string {
  const rel = cgroupsPath.replace(/^\/+/, '');
  if (cgroupVersion() === 2) return path.join(CGROUP_ROOT, rel);
  return path.join(CGROUP_ROOT, controller ?? 'memory', rel);
}

let memswSupported: boolean | undefined;
/** v1: whether swap accounting (memory.memsw.*) is on. v2: whether memory.swap.max can exist. */
export function swapLimitSupported(): boolean {
  if (memswSupported === undefined) {
    memswSupported = cgroupVersion() === 2
      ? true // v2: memory.swap.max exists whenever the kernel has swap accounting
      : fs.existsSync(path.join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes'));
  }
  return memswSupported;
}

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface CgroupStats {
  cpu: {
    totalNs: number;
    /** Per-CPU usage; empty on v2 (not exposed by the kernel). */
    perCpuNs: number[];
    kernelNs: number;
    userNs: number;
    throttling: { periods: number; throttledPeriods: number; throttledTimeNs: number };
  };
  memory: {
    usage: number;
    maxUsage: number;
    /** The limit, or the host's memory when unlimited. */
    limit: number;
    failcnt: number;
    /** v1: memory.stat (cache, rss, total_inactive_file, ...); v2: memory.stat (anon, file, inactive_file, ...). */
    stats: Record<string, number>;
  };
  pids: { current: number; /** 0 = unlimited */ limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
}

function num(s: string | undefined): number {
  if (s === undefined) return 0;
  const t = s.trim();
  if (t === '' || t === 'max') return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

function parseKv(s: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!s) return out;
  for (const line of s.split('\n')) {
    const i = line.indexOf(' ');
    if (i <= 0) continue;
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

function clampLimit(limit: number): number {
  const total = os.totalmem();
  return limit <= 0 || limit > total ? total : limit;
}

function parseBlkioV1(s: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  if (!s) return out;
  for (const line of s.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue; // "Total N"
    const [maj, min] = f[0].split(':').map(Number);
    if (!Number.isFinite(maj) || !Number.isFinite(min)) continue;
    out.push({ major: maj, minor: min, op: f[1], value: Number(f[2]) });
  }
  return out;
}

/** blkio files this host does not have (the I/O schedulers' names stay put): not tried again. */
const blkioMissing = new Set<string>();

function readBlkioV1(dir: string, kind: 'io_service_bytes_recursive' | 'io_serviced_recursive'): BlkioEntry[] {
  // CFQ names first (old kernels), then BFQ, then the throttle layer (always accounted).
  for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
    const name = prefix + kind;
    if (blkioMissing.has(name)) continue;
    const text = readSmallFileSync(path.join(dir, name));
    if (text === undefined && fs.existsSync(path.join(CGROUP_ROOT, 'blkio', name))) continue;
    if (text === undefined) blkioMissing.add(name);
    const e = parseBlkioV1(text);
    if (e.length > 0) return e;
  }
  return [];
}

function statsV1(cgroupsPath: string): CgroupStats {
  const cpuacct = cgroupDir(cgroupsPath, 'cpuacct');
  const cpu = cgroupDir(cgroupsPath, 'cpu');
  const mem = cgroupDir(cgroupsPath, 'memory');
  const pids = cgroupDir(cgroupsPath, 'pids');
  const blkio = cgroupDir(cgroupsPath, 'blkio');
  const [usage, percpu, cpuStat, throttle, mUsage, mMax, mLimit, mFail, mStat, pCur, pMax, bBytes, bIos] = [
    readSmallFileSync(path.join(cpuacct, 'cpuacct.usage')),
    readSmallFileSync(path.join(cpuacct, 'cpuacct.usage_percpu')),
    readSmallFileSync(path.join(cpuacct, 'cpuacct.stat')),
    readSmallFileSync(path.join(cpu, 'cpu.stat')),
    readSmallFileSync(path.join(mem, 'memory.usage_in_bytes')),
    readSmallFileSync(path.join(mem, 'memory.max_usage_in_bytes')),
    readSmallFileSync(path.join(mem, 'memory.limit_in_bytes')),
    readSmallFileSync(path.join(mem, 'memory.failcnt')),
    readSmallFileSync(path.join(mem, 'memory.stat')),
    readSmallFileSync(path.join(pids, 'pids.current')),
    readSmallFileSync(path.join(pids, 'pids.max')),
    readBlkioV1(blkio, 'io_service_bytes_recursive'),
    readBlkioV1(blkio, 'io_serviced_recursive'),
  ];
  const cs = parseKv(cpuStat);
  const th = parseKv(throttle);
  return {
    cpu: {
      totalNs: num(usage),
      perCpuNs: (percpu ?? '').trim().split(/\s+/).filter((x) => x !== '').map(Number),
      userNs: ((cs.user ?? 0) * 1e9) / USER_HZ,
      kernelNs: ((cs.system ?? 0) * 1e9) / USER_HZ,
      throttling: { periods: th.nr_periods ?? 0, throttledPeriods: th.nr_throttled ?? 0, throttledTimeNs: th.throttled_time ?? 0 },
    },
    memory: { usage: num(mUsage), maxUsage: num(mMax), limit: clampLimit(num(mLimit)), failcnt: num(mFail), stats: parseKv(mStat) },
    pids: { current: num(pCur), limit: num(pMax) },
    blkio: { ioServiceBytesRecursive: bBytes, ioServicedRecursive: bIos },
  };
}

function statsV2(cgroupsPath: string): CgroupStats {
  const dir = cgroupDir(cgroupsPath);
  const f = (n: string) => readSmallFileSync(path.join(dir, n));
  const [cpuStat, mCur, mPeak, mMax, mEvents, mStat, pCur, pMax, ioStat] = [
    f('cpu.stat'), f('memory.current'), f('memory.peak'), f('memory.max'), f('memory.events'), f('memory.stat'),
    f('pids.current'), f('pids.max'), f('io.stat'),
  ];
  const cs = parseKv(cpuStat);
  const ev = parseKv(mEvents);
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (ioStat ?? '').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2) continue;
    const [maj, min] = fields[0].split(':').map(Number);
    const kv: Record<string, number> = {};
    for (const x of fields.slice(1)) {
      const [k, v] = x.split('=');
      kv[k] = Number(v);
    }
    bytes.push({ major: maj, minor: min, op: 'read', value: kv.rbytes ?? 0 }, { major: maj, minor: min, op: 'write', value: kv.wbytes ?? 0 });
    ios.push({ major: maj, minor: min, op: 'read', value: kv.rios ?? 0 }, { major: maj, minor: min, op: 'write', value: kv.wios ?? 0 });
  }
  return {
    cpu: {
      totalNs: (cs.usage_usec ?? 0) * 1000,
      perCpuNs: [],
      userNs: (cs.user_usec ?? 0) * 1000,
      kernelNs: (cs.system_usec ?? 0) * 1000,
      throttling: { periods: cs.nr_periods ?? 0, throttledPeriods: cs.nr_throttled ?? 0, throttledTimeNs: (cs.throttled_usec ?? 0) * 1000 },
    },
    memory: { usage: num(mCur), maxUsage: num(mPeak), limit: clampLimit(num(mMax)), failcnt: ev.max ?? 0, stats: parseKv(mStat) },
    pids: { current: num(pCur), limit: num(pMax) },
    blkio: { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios },
  };
}

/** Reads the stats of the cgroup at `cgroupsPath` (as in the spec's linux.cgroupsPath). */
export async function readCgroupStats(cgroupsPath: string): Promise<CgroupStats> {
  return cgroupVersion() === 2 ? statsV2(cgroupsPath) : statsV1(cgroupsPath);
}

/** Host CPU time in ns from /proc/stat (user..softirq), as Docker's system_cpu_usage. */
export async function systemCpuUsageNs(): Promise<number> {
  const s = readSmallFileSync('/proc/stat');
  if (s === undefined) throw new Error('cannot read /proc/stat');
  const line = s.slice(0, s.indexOf('\n'));
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu') throw new Error('unexpected /proc/stat format');
  let ticks = 0;
  for (let i = 1; i <= 7 && i < f.length; i++) ticks += Number(f[i]);
  return (ticks * 1e9) / USER_HZ;
}

let cpusRead: { at: number; count: number } | undefined;
/** Online CPUs, as Docker's online_cpus; os.cpus() parses /proc/cpuinfo, so once a second. */
export function onlineCpus(): number {
  const now = Date.now();
  if (!cpusRead || now - cpusRead.at > 1000) cpusRead = { at: now, count: os.cpus().length };
  return cpusRead.count;
}

/**
 * Whether the kernel OOM-killed a task in this cgroup. Works after the tasks died as long as
 * the cgroup still exists (i.e. before `runc delete`).
 */
export async function wasOomKilled(cgroupsPath: string): Promise<boolean> {
  return oomKillsIn(readSmallFileSync(oomCounterFile(cgroupsPath)));
}

/** The memory cgroup's file that counts OOM kills (memory.events on v2, memory.oom_control on v1). */
export function oomCounterFile(cgroupsPath: string): string {
  return cgroupVersion() === 2 ? path.join(cgroupDir(cgroupsPath), 'memory.events') : path.join(cgroupDir(cgroupsPath, 'memory'), 'memory.oom_control');
}

/** Whether oomCounterFile's text counts an OOM kill. */
export function oomKillsIn(text: string | undefined): boolean {
  return (parseKv(text).oom_kill ?? 0) > 0;
}

/** Host PIDs of the processes in the cgroup (v1: the pids hierarchy, else memory). */
export async function cgroupProcs(cgroupsPath: string): Promise<number[]> {
  const candidates = cgroupVersion() === 2
    ? [cgroupDir(cgroupsPath)]
    : [cgroupDir(cgroupsPath, 'pids'), cgroupDir(cgroupsPath, 'memory'), cgroupDir(cgroupsPath, 'freezer')];
  for (const dir of candidates) {
    const t = readSmallFileSync(path.join(dir, 'cgroup.procs'));
    if (t !== undefined) return t.split('\n').filter((x) => x !== '').map(Number);
  }
  return [];
}

/** Whether a cgroup directory for the path still exists in any hierarchy (for leak checks). */
export function cgroupExists(cgroupsPath: string): boolean {
  if (cgroupVersion() === 2) return fs.existsSync(cgroupDir(cgroupsPath));
  // hugetlb too: on a hybrid host made fit for crun (scripts/host-cgroups.sh) it is a v1 hierarchy
  for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'blkio', 'devices', 'freezer', 'cpuset', 'hugetlb']) {
    if (fs.existsSync(cgroupDir(cgroupsPath, c))) return true;
  }
  return false;
}

/** Whether the cgroup is frozen (a paused container): v1 freezer.state, v2 cgroup.events. */
export async function isFrozen(cgroupsPath: string): Promise<boolean> {
  if (cgroupVersion() === 2) {
    const events = readSmallFileSync(path.join(cgroupDir(cgroupsPath), 'cgroup.events')) ?? '';
    return /^frozen 1$/m.test(events);
  }
  const state = readSmallFileSync(path.join(cgroupDir(cgroupsPath, 'freezer'), 'freezer.state')) ?? '';
  return state.trim() === 'FROZEN';
}
