// Thin wrappers over the OCI runtime CLI (runc and compatibles). Each call is one process;
// failures become typed errors: missing container -> NotFound, wrong state -> Conflict.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as pathMod from 'node:path';
import type { ResourceLimits, RuntimeConfig, RuntimeState } from './types';
import { ConflictError, NotFoundError } from '../lib/errors';
import { RuntimeError } from './errors';
import { type ProgramResult, runProgram } from '../lib/sys/spawn';

export interface RuncResult { stdout: string; stderr: string }

/** Global args for every invocation: the per-daemon state root plus the configured extras. */
export function globalArgs(runtime: RuntimeConfig, stateRoot: string): string[] {
  return ['--root', stateRoot, ...(runtime.args ?? [])];
}

/** The runtime's message from its stderr (logrus text `msg="..."` or a plain line). */
export function runtimeMessage(stderr: string): string {
  const msgs: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) msgs.push(m[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
    else if (line.trim() !== '') msgs.push(line.trim());
  }
  return msgs.join('; ');
}

function classify(op: string, id: string, msg: string): Error {
  const m = msg.toLowerCase();
  if (/does not exist|container not found|no such container|not exist/.test(m)) {
    return new NotFoundError(`container ${id} not found in runtime: ${msg}`);
  }
  if (/not running|not paused|is paused|container is stopped|has stopped|cannot start a container|already (running|paused)|cannot (pause|resume|kill)|container .* is not|is not running|is already/.test(m)) {
    return new ConflictError(`cannot ${op} container ${id}: ${msg}`);
  }
  return new RuntimeError(`runtime ${op} ${id} failed: ${msg}`);
}

export async function runRuntime(runtime: RuntimeConfig, stateRoot: string, op: string, id: string, args: string[]): Promise<RuncResult> {
  const argv = [...globalArgs(runtime, stateRoot), ...args];
  // posix_spawn off the event loop (lib/sys/spawn.ts): execFile forked the whole daemon for
  // each call, ~10 ms of main thread per runtime process with ten clients at once.
  let r: ProgramResult;
  try {
    r = await runProgram(runtime.path, argv);
  } catch (e) {
    throw classify(op, id, (e as Error).message);
  }
  if (r.code !== 0) throw classify(op, id, runtimeMessage(r.stderr) || `${runtime.path} exited ${r.code}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

export async function start(runtime: RuntimeConfig, root: string, id: string): Promise<void> {
  await runRuntime(runtime, root, 'start', id, ['start', id]);
}

export async function kill(runtime: RuntimeConfig, root: string, id: string, signal: number, all = false): Promise<void> {
  await runRuntime(runtime, root, 'kill', id, ['kill', ...(all ? ['--all'] : []), id, String(signal)]);
}

export async function pause(runtime: RuntimeConfig, root: string, id: string): Promise<void> {
  await runRuntime(runtime, root, 'pause', id, ['pause', id]);
}

export async function resume(runtime: RuntimeConfig, root: string, id: string): Promise<void> {
  await runRuntime(runtime, root, 'resume', id, ['resume', id]);
}

/** Idempotent: a container the runtime does not know is already deleted. */
export async function remove(runtime: RuntimeConfig, root: string, id: string, force = false): Promise<void> {
  try {
    await runRuntime(runtime, root, 'delete', id, ['delete', ...(force ? ['--force'] : []), id]);
  } catch (e) {
    if (e instanceof NotFoundError) return;
    throw e;
  }
}

export async function state(runtime: RuntimeConfig, root: string, id: string): Promise<RuntimeState | undefined> {
  let r: RuncResult;
  try {
    r = await runRuntime(runtime, root, 'state', id, ['state', id]);
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
  const s = JSON.parse(r.stdout) as { status: string; pid: number };
  const status = (['created', 'running', 'paused', 'stopped'] as const).find((x) => x === s.status) ?? 'stopped';
  return { status, pid: status === 'stopped' ? 0 : s.pid };
}

/** `runc update` with only the limits that are set (a value left out stays as it is). */
export async function update(runtime: RuntimeConfig, root: string, id: string, r: ResourceLimits): Promise<void> {
  const args: string[] = [];
  const add = (flag: string, v: number | string | undefined) => { if (v !== undefined && v !== '' && v !== 0) args.push(`--${flag}`, String(v)); };
  add('memory', r.memory);
  add('memory-swap', r.memorySwap);
  add('memory-reservation', r.memoryReservation);
  add('cpu-share', r.cpuShares);
  add('cpu-period', r.cpuPeriod);
  add('cpu-quota', r.cpuQuota);
  add('cpuset-cpus', r.cpusetCpus);
  add('cpuset-mems', r.cpusetMems);
  add('pids-limit', r.pidsLimit);
  add('blkio-weight', r.blkioWeight);
  if (args.length === 0) return;
  await runRuntime(runtime, root, 'update', id, ['update', ...args, id]);
}

export async function ps(runtime: RuntimeConfig, root: string, id: string): Promise<number[]> {
  const r = await runRuntime(runtime, root, 'ps', id, ['ps', '--format', 'json', id]);
  const pids = JSON.parse(r.stdout) as number[] | null;
  return pids ?? [];
}

// ---- fast paths for runc ------------------------------------------------------------------
// `runc start` and `runc delete` each cost a Go process start (10-50 ms). For runc itself the
// two operations are small and well defined, so berth does them directly and falls back to the
// CLI whenever anything is unusual (hooks, host PID namespace, a live init, a busy cgroup).
// They follow runc 1.1's libcontainer: start = read the exec fifo, then remove it
// (container_linux.go exec/handleFifoResult); delete of a stopped container = remove its
// cgroups and its state dir (state_linux.go destroy); kill without --all of a live, unfrozen
// init = kill(2) of the init's PID, once its start time says it is still that process
// (container_linux.go Signal). Both depend on that layout, so they are
// used only for a runc whose `--version` says 1.1.x (fastPathsApply).

/** The runc releases whose internals the fast paths follow (exec.fifo and state.json layout). */
export const FAST_PATH_RUNC = { major: 1, minor: 1 };

/** `runc --version`'s first line, `runc version 1.1.5+ds1`, as [major, minor, patch]; undefined for another runtime. */
export function parseRuncVersion(out: string): [number, number, number] | undefined {
  const m = /^runc version (\d+)\.(\d+)\.(\d+)/.exec(out.trimStart());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

// One `--version` per binary; keyed by inode and mtime as well, so an upgrade in place is seen.
const probes = new Map<string, Promise<boolean>>();

/** true for runc 1.1.x, false for anything else, undefined when the binary could not be run (ask again later). */
function probeVersion(binary: string): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const v = parseRuncVersion(stdout);
      resolve(v !== undefined && v[0] === FAST_PATH_RUNC.major && v[1] === FAST_PATH_RUNC.minor);
    });
  });
}

/**
 * Whether the fast paths apply: a binary named runc, no extra global args, and a version in
 * the range they were written against. Anything else (another runtime, a daemon.json entry
 * with runtimeArgs, runc 1.2) gets the plain CLI.
 */
export async function fastPathsApply(runtime: RuntimeConfig): Promise<boolean> {
  if (!(runtime.name === 'runc' || pathMod.basename(runtime.path) === 'runc') || (runtime.args ?? []).length > 0) return false;
  let st: fs.Stats;
  try {
    st = await fsp.stat(runtime.path);
  } catch {
    return false;
  }
  const key = `${runtime.path}\0${st.ino}\0${st.mtimeMs}`;
  let p = probes.get(key);
  if (!p) {
    p = probeVersion(runtime.path).then((ok) => {
      if (ok === undefined) probes.delete(key);
      return ok === true;
    });
    probes.set(key, p);
  }
  return p;
}

interface RuncStateFile {
  init_process_pid: number;
  init_process_start: number;
  cgroup_paths?: Record<string, string>;
  intel_rdt_path?: string;
  config?: {
    namespaces?: { type: string; path: string }[];
    Hooks?: Record<string, unknown[]> | null;
    cgroups?: { systemd?: boolean; Systemd?: boolean };
  };
}

async function readStateFile(root: string, id: string): Promise<RuncStateFile | undefined> {
  try {
    return JSON.parse(await fsp.readFile(pathMod.join(root, id, 'state.json'), 'utf8')) as RuncStateFile;
  } catch {
    return undefined;
  }
}

/** 'alive' | 'zombie' | 'gone' for a PID with the given start time (clock ticks since boot). */
async function procState(pid: number, start: number): Promise<'alive' | 'zombie' | 'gone'> {
  let stat: string;
  try {
    stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'gone';
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22 -> rest[19]
  if (Number(rest[19]) !== start) return 'gone';
  return rest[0] === 'Z' || rest[0] === 'X' ? 'zombie' : 'alive';
}

/**
 * Starts a created container by reading its exec fifo. Resolves true when started, false when
 * the caller should use `runc start` instead (no fifo, init died, anything odd).
 */
export async function startViaExecFifo(root: string, id: string): Promise<boolean> {
  const fifo = pathMod.join(root, id, 'exec.fifo');
  let fd: number;
  try {
    // O_NONBLOCK: the open never waits; the reader's presence releases `runc init`'s open().
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); // Node adds O_CLOEXEC
  } catch {
    return false;
  }
  const st = await readStateFile(root, id);
  if (!st) {
    fs.closeSync(fd);
    return false;
  }
  return new Promise<boolean>((resolve) => {
    let got = 0;
    let done = false;
    const sock = new net.Socket({ fd, readable: true, writable: false, allowHalfOpen: true });
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      sock.destroy();
      if (ok) fs.unlink(fifo, () => resolve(true));
      else resolve(false);
    };
    // Linux reports no HUP on a fifo reader until a writer has come: 'end' means init wrote and exec'd.
    sock.on('data', (b: Buffer) => { got += b.length; });
    sock.on('end', () => finish(got > 0));
    sock.on('error', () => finish(false));
    const timer = setInterval(() => {
      procState(st.init_process_pid, st.init_process_start).then((s) => { if (s !== 'alive') finish(false); }, () => finish(false));
    }, 100);
  });
}

/**
 * Deletes a stopped container's runtime state. Resolves true when done (or nothing existed),
 * false when the caller should use `runc delete`.
 */
export async function deleteStopped(root: string, id: string): Promise<boolean> {
  const dir = pathMod.join(root, id);
  const st = await readStateFile(root, id);
  if (!st) return !fs.existsSync(dir);
  const cfg = st.config ?? {};
  const hooks = cfg.Hooks ? Object.values(cfg.Hooks).some((h) => Array.isArray(h) && h.length > 0) : false;
  const ownPidNs = (cfg.namespaces ?? []).some((n) => n.type === 'NEWPID' && !n.path);
  if (hooks || !ownPidNs || st.intel_rdt_path || cfg.cgroups?.systemd || cfg.cgroups?.Systemd) return false;
  if ((await procState(st.init_process_pid, st.init_process_start)) === 'alive') return false;
  for (const p of Object.values(st.cgroup_paths ?? {})) {
    try {
      await fsp.rmdir(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
  }
  await fsp.rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * Sends `signal` to a container's init, as `runc kill ID SIGNAL` does for a live init. Resolves
 * true when sent, false when the caller should use `runc kill` (no state, an init that is gone
 * or a zombie: runc's "not running"; the caller knows whether the cgroup is frozen, where runc
 * also thaws it for SIGKILL).
 */
export async function killInit(root: string, id: string, signal: number): Promise<boolean> {
  const st = await readStateFile(root, id);
  if (!st || !(st.init_process_pid > 0)) return false;
  if ((await procState(st.init_process_pid, st.init_process_start)) !== 'alive') return false;
  try {
    process.kill(st.init_process_pid, signal);
  } catch {
    return false;
  }
  return true;
}
