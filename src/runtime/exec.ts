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
// conmon is started by posix_spawn on a pool thread (spawnShimAsync: the three are plain pipes),
// in a session of its own: it and the process outlive the daemon; the runtime runs from its
// sealed copy (sealedBinary.ts) while the cgroup lock is kept warm (cgroupLock.ts).
// A session can be started ahead (`go`): conmon starts and the process spec is written while
// the client is still on its way from exec create to exec start (conmon's start is ~4 ms of
// an exec's ~20); the second start byte waits for `go`. A session never let go is cancelled:
// conmon is killed before it runs the runtime.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { syncMessages } from './syncpipe';
import { DeferredStdio } from './deferredStdio';
import { ConmonAttachStream } from './attach';
import { writeWinsize } from './ctl';
import { RuntimeError } from './errors';
import { runtimeMessage } from './runc';
import { cgroupLock } from './cgroupLock';
import { sealedBinaryPath } from './sealedBinary';
import { NULL_FD, PIPE_FD, WRITE_PIPE_FD, shimEnv, spawnShimAsync, type Shim } from './conmon';
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
  /** The process, or its promise: conmon starts meanwhile; a rejection ends the session unstarted. */
  process: RuntimeProcess | Promise<RuntimeProcess>;
  /** Whether the process gets a terminal (its process.terminal): conmon's --terminal. */
  terminal: boolean;
  /** Connect to the session's stdio (output events, stdin when `stdin`). */
  attach: boolean;
  stdin: boolean;
  /** The process runs only once this resolves (see ExecTaskOptions.go); a rejection ends the session. */
  go?: Promise<void>;
  timeoutMs?: number;
}

export function conmonExecArgs(o: Omit<ConmonExecOptions, 'process'>): string[] {
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
    // no --exit-dir nor --persist-dir: the exit comes on the sync pipe (a conmon killed before
    // it reports writes no exit file either), and each exit file (a temp file and a rename)
    // costs every exec's end before that report
    '--log-path', 'none',
    '--no-sync-log',
    '--exec', '--exec-attach',
    '--exec-process-spec', path.join(d, 'process.json'),
  ];
  if (o.terminal) args.push('--terminal');
  if (o.stdin) args.push('--stdin');
  for (const a of o.runtimeArgs) args.push(`--runtime-arg=${a}`);
  return args;
}

/**
 * conmon's environment for an exec session: its three pipes, and the C locale (conmon loads
 * the locale's ~15 files at every start otherwise; it prints nothing a user reads).
 */
function execShimEnv(): NodeJS.ProcessEnv {
  return shimEnv({ _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5', LC_ALL: 'C' });
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
  /** The process once resolved (its spec is written). */
  private proc: RuntimeProcess | undefined;
  /** Set once the start byte that runs the runtime went to conmon: from then on there is no cancel. */
  private released = false;
  /** conmon had gone when that byte was written (EPIPE): the runtime never ran. */
  private startByteRefused = false;
  /** conmon's attach socket listens (it waits for the start byte). */
  private listening = false;
  private cancelled = false;
  /** The spawned conmon (its first process, which forks the one that stays), once spawned. */
  private shimPid = 0;
  private startByteSent = false;
  private closePipes: () => void = () => undefined;
  /** The removal of the dir of an earlier task of this session (one cancelled), if any. */
  private readonly previous: Promise<void> | undefined;
  /** Resolves once conmon is gone (its sync pipe closed), or was never spawned. */
  private readonly shimGone: Promise<void>;
  private resolveShimGone!: () => void;

  constructor(private readonly o: ConmonExecOptions) {
    super(o.stdin);
    this.started = new Promise<number>((res, rej) => { this.resolveStarted = res; this.rejectStarted = rej; });
    this.shimGone = new Promise<void>((res) => { this.resolveShimGone = res; });
    this.exited = new Promise<number>((res) => { this.resolveExited = res; });
    // a start failure is reported through `started`; `exited` then resolves with -1
    this.started.catch(() => undefined);
    // A session started anew after a cancel has the dir of the one cancelled: it waits for
    // that one's conmon to end and its dir to go.
    this.previous = ownDirs.get(o.execDir);
    const removal = Promise.all([this.exited, this.shimGone]).then(() => removeExecDir(o.execDir));
    ownDirs.set(o.execDir, removal);
    void removal.finally(() => { if (ownDirs.get(o.execDir) === removal) ownDirs.delete(o.execDir); });
  }

  /**
   * Spawns conmon (on a pool thread) and writes the process spec once the process resolves;
   * the runtime runs once conmon's attach socket listens, the spec is written and `go` resolved.
   */
  async run(): Promise<void> {
    const o = this.o;
    sweepOrphanExecDirs(path.dirname(o.execDir));
    if (this.previous) await this.previous;
    let t = process.hrtime.bigint();
    try {
      fs.mkdirSync(o.execDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      this.failStart(new RuntimeError(`exec: cannot prepare ${o.execDir}: ${(e as Error).message}`, { cause: e }));
      this.resolveShimGone();
      return;
    }
    let goAt = o.go ? 0n : t; // when the client's start let the process go
    let start: Writable | undefined;
    let readyAt = 0n; // when conmon listened with the spec written
    const go = () => {
      if (this.proc && this.listening && !readyAt) readyAt = process.hrtime.bigint();
      if (this.released || this.startSettled || !readyAt || !goAt) return;
      this.released = true;
      // early: conmon waited for the client that long; late: the client's start waited for conmon
      if (o.go) spanSince(readyAt <= goAt ? 'exec.early' : 'exec.late', o.execId, readyAt <= goAt ? readyAt : goAt);
      t = process.hrtime.bigint();
      // The socket listens: connect, then let conmon run the runtime.
      try {
        if (o.attach) this.connect();
      } catch (e) {
        this.released = false;
        this.cancel(new RuntimeError(`exec attach: ${(e as Error).message}`, { cause: e }));
        return;
      }
      start!.write(Buffer.from([0]), (e) => { if (e) this.startByteRefused = true; });
    };
    void Promise.resolve(o.process).then((p) => {
      if (this.startSettled) return;
      // the runtime moves the process into the container's cgroups in 10-20 ms: warm the lock
      // (from the process's resolution: a session started ahead may wait long for it)
      cgroupLock.hold(this.started);
      const t0 = process.hrtime.bigint();
      // A few hundred bytes into the exec root: written in place, the pool's round trips cost more.
      fs.writeFileSync(path.join(o.execDir, 'process.json'), serializeSpec(processSpec(p)), { mode: 0o600 });
      spanSince('exec.prepare', o.execId, t0);
      this.proc = p;
      go();
    }).catch((e: unknown) => this.cancel(e instanceof Error ? e : new RuntimeError(String(e))));
    o.go?.then(() => { goAt = process.hrtime.bigint(); go(); }, (e: unknown) => this.cancel(e instanceof Error ? e : new RuntimeError(String(e))));

    let pipes: Shim['pipes'];
    let shimPid: number;
    try {
      // fd 2 conmon's stderr, 3 the sync pipe, 4 the start pipe (we write), 5 the attach pipe.
      const args = conmonExecArgs({ ...o, runtimePath: sealedBinaryPath(o.runtimePath) });
      ({ pid: shimPid, pipes } = await spawnShimAsync(o.conmonPath, args, execShimEnv(), o.execDir, [NULL_FD, NULL_FD, PIPE_FD, PIPE_FD, WRITE_PIPE_FD, PIPE_FD]));
    } catch (e) {
      this.failStart(new RuntimeError(`cannot run conmon (${o.conmonPath}): ${(e as Error).message}`, { cause: e }));
      this.resolveShimGone();
      return;
    }
    const [stderrPipe, sync, attachPipe] = [pipes[2]!, pipes[3]!, pipes[5]!];
    start = pipes[4]!;
    this.shimPid = shimPid;
    spanSince('exec.spawn', o.execId, t);
    let stderr = '';
    const timer = setTimeout(() => {
      const e = new RuntimeError(`conmon: no report from the runtime after ${o.timeoutMs ?? 60000} ms`);
      if (!this.released) return this.cancel(e);
      this.failStart(e);
      this.closePipes();
    }, o.timeoutMs ?? 60000);
    timer.unref();
    this.closePipes = () => {
      clearTimeout(timer);
      sync.destroy();
      start!.destroy();
      attachPipe.destroy();
      stderrPipe.destroy();
    };
    stderrPipe.setEncoding('utf8');
    stderrPipe.on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
    for (const p of [stderrPipe, start, attachPipe]) p.on('error', () => undefined);

    syncMessages(attachPipe, () => {
      if (this.listening) return;
      this.listening = true;
      spanSince('exec.attachpipe', o.execId, t);
      if (this.cancelled) this.endConmon();
      else go();
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
          const p = this.proc;
          this.failStart(new RuntimeError(runtimeMessage(m.message ?? '', { op: 'exec', args: p?.args ?? [], cwd: p?.cwd ?? '/' }) || `runtime exec failed (${m.data})`));
          this.closePipes();
        }
        return;
      }
      spanSince('exec.exit', o.execId, t);
      this.settleExit(m.data);
      this.closePipes();
    }, () => undefined);
    sync.on('error', () => undefined);
    sync.on('close', () => {
      this.resolveShimGone();
      setImmediate(() => {
        if (!this.startSettled) {
          this.failStart(new RuntimeError(`conmon failed to exec in the container${stderr.trim() ? ': ' + stderr.trim() : ''}`));
        } else {
          // conmon went away without reporting the exit: killed
          this.settleExit(137);
        }
        this.closePipes();
      });
    });
    if (this.cancelled) return this.endConmon(); // cancelled while it was being spawned
    start.write(Buffer.from([0]));
    this.startByteSent = true;
  }

  /**
   * Ends a session whose process has not been let run. process.json goes first, so that no
   * runtime conmon may still start finds a process to run; then conmon goes: before its first
   * start byte it waits unforked (the spawned process is killed), after it the forked conmon
   * and the child that waits to exec the runtime are killed together (conmon's process group:
   * it calls setsid before that fork) once it listens. Our ends of its pipes stay open until
   * then: at EOF on the start pipe conmon would go on as if let go.
   */
  private cancel(e: Error): void {
    if (this.released || this.startSettled) return;
    this.cancelled = true;
    try { fs.unlinkSync(path.join(this.o.execDir, 'process.json')); } catch { /* not written yet */ }
    this.failStart(e);
    this.endConmon();
  }

  /** Kills a cancelled session's conmon where it is now (see cancel); its pipes close after. */
  private endConmon(): void {
    if (this.shimPid === 0) return; // still being spawned: run() comes back here
    if (!this.startByteSent) {
      try { process.kill(this.shimPid, 'SIGKILL'); } catch { /* gone */ }
      this.closePipes();
      return;
    }
    if (!this.listening) return; // the attach pipe's report comes back here
    void killConmonOf(this.o.execDir).finally(() => this.closePipes());
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

  get letRun(): boolean {
    return this.released && !this.startByteRefused;
  }

  /** Detaches from the output (the process keeps running). */
  close(): void {
    this.stream?.close();
    this.endOutput();
  }

  async resize(height: number, width: number): Promise<void> {
    if (!this.o.terminal) return;
    // Not set up yet, or already gone: nothing to resize.
    await writeWinsize(this.o.execDir, height, width).catch(() => false);
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

/** Session dirs of this daemon's own tasks (running or just done), each with its removal. */
const ownDirs = new Map<string, Promise<void>>();
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
 * Kills a session's conmon and its process group. Its PID file is written by the process
 * that forked it, which may come a moment after conmon's first report: looked for a while.
 */
async function killConmonOf(dir: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const pid = liveConmon(dir);
    if (pid !== undefined) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
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
