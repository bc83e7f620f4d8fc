// Keeping the kernel's cgroup attach lock warm while a runtime is about to move a process.
//
// Every write to a cgroup.procs file (runc and crun make one per hierarchy for each exec'd
// process and each container init) takes cgroup_threadgroup_rwsem for writing. That is a
// per-CPU rwsem: when no writer took it within the last RCU grace period, the first writer
// waits for a whole grace period (8-15 ms on this kernel, HZ 250) before it gets the lock;
// writers that come while the previous one's grace period is still running do not wait. So a
// write of our own PID into our own cgroup (a move that moves nothing) taken a little before
// the runtime's, and repeated every 6 ms until it is done, takes that wait off the
// critical path: the runtime finds the lock warm. (On a host whose cgroup2 is mounted with
// favordynmods the lock never waits; the writes are then merely not needed: reading the mount
// table to find out costs more than they do, 47 ms once on a host with many mounts.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CGROUP_ROOT, cgroupVersion } from './cgroups';

/** How often a held lock is taken again: inside one grace period (at least 2 ticks, 8 ms at HZ 250). */
const REPEAT_MS = 6;

/** Our own cgroup.procs (v2: the unified hierarchy; v1: the first of a few common ones). */
export function ownCgroupProcs(procSelfCgroup: string, v2: boolean, exists: (p: string) => boolean = fs.existsSync): string | undefined {
  const lines = procSelfCgroup.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 3);
  if (v2) {
    const unified = lines.find((f) => f[0] === '0' && f[1] === '');
    return unified ? path.join(CGROUP_ROOT, unified.slice(2).join(':'), 'cgroup.procs') : undefined;
  }
  for (const controller of ['pids', 'memory', 'cpu', 'devices']) {
    const line = lines.find((f) => f[1].split(',').includes(controller));
    if (!line) continue;
    const file = path.join(CGROUP_ROOT, controller, line.slice(2).join(':'), 'cgroup.procs');
    if (exists(file)) return file;
  }
  return undefined;
}

class CgroupLockWarmer {
  private fd: number | undefined | null; // undefined: not opened yet; null: not available
  private holds = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private readonly pid = Buffer.from(String(process.pid));

  /** Whether writes are being made now (for tests). */
  get warming(): boolean { return this.timer !== undefined; }

  /** Keeps the lock warm until `until` settles (or maxMs passed, whichever is first). */
  hold(until: Promise<unknown>, maxMs = 5000): void {
    if (!this.open()) return;
    this.holds++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(cap);
      if (--this.holds === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
    const cap = setTimeout(release, maxMs);
    cap.unref();
    until.then(release, release);
    if (!this.timer) {
      this.take();
      this.timer = setInterval(() => this.take(), REPEAT_MS);
      this.timer.unref();
    }
  }

  private open(): boolean {
    if (this.fd === undefined) {
      this.fd = null;
      try {
        const file = ownCgroupProcs(fs.readFileSync('/proc/self/cgroup', 'utf8'), cgroupVersion() === 2);
        if (file) this.fd = fs.openSync(file, 'w');
      } catch {
        // not ours to write (a container without cgroup rights, ...): the runtime just waits
      }
    }
    return this.fd !== null;
  }

  private take(): void {
    // One write at a time: the first waits out the grace period in a pool thread.
    if (this.writing || this.fd === null || this.fd === undefined) return;
    this.writing = true;
    fs.write(this.fd, this.pid, (err) => {
      this.writing = false;
      if (err && this.fd !== null && this.fd !== undefined) {
        fs.close(this.fd, () => undefined);
        this.fd = null;
      }
    });
  }
}

/** The daemon's one warmer. */
export const cgroupLock = new CgroupLockWarmer();
