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

/** A conmon started before its bundle is written, waiting on its start pipe (`stageConmon`). */
export interface StagedConmon {
  /** Lets conmon run `<runtime> create` (the bundle must be complete); resolves with the init PID. */
  create(): Promise<{ pid: number }>;
  /** Ends a conmon whose create was not asked for: it has not forked yet, so this is all of it. */
  abort(): void;
}

/**
 * Spawns conmon with a start pipe (`_OCI_STARTPIPE`): it execs, loads its libraries and parses
 * its arguments, then waits for our write before it forks and runs the runtime. Started at
 * the beginning of a start, its own start overlaps the rootfs mount, the attachments and the
 * bundle. A daemon that dies meanwhile closes the pipe, and conmon goes on: with no bundle
 * (the exit teardown removed it) the runtime fails; over a complete bundle it makes a task
 * that no record knows as running, which reconcile deletes (deleteOrphanTasks).
 */
export async function stageConmon(o: ConmonSpawnOptions): Promise<StagedConmon> {
  // LC_ALL=C: conmon's setlocale then loads no locale files (a dozen opens per start).
  const env = shimEnv({ _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', LC_ALL: 'C' });
  // stdin and stdout /dev/null, stderr and fd 3 (the sync pipe) pipes to us, fd 4 the start
  // pipe. The spawn runs on a pool thread: the event loop goes on while conmon execs.
  let shim: Shim;
  try {
    shim = await span('start.create.spawn', o.id, () => spawnShimAsync(o.conmonPath, conmonArgs(o), env, o.persistDir, [NULL_FD, NULL_FD, PIPE_FD, PIPE_FD, WRITE_PIPE_FD]));
  } catch (e) {
    throw new RuntimeError(`cannot run conmon (${o.conmonPath}): ${(e as Error).message}`, { cause: e });
  }
  const [stderrPipe, sync, start] = [shim.pipes[2]!, shim.pipes[3]!, shim.pipes[4]!];
  start.on('error', () => undefined);
  // Read from now on: a conmon that fails before the start pipe (bad arguments) is reported.
  let exited = false;
  sync.once('close', () => { exited = true; });
  const reported = untilReported(o, stderrPipe, sync);
  reported.then(() => start.destroy(), () => start.destroy());
  let released = false;
  return {
    create() {
      if (!released) {
        released = true;
        start.end(Buffer.from([0]));
      }
      return reported;
    },
    abort() {
      if (released) return;
      released = true;
      // Still our unreaped child (it waits on the pipe) unless its sync pipe closed: it exited.
      if (!exited) {
        try { process.kill(shim.pid, 'SIGKILL'); } catch { /* gone */ }
      }
      start.destroy();
      reported.catch(() => undefined);
    },
  };
}

/** conmon's sync-pipe report: the container's init PID, or the runtime's error. */
function untilReported(o: ConmonSpawnOptions, stderrPipe: Readable, sync: Readable): Promise<{ pid: number }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let stderr = '';
    const timer = setTimeout(() => finish(new RuntimeError(`conmon: no report from the runtime after ${o.timeoutMs ?? 60000} ms`)), o.timeoutMs ?? 60000);
    timer.unref();

    function finish(err: Error | undefined, pid?: number): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      stderrPipe.destroy();
      if (err) reject(err);
      else resolve({ pid: pid as number });
    }

    stderrPipe.setEncoding('utf8');
    stderrPipe.on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
    stderrPipe.on('error', () => undefined);
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

/**
 * conmon's environment: the daemon's, without what would make conmon or the runtime think a
 * service manager or a parent of ours talks to them, plus `pipes` (which fd is which pipe).
 */
export function shimEnv(pipes: Record<string, string>): NodeJS.ProcessEnv {
  // process.env is read once: each read of it is a call into the runtime
  if (!baseEnv) {
    baseEnv = { ...process.env };
    for (const k of ['NOTIFY_SOCKET', 'LISTEN_PID', 'LISTEN_FDS', '_OCI_SYNCPIPE', '_OCI_STARTPIPE', '_OCI_ATTACHPIPE']) delete baseEnv[k];
  }
  return { ...baseEnv, ...pipes };
}
let baseEnv: NodeJS.ProcessEnv | undefined;

/** fds for spawnShimAsync: the child's fd is /dev/null, or a pipe whose other end is ours. */
export const NULL_FD = -1;
/** The child writes (stderr, the sync pipe); we get a readable end. */
export const PIPE_FD = -2;
/** The child reads (conmon's start pipe); we get a writable end. */
export const WRITE_PIPE_FD = -3;

/** A spawnShimAsync child: its PID and our end of each pipe slot (by child fd), null elsewhere. */
export interface Shim { pid: number; pipes: (net.Socket | null)[] }

/**
 * Starts a shim (conmon, which double-forks away at once) in a session of its own through
 * posix_spawn (native/spawn.c) on a libuv pool thread: child_process.spawn would fork the whole
 * daemon, and that fork costs the event loop more the more memory berthd has. `fds[i]` is child
 * fd i (NULL_FD, PIPE_FD, WRITE_PIPE_FD, or one of ours), and ours must stay open until it
 * settles. The first process is reaped once it exits.
 */
export async function spawnShimAsync(path: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, fds: number[]): Promise<Shim> {
  return shimOf(await loadNative().spawnDetachedAsync(path, [path, ...args], envpOf(env), cwd, fds), fds);
}

function envpOf(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
}

function shimOf([pid, ...ends]: number[], fds: number[]): Shim {
  reap(pid);
  const pipes = ends.map((fd, i) => {
    if (fd < 0) return null;
    const reads = fds[i] === PIPE_FD;
    return new net.Socket({ fd, readable: reads, writable: !reads });
  });
  return { pid, pipes };
}

/** Collects a spawnShimAsync child's exit (conmon's first process exits right after its fork). */
function reap(pid: number, delayMs = 5): void {
  if (loadNative().waitpidNohang(pid) !== -1) return;
  setTimeout(() => reap(pid, Math.min(delayMs * 2, 1000)), delayMs).unref();
}
