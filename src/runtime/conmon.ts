// Starting conmon, the per-container shim. conmon double-forks and calls setsid, so it outlives
// berthd; it runs `<runtime> create`, reports the container PID (or the runtime's error) on the
// sync pipe, copies stdio to the k8s-file log (a file, or berth-logwriter's FIFO when the log
// rotates) and to attach sockets, and writes the exit file.
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { loadNative } from '../lib/sys/native';
import { RuntimeError } from './errors';
import { runtimeMessage } from './runc';
import { syncMessages } from './syncpipe';
import { span } from '../lib/trace';

export interface ConmonSpawnOptions {
  conmonPath: string;
  id: string;
  bundleDir: string;
  runtimePath: string;
  /** Global runtime args (e.g. --root=<dir>), each passed as --runtime-arg=<arg>. */
  runtimeArgs: string[];
  /** conmon --persist-dir: gets `exit`, `oom`; also holds the pid files. Also conmon's cwd. */
  persistDir: string;
  exitDir: string;
  containerPidFile: string;
  conmonPidFile: string;
  /** Where conmon writes k8s-file lines: a log generation, or berth-logwriter's FIFO. */
  logPath: string;
  /** 'none': conmon keeps no log (attach still works). */
  logDriver?: 'k8s-file' | 'none';
  terminal: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
  /** How long to wait for the runtime to create the container. */
  timeoutMs?: number;
}

/** conmon's command line for a container (not an exec session). */
export function conmonArgs(o: ConmonSpawnOptions): string[] {
  const args = [
    '--api-version', '1',
    '--cid', o.id,
    '--cuuid', o.id,
    '--name', o.id,
    '--runtime', o.runtimePath,
    '--bundle', o.bundleDir,
    '--container-pidfile', o.containerPidFile,
    '--conmon-pidfile', o.conmonPidFile,
    '--exit-dir', o.exitDir,
    '--persist-dir', o.persistDir,
    // the attach socket is <bundle>/attach (no symlink in a socket dir); we reach long paths
    // through /proc/self/fd in the addon.
    '--full-attach',
    '--log-path', o.logDriver === 'none' ? 'none' : `k8s-file:${o.logPath}`,
    // Docker does not fsync container logs at exit; it would cost every short-lived container.
    '--no-sync-log',
  ];
  // No --log-size-max: conmon 2.1.6 "rotates" by truncating the file; berth-logwriter rotates.
  if (o.terminal) args.push('--terminal');
  if (o.stdin) args.push('--stdin');
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
  for (const a of o.runtimeArgs) args.push(`--runtime-arg=${a}`);
  return args;
}

/**
 * Spawns conmon and waits for the sync-pipe report. Resolves with the container's init PID;
 * rejects with RuntimeError carrying the runtime's message.
 */
export function spawnConmon(o: ConmonSpawnOptions): Promise<{ pid: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: '3' };
  delete env.NOTIFY_SOCKET;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env._OCI_STARTPIPE;
  delete env._OCI_ATTACHPIPE;
  // The spawn runs on a pool thread (spawnShimAsync): the event loop goes on while conmon execs.
  return span('start.create.spawn', o.id, () => spawnShimAsync(o.conmonPath, conmonArgs(o), env, o.persistDir, [NULL_FD, NULL_FD, PIPE_FD, PIPE_FD])).then(
    (spawned) => untilReported(o, spawned),
    (e: Error) => { throw new RuntimeError(`cannot run conmon (${o.conmonPath}): ${e.message}`, { cause: e }); },
  );
}

/** conmon's sync-pipe report: the container's init PID, or the runtime's error. */
function untilReported(o: ConmonSpawnOptions, spawned: SpawnedShim): Promise<{ pid: number }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let stderr = '';
    const { sync } = spawned;
    const timer = setTimeout(() => finish(new RuntimeError(`conmon: no report from the runtime after ${o.timeoutMs ?? 60000} ms`)), o.timeoutMs ?? 60000);
    timer.unref();

    function finish(err: Error | undefined, pid?: number): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      spawned.stderr.destroy();
      if (err) reject(err);
      else resolve({ pid: pid as number });
    }

    spawned.stderr.setEncoding('utf8');
    spawned.stderr.on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
    spawned.stderr.on('error', () => undefined);
    syncMessages(sync, (msg) => {
      if (msg.data > 0) finish(undefined, msg.data);
      else finish(new RuntimeError(runtimeMessage(msg.message ?? '') || `runtime create failed (${msg.data})`));
    }, (line) => finish(new RuntimeError(`conmon: bad sync message: ${line}`)));
    sync.on('error', () => { /* reported by close */ });
    sync.on('close', () => {
      // conmon closed the pipe without a report: it failed before or while running the runtime.
      setImmediate(() => finish(new RuntimeError(`conmon failed to create the container${stderr.trim() ? ': ' + stderr.trim() : ''}`)));
    });
  });
}

/** fds for spawnShim: the child's fd is /dev/null, or a pipe whose read end is ours. */
export const NULL_FD = -1;
export const PIPE_FD = -2;

/**
 * Starts a shim (conmon, which double-forks away at once) in a session of its own through
 * posix_spawn (native/spawn.c): child_process.spawn would fork the whole daemon, and that
 * fork costs the event loop more the more memory berthd has. `fds[i]` is child fd i (NULL_FD,
 * PIPE_FD, or one of ours); fds 2 and 3 must be pipes: stderr and the sync pipe come back.
 * The first process is reaped once it exits.
 */
export function spawnShim(path: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, fds: number[]): SpawnedShim {
  return shimOf(loadNative().spawnDetached(path, [path, ...args], envpOf(env), cwd, fds));
}

/** spawnShim with the spawn on a libuv pool thread; the parent fds in `fds` must stay open until it settles. */
export async function spawnShimAsync(path: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, fds: number[]): Promise<SpawnedShim> {
  return shimOf(await loadNative().spawnDetachedAsync(path, [path, ...args], envpOf(env), cwd, fds));
}

export interface SpawnedShim { pid: number; stderr: Readable; sync: Readable }

function envpOf(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
}

function shimOf([pid, ...ends]: number[]): SpawnedShim {
  reap(pid);
  const pipes = ends.filter((fd) => fd >= 0).map((fd) => new net.Socket({ fd, readable: true, writable: false }));
  return { pid, stderr: pipes[0], sync: pipes[1] };
}

/** Collects a spawnShim child's exit (conmon's first process exits right after its fork). */
function reap(pid: number, delayMs = 5): void {
  if (loadNative().waitpidNohang(pid) !== -1) return;
  setTimeout(() => reap(pid, Math.min(delayMs * 2, 1000)), delayMs).unref();
}
