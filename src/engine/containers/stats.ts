// `docker stats`: one sample from the container's cgroup, shaped as Docker's stats JSON.
import * as fsp from 'node:fs/promises';
import { onlineCpus, readCgroupStats, systemCpuUsageNs, type BlkioEntry } from '../../runtime/cgroups';
import type { ContainerRecord } from './Container';
import { ZERO_TIME } from './Container';

export interface StatsSample extends Record<string, unknown> { read: string }

function blkio(entries: BlkioEntry[]) {
  return entries.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }));
}

async function networkStats(pid: number): Promise<Record<string, unknown> | undefined> {
  const text = await fsp.readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const out: Record<string, unknown> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = {
      rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3],
      tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11],
    };
  }
  return Object.keys(out).length ? out : undefined;
}

export const EMPTY_CPU = {
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
};

export async function sampleStats(c: ContainerRecord, cgroupsPath: string): Promise<StatsSample> {
  const read = new Date().toISOString();
  if (!c.State.Running) {
    return {
      read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {},
      cpu_stats: EMPTY_CPU, precpu_stats: EMPTY_CPU, memory_stats: {}, name: c.Name, id: c.Id,
    };
  }
  const [s, system, nets] = await Promise.all([readCgroupStats(cgroupsPath), systemCpuUsageNs(), networkStats(c.State.Pid)]);
  const sample: StatsSample = {
    read,
    preread: ZERO_TIME,
    pids_stats: { current: s.pids.current, ...(s.pids.limit > 0 ? { limit: s.pids.limit } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: blkio(s.blkio.ioServiceBytesRecursive),
      io_serviced_recursive: blkio(s.blkio.ioServicedRecursive),
      io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: {
      cpu_usage: {
        total_usage: s.cpu.totalNs,
        ...(s.cpu.perCpuNs.length ? { percpu_usage: s.cpu.perCpuNs } : {}),
        usage_in_kernelmode: s.cpu.kernelNs,
        usage_in_usermode: s.cpu.userNs,
      },
      system_cpu_usage: system,
      online_cpus: onlineCpus(),
      throttling_data: {
        periods: s.cpu.throttling.periods, throttled_periods: s.cpu.throttling.throttledPeriods,
        throttled_time: s.cpu.throttling.throttledTimeNs,
      },
    },
    precpu_stats: EMPTY_CPU,
    memory_stats: { usage: s.memory.usage, max_usage: s.memory.maxUsage, stats: s.memory.stats, failcnt: s.memory.failcnt, limit: s.memory.limit },
    name: c.Name,
    id: c.Id,
  };
  if (nets) sample.networks = nets;
  return sample;
}

/** Carries the previous sample's CPU figures into `precpu_stats`, as Docker's stream does. */
export function withPrevious(cur: StatsSample, prev: StatsSample | undefined): StatsSample {
  if (!prev) return cur;
  return { ...cur, preread: prev.read, precpu_stats: prev.cpu_stats };
}
