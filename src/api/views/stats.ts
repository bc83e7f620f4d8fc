// Docker's stats JSON (`GET /containers/{id}/stats`) from the engine's samples: the cgroup
// figures under Docker's names, and the previous sample's CPU figures in `precpu_stats`.
import { ZERO_TIME } from '../../engine/containers/Container';
import type { BlkioEntry, StatsSample } from '../../engine/containers/stats';

const EMPTY_CPU = {
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
};

function blkio(entries: BlkioEntry[]) {
  return entries.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }));
}

function sampleView(sample: StatsSample): Record<string, unknown> {
  const r = sample.running;
  if (!r) {
    return {
      read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {},
      cpu_stats: EMPTY_CPU, precpu_stats: EMPTY_CPU, memory_stats: {}, name: sample.name, id: sample.id,
    };
  }
  const s = r.cgroup;
  const out: Record<string, unknown> = {
    read: r.read,
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
      system_cpu_usage: r.systemCpuNs,
      online_cpus: r.onlineCpus,
      throttling_data: {
        periods: s.cpu.throttling.periods, throttled_periods: s.cpu.throttling.throttledPeriods,
        throttled_time: s.cpu.throttling.throttledTimeNs,
      },
    },
    precpu_stats: EMPTY_CPU,
    memory_stats: { usage: s.memory.usage, max_usage: s.memory.maxUsage, stats: s.memory.stats, failcnt: s.memory.failcnt, limit: s.memory.limit },
    name: sample.name,
    id: sample.id,
  };
  if (r.networks) {
    out.networks = Object.fromEntries(Object.entries(r.networks).map(([name, n]) => [name, {
      rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped,
      tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped,
    }]));
  }
  return out;
}

/** One stats message; with the previous sample of the stream, its CPU figures ride along as Docker's do. */
export function statsView(cur: StatsSample, prev?: StatsSample): Record<string, unknown> {
  const out = sampleView(cur);
  if (!prev) return out;
  const p = sampleView(prev);
  return { ...out, preread: p.read, precpu_stats: p.cpu_stats };
}
