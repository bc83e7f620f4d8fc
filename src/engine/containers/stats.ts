// `docker stats`: one sample of a container's cgroup, its host CPU time and its network
// counters. Docker's stats JSON built from it is api/views/stats.ts's.
import { readSmallFileSync } from '../../lib/sys/smallfile';
import { onlineCpus, readCgroupStats, systemCpuUsageNs, type CgroupStats } from '../../runtime/cgroups';

export type { BlkioEntry, CgroupStats } from '../../runtime/cgroups';
import type { ContainerRecord } from './Container';

/** One interface's counters from /proc/<pid>/net/dev. */
export interface NetworkCounters {
  rxBytes: number; rxPackets: number; rxErrors: number; rxDropped: number;
  txBytes: number; txPackets: number; txErrors: number; txDropped: number;
}

/** What was read while the container ran; a sample of a stopped container has none. */
export interface RunningSample {
  /** When the sample was taken (RFC 3339). */
  read: string;
  cgroup: CgroupStats;
  /** The host's CPU time, for the client's percentage. */
  systemCpuNs: number;
  onlineCpus: number;
  /** By interface, loopback left out; undefined when the container has none. */
  networks?: Record<string, NetworkCounters>;
}

export interface StatsSample { id: string; name: string; running?: RunningSample }

async function networkStats(pid: number): Promise<Record<string, NetworkCounters> | undefined> {
  const text = readSmallFileSync(`/proc/${pid}/net/dev`);
  if (!text) return undefined;
  const out: Record<string, NetworkCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = {
      rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3],
      txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11],
    };
  }
  return Object.keys(out).length ? out : undefined;
}

export async function sampleStats(c: ContainerRecord, cgroupsPath: string): Promise<StatsSample> {
  const read = new Date().toISOString();
  if (!c.State.Running) return { id: c.Id, name: c.Name };
  const [cgroup, systemCpuNs, networks] = await Promise.all([readCgroupStats(cgroupsPath), systemCpuUsageNs(), networkStats(c.State.Pid)]);
  return { id: c.Id, name: c.Name, running: { read, cgroup, systemCpuNs, onlineCpus: onlineCpus(), networks } };
}
