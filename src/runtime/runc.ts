// Thin wrappers over the OCI runtime CLI (runc and compatibles). Each call is one process;
// failures become typed errors: missing container -> NotFound, wrong state -> Conflict.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as pathMod from 'node:path';
import type { ResourceLimits, RuntimeConfig, RuntimeState } from './types';
import { ConflictError, NotFoundError } from '../lib/errors';
import { RuntimeError } from './errors';
import { crunInDockerTerms, type ErrorContext } from './crun';
import { isGone, procState, readJsonFile, removeStopped, signalInit } from './initproc';
import { type ProgramResult, runProgram } from '../lib/sys/spawn';

export interface RuncResult { stdout: string; stderr: string }

/** Global args for every invocation: the per-daemon state root plus the configured extras. */
export function globalArgs(runtime: RuntimeConfig, stateRoot: string): string[] {
  return ['--root', stateRoot, ...(runtime.args ?? [])];
}

/**
 * The runtime's message from its stderr (logrus text `msg="..."` or a plain line). With the
 * context of a failed start, crun's texts are given in runc's (Docker's) words.
 */
export function runtimeMessage(stderr: string, ctx?: ErrorContext): string {
  const msgs: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) msgs.push(m[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
    else if (line.trim() !== '') msgs.push(line.trim());
  }
  return (ctx ? msgs.map((m) => crunInDockerTerms(m, ctx)) : msgs).join('; ');
}

function classify(op: string, id: string, msg: string): Error {
  const m = msg.toLowerCase();
  // crun names the state file it could not read (`<root>/<id>/status`)
  if (/does not exist|container not found|no such container|not exist|error opening file `[^`]*\/status`: no such file/.test(m)) {
    return new NotFoundError(`container ${id} not found in runtime: ${msg}`);
  }
  // crun: a signal to an init that is gone; a start whose exec fifo is gone (already started)
  if (/not running|not paused|is paused|container is stopped|has stopped|cannot start a container|already (running|paused)|cannot (pause|resume|kill)|container .* is not|is not running|is already|(open pidfd|kill container): no such process|exec\.fifo`: no such file/.test(m)) {
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
// used only for a runc whose `--version` says 1.1.x (fastpaths.ts).

/** The runc releases whose internals the fast paths follow (exec.fifo and state.json layout). */
export const FAST_PATH_RUNC = { major: 1, minor: 1 };

/** `runc --version`'s first line, `runc version 1.1.5+ds1`, as [major, minor, patch]; undefined for another runtime. */
export function parseRuncVersion(out: string): [number, number, number] | undefined {
  const m = /^runc version (\d+)\.(\d+)\.(\d+)/.exec(out.trimStart());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
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

function readStateFile(root: string, id: string): Promise<RuncStateFile | undefined> {
  return readJsonFile<RuncStateFile>(pathMod.join(root, id, 'state.json'));
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
  if (!st) return isGone(dir);
  const cfg = st.config ?? {};
  const hooks = cfg.Hooks ? Object.values(cfg.Hooks).some((h) => Array.isArray(h) && h.length > 0) : false;
  const ownPidNs = (cfg.namespaces ?? []).some((n) => n.type === 'NEWPID' && !n.path);
  if (hooks || !ownPidNs || st.intel_rdt_path || cfg.cgroups?.systemd || cfg.cgroups?.Systemd) return false;
  if ((await procState(st.init_process_pid, st.init_process_start)) === 'alive') return false;
  return removeStopped(Object.values(st.cgroup_paths ?? {}), dir);
}

/**
 * Sends `signal` to a container's init, as `runc kill ID SIGNAL` does for a live init. Resolves
 * true when sent, false when the caller should use `runc kill` (no state, an init that is gone
 * or a zombie: runc's "not running"; the caller knows whether the cgroup is frozen, where runc
 * also thaws it for SIGKILL).
 */
export async function killInit(root: string, id: string, signal: number): Promise<boolean> {
  const st = await readStateFile(root, id);
  return st !== undefined && signalInit(st.init_process_pid, st.init_process_start, signal);
}
