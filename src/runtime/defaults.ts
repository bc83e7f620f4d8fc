// Docker's defaults for a container's OCI spec.
import * as fs from 'node:fs';

/** Docker's 14 default capabilities. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
]);

export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
]);

/** Capability names by number (linux/capability.h). */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]);

function lastCap(): number {
  try {
    const n = parseInt(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim(), 10);
    if (Number.isFinite(n)) return Math.min(n, CAPABILITY_NAMES.length - 1);
  } catch { /* fall through */ }
  return CAPABILITY_NAMES.length - 1;
}

/** The capabilities in this process's bounding set: what a container can be given at most. */
function boundingSet(): Set<string> {
  const last = lastCap();
  let mask: bigint | undefined;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) mask = BigInt('0x' + m[1]);
  } catch { /* fall through */ }
  const out = new Set<string>();
  for (let i = 0; i <= last; i++) {
    if (mask === undefined || (mask >> BigInt(i)) & 1n) out.add(CAPABILITY_NAMES[i]);
  }
  return out;
}

/** Every capability the kernel has and this daemon holds (for --privileged). */
export const HOST_CAPABILITIES: ReadonlySet<string> = boundingSet();
export const ALL_CAPABILITIES: readonly string[] = Object.freeze([...HOST_CAPABILITIES]);

/** Docker's default device cgroup rules (runc appends its own defaults: pts, ptmx, tun, mknod). */
export interface DeviceCgroupRule { allow: boolean; type?: string; major?: number; minor?: number; access: string }
export const DEFAULT_DEVICE_RULES: readonly DeviceCgroupRule[] = Object.freeze([
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },   // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },   // /dev/null
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },   // /dev/urandom
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },   // /dev/random
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },   // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },   // /dev/console
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // /dev/fuse
]);

/** Default /dev size and /dev/shm size when none is given (64 MiB, as Docker). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
