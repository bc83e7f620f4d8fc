// Starting conmon, the per-container shim. conmon double-forks and calls setsid, so it outlives
// berthd; it runs `<runtime> create`, reports the container PID (or the runtime's error) on the
// sync pipe, copies stdio to the k8s-file log (a file, or berth-logwriter's FIFO when the log
// rotates) and to attach sockets, and writes the exit file.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { RuntimeError } from './errors';
import { runtimeMessage } from './runc';
import { syncMessages } from './syncpipe';

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
  return new Promise((resolve, reject) => {
    let settled = false;
    let stderr = '';
    const child = spawn(o.conmonPath, conmonArgs(o), {
      cwd: o.persistDir,
      env,
      // fd 3 is the sync pipe (a socketpair here; conmon only write()s to it).
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const sync = child.stdio[3] as Readable;
    const timer = setTimeout(() => finish(new RuntimeError(`conmon: no report from the runtime after ${o.timeoutMs ?? 60000} ms`)), o.timeoutMs ?? 60000);
    timer.unref();

    function finish(err: Error | undefined, pid?: number): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      child.stderr?.destroy();
      if (err) reject(err);
      else resolve({ pid: pid as number });
    }

    child.on('error', (e) => finish(new RuntimeError(`cannot run conmon (${o.conmonPath}): ${e.message}`, { cause: e })));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
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
