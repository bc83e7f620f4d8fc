// Running a process inside a running container through conmon's exec mode.
//
// conmon (2.1.x, API 1) with `--exec --exec-attach --exec-process-spec <file>` runs
// `<runtime> exec --pid-file .. --process <file> --detach [--tty --console-socket ..] <cid>`.
// The process joins every namespace and the cgroup of the container (that is what
// `runc exec` does). Three pipes talk to conmon (podman's protocol, conmon.c):
//   fd 3 _OCI_SYNCPIPE   conmon -> us: {"data": pid} once the process runs, or {"data": <0,
//                        "message": runtime stderr} when it could not start; then
//                        {"data": exit status} when it exits.
//   fd 4 _OCI_STARTPIPE  us -> conmon: one byte lets conmon go on (it reads it before its
//                        double fork); a second one lets it run the runtime (--exec-attach).
//   fd 5 _OCI_ATTACHPIPE conmon -> us: {"data": 0} once <execDir>/attach listens.
// Between the two start bytes we connect to the attach socket, so no output is lost.
// The session's attach socket and ctl/winsz fifos live in <execDir> (conmon's --bundle).
// conmon is started by posix_spawn (spawnShim: the three are plain pipes), in a session of its
// own: it and the process outlive the daemon; the runtime runs from its sealed copy
// (sealedBinary.ts) while the cgroup lock is kept warm (cgroupLock.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { syncMessages } from './syncpipe';
import { DeferredStdio } from './deferredStdio';
import { ConmonAttachStream } from './attach';
import { clampWinsize, writeCtl, WIN_RESIZE_EVENT } from './ctl';
import { RuntimeError } from './errors';
import { runtimeMessage } from './runc';
import { cgroupLock } from './cgroupLock';
import { sealedBinaryPath } from './sealedBinary';
import { NULL_FD, PIPE_FD, WRITE_PIPE_FD, shimEnv, spawnShim } from './conmon';
import { processSpec, serializeSpec } from './spec';
import { spanSince } from '../lib/trace';
import type { ExecTask, RuntimeProcess } from './types';

export interface ConmonExecOptions {
  conmonPath: string;
  containerId: string;
  execId: string;
  /** Private directory of this exec session (process.json, pidfile, attach socket, fifos). */
  execDir: string;
  runtimePath: string;
  runtimeArgs: string[];
  process: RuntimeProcess;
  /** Connect to the session's stdio (output events, stdin when `stdin`). */
  attach: boolean;
  stdin: boolean;
  timeoutMs?: number;
}

export function conmonExecArgs(o: ConmonExecOptions): string[] {
  const d = o.execDir;
  const args = [
    '--api-version', '1',
    '--cid', o.containerId,
    '--cuuid', o.execId,
    '--name', o.execId,
    '--runtime', o.runtimePath,
    '--bundle', d,
    '--full-attach',
    '--container-pidfile', path.join(d, 'pidfile'),
    '--conmon-pidfile', path.join(d, 'conmon.pid'),
    '--exit-dir', d,
    '--persist-dir', d,
    '--log-path', 'none',
    '--no-sync-log',
    '--exec', '--exec-attach',
    '--exec-process-spec', path.join(d, 'process.json'),
  ];
  if (o.process.terminal) args.push('--terminal');
  if (o.stdin) args.push('--stdin');
  for (const a of o.runtimeArgs) args.push(`--runtime-arg=${a}`);
  return args;
}

/** One exec session driven by conmon. See ExecTask in types.ts. */
export class ConmonExecTask extends DeferredStdio implements ExecTask {
  readonly started: Promise<number>;
  readonly exited: Promise<number>;
  pid = 0;
  private stream: ConmonAttachStream | undefined;
  private resolveStarted!: (pid: number) => void;
  private rejectStarted!: (e: Error) => void;
  private resolveExited!: (code: number) => void;
  private startSettled = false;
  private exitSettled = false;
  private outputEnded = false;

  constructor(private readonly o: ConmonExecOptions) {
    super(o.stdin);
    this.started = new Promise<number>((res, rej) => { this.resolveStarted = res; this.rejectStarted = rej; });
    this.exited = new Promise<number>((res) => { this.resolveExited = res; });
    // a start failure is reported through `started`; `exited` then resolves with -1
    this.started.catch(() => undefined);
    ownDirs.add(o.execDir);
    void this.exited.then(() => removeExecDir(o.execDir)).finally(() => ownDirs.delete(o.execDir));
  }

  /** Writes the process spec and spawns conmon. */
  async run(): Promise<void> {
    const o = this.o;
    // the runtime moves the process into the container's cgroups in 10-20 ms: warm the lock
    cgroupLock.hold(this.started);
    sweepOrphanExecDirs(path.dirname(o.execDir));
    let t = process.hrtime.bigint();
    try {
      // A few hundred bytes into the exec root: written in place, the pool's round trips cost more.
      fs.mkdirSync(o.execDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(o.execDir, 'process.json'), serializeSpec(processSpec(o.process)), { mode: 0o600 });
    } catch (e) {
      this.failStart(new RuntimeError(`exec: cannot prepare ${o.execDir}: ${(e as Error).message}`, { cause: e }));
      return;
    }
    spanSince('exec.prepare', o.execId, t);
    t = process.hrtime.bigint();
    let stderrPipe: Readable;
    let sync: Readable;
    let start: Writable;
    let attachPipe: Readable;
    try {
      // fd 2 conmon's stderr, 3 the sync pipe, 4 the start pipe (we write), 5 the attach pipe.
      const args = conmonExecArgs({ ...o, runtimePath: sealedBinaryPath(o.runtimePath) });
      const { pipes } = spawnShim(o.conmonPath, args, shimEnv({ _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' }),
        o.execDir, [NULL_FD, NULL_FD, PIPE_FD, PIPE_FD, WRITE_PIPE_FD, PIPE_FD]);
      [stderrPipe, sync, start, attachPipe] = [pipes[2]!, pipes[3]!, pipes[4]!, pipes[5]!];
    } catch (e) {
      this.failStart(new RuntimeError(`cannot run conmon (${o.conmonPath}): ${(e as Error).message}`, { cause: e }));
      return;
    }
    spanSince('exec.spawn', o.execId, t);
    t = process.hrtime.bigint();
    let stderr = '';
    const timer = setTimeout(() => this.failStart(new RuntimeError(`conmon: no report from the runtime after ${o.timeoutMs ?? 60000} ms`)), o.timeoutMs ?? 60000);
    timer.unref();
    const closePipes = () => {
      clearTimeout(timer);
      sync.destroy();
      start.destroy();
      attachPipe.destroy();
      stderrPipe.destroy();
    };
    stderrPipe.setEncoding('utf8');
    stderrPipe.on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
    for (const p of [stderrPipe, start, attachPipe]) p.on('error', () => undefined);

    let attached = false;
    syncMessages(attachPipe, () => {
      if (attached) return;
      attached = true;
      spanSince('exec.attachpipe', o.execId, t);
      t = process.hrtime.bigint();
      // The socket listens: connect, then let conmon run the runtime.
      try {
        if (o.attach) this.connect();
      } catch (e) {
        this.failStart(new RuntimeError(`exec attach: ${(e as Error).message}`, { cause: e }));
        closePipes();
        return;
      }
      start.write(Buffer.from([0]));
    }, () => undefined);

    let gotPid = false;
    syncMessages(sync, (m) => {
      if (!gotPid) {
        gotPid = true;
        if (m.data > 0) {
          spanSince('exec.pid', o.execId, t);
          t = process.hrtime.bigint();
          clearTimeout(timer);
          this.pid = m.data;
          this.startSettled = true;
          this.resolveStarted(m.data);
        } else {
          this.failStart(new RuntimeError(runtimeMessage(m.message ?? '', { op: 'exec', args: this.o.process.args, cwd: this.o.process.cwd }) || `runtime exec failed (${m.data})`));
          closePipes();
        }
        return;
      }
      spanSince('exec.exit', o.execId, t);
      this.settleExit(m.data);
      closePipes();
    }, () => undefined);
    sync.on('error', () => undefined);
    sync.on('close', () => {
      setImmediate(() => {
        if (!this.startSettled) {
          this.failStart(new RuntimeError(`conmon failed to exec in the container${stderr.trim() ? ': ' + stderr.trim() : ''}`));
        } else {
          // conmon went away without reporting the exit (killed): read its exit file, if any
          const code = readExitFile(o.execDir);
          this.settleExit(code ?? 137);
        }
        closePipes();
      });
    });
    start.write(Buffer.from([0]));
  }

  private connect(): void {
    const s = ConmonAttachStream.connect(path.join(this.o.execDir, 'attach'), { stdin: this.o.stdin });
    this.stream = s;
    s.on('stdout', (b: Buffer) => this.emit('stdout', b));
    s.on('stderr', (b: Buffer) => this.emit('stderr', b));
    s.on('error', () => undefined);
    s.on('end', () => this.endOutput());
    this.connectStdio(s);
  }

  private endOutput(): void {
    if (this.outputEnded) return;
    this.outputEnded = true;
    this.emit('end');
  }

  private failStart(e: Error): void {
    if (this.startSettled) return;
    this.startSettled = true;
    this.rejectStarted(e);
    this.stream?.close();
    this.endOutput();
    this.settleExit(-1);
  }

  private settleExit(code: number): void {
    if (this.exitSettled) return;
    this.exitSettled = true;
    this.resolveExited(code);
  }

  /** Detaches from the output (the process keeps running). */
  close(): void {
    this.stream?.close();
    this.endOutput();
  }

  async resize(height: number, width: number): Promise<void> {
    if (!this.o.process.terminal) return;
    // Not set up yet, or already gone: nothing to resize.
    await writeCtl(path.join(this.o.execDir, 'ctl'), WIN_RESIZE_EVENT, clampWinsize(height), clampWinsize(width)).catch(() => false);
  }

  kill(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    if (this.pid > 0 && !this.exitSettled) {
      try { process.kill(this.pid, signal); } catch { /* gone */ }
    }
  }
}

/**
 * Removes a finished session's directory: a handful of files (process.json, pid files, exit
 * files, fifos), no subdirectories: one readdir, the unlinks side by side, the rmdir (a
 * recursive fs.rm costs the event loop an lstat per entry as well).
 */
export async function removeExecDir(dir: string): Promise<void> {
  const gone = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
  try {
    // conmon may unlink its attach socket at the same moment
    await Promise.all((await fs.promises.readdir(dir)).map((name) => fs.promises.unlink(path.join(dir, name)).catch((e) => { if (!gone(e)) throw e; })));
    await fs.promises.rmdir(dir);
  } catch (e) {
    if (!gone(e)) await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Session dirs of this daemon's own tasks (running or just done). */
const ownDirs = new Set<string>();
const sweptRoots = new Set<string>();
const orphans = new Map<string, number>(); // dir -> its conmon's PID
let orphanTimer: NodeJS.Timeout | undefined;

/** conmon's PID for a session dir while that conmon runs, else undefined. */
function liveConmon(dir: string): number | undefined {
  try {
    const pid = parseInt(fs.readFileSync(path.join(dir, 'conmon.pid'), 'utf8'), 10);
    // the PID may have been reused: it is this session's conmon only if its arguments name the dir
    return pid > 0 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Session dirs left by an earlier daemon (a crash, or a restart while an exec ran: its conmon
 * lives on in a session of its own): removed at once when their conmon is gone, else once it
 * goes (checked each second). Runs once per exec root, at its first session.
 */
export function sweepOrphanExecDirs(execsDir: string): void {
  if (sweptRoots.has(execsDir)) return;
  sweptRoots.add(execsDir);
  let names: string[];
  try {
    names = fs.readdirSync(execsDir);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(execsDir, name);
    if (ownDirs.has(dir)) continue;
    const pid = liveConmon(dir);
    if (pid === undefined) void removeExecDir(dir);
    else orphans.set(dir, pid);
  }
  if (orphans.size > 0 && !orphanTimer) {
    orphanTimer = setInterval(() => {
      for (const [dir, pid] of orphans) {
        if (liveConmon(dir) === pid) continue;
        orphans.delete(dir);
        void removeExecDir(dir);
      }
      if (orphans.size === 0) { clearInterval(orphanTimer); orphanTimer = undefined; }
    }, 1000);
    orphanTimer.unref();
  }
}

function readExitFile(dir: string): number | undefined {
  try {
    const n = parseInt(fs.readFileSync(path.join(dir, 'exit'), 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
