// The Runtime: OCI bundles, conmon as shim, runc (or a compatible runtime) as the runtime.
//
// Layout under execRoot (one per daemon; several daemons can share a host):
//   <execRoot>/runc/           the runtime's state root (--root), so daemons never clash
//   <execRoot>/exits/<id>      conmon's exit file (exit code as text; mtime = exit time)
//   <execRoot>/shim/<id>/      conmon's persist dir and cwd: exit, oom, pidfile, conmon.pid, task.json
// conmon's attach socket and ctl/winsz fifos live in the bundle dir.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type {
  AttachStream, ContainerSpecInput, CreateTaskOptions, ExecTask, ExecTaskOptions, ExitStatus, Runtime, RuntimeConfig, RuntimeState,
} from './types';
import type { ResourceLimits } from './types';
import { ConmonExecTask } from './exec';
import { buildSpec, serializeSpec } from './spec';
import * as runc from './runc';
import { fastPathsEnabled, fastPathsFor, type FastPaths } from './fastpaths';
import { spawnConmon } from './conmon';
import { clampWinsize, writeCtl, WIN_RESIZE_EVENT } from './ctl';
import { prepareLog, generationPath } from './logfiles';
import { spawnLogWriter, type LogWriter } from './logwriter';
import { ConmonAttachStream } from './attach';
import { isFrozen, wasOomKilled } from './cgroups';
import { ConflictError, NotFoundError } from '../lib/errors';
import { RuntimeError } from './errors';
import { crunInDockerTerms } from './crun';
import { span } from '../lib/trace';

export interface OciRuntimeOptions {
  conmonPath: string;
  execRoot: string;
  /** Do the runtime's start, kill and delete-of-a-stopped-container in-process where it is safe (runc 1.1, crun 1.8). Default true. */
  fastPaths?: boolean;
}

/** What we remember about a task across daemon restarts (shim/<id>/task.json). */
interface TaskRecord {
  bundleDir: string;
  cgroupsPath?: string;
}

/** Every this many rounds of the exit poll, every waiter's exit file is read. */
const FULL_POLL_ROUNDS = 30;

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new RuntimeError(`invalid container id: ${JSON.stringify(id)}`);
}

/** A failed create's runtime text in Docker's words, with what the bundle says of its process and mounts. */
async function inDockerTerms(e: RuntimeError, bundleDir: string): Promise<RuntimeError> {
  const spec = await fsp.readFile(path.join(bundleDir, 'config.json'), 'utf8').then((t) => JSON.parse(t) as OciSpecPart, () => undefined);
  const root = spec?.root?.path;
  const ctx = { op: 'create' as const, args: spec?.process?.args, cwd: spec?.process?.cwd, mounts: spec?.mounts, rootfs: root && path.resolve(bundleDir, root) };
  const msg = crunInDockerTerms(e.message, ctx);
  return msg === e.message ? e : new RuntimeError(msg, { cause: e });
}

interface OciSpecPart { root?: { path?: string }; process?: { args?: string[]; cwd?: string }; mounts?: { destination: string; source?: string }[] }

export class OciRuntime implements Runtime {
  readonly conmonPath: string;
  readonly execRoot: string;
  readonly runtimeRoot: string;
  readonly exitDir: string;
  readonly shimDir: string;
  readonly fastPaths: boolean;

  private dirsReady: Promise<void> | undefined;
  private tasks = new Map<string, TaskRecord>();
  private bundleCgroups = new Map<string, string>();
  private waiters = new Map<string, { resolve: (s: ExitStatus) => void; reject: (e: Error) => void }[]>();
  private watcher: fs.FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollRound = 0;
  /** The shim PIDs of waited-for tasks, once shimAlive has confirmed them. */
  private shimPids = new Map<string, number>();

  constructor(opts: OciRuntimeOptions) {
    this.conmonPath = opts.conmonPath;
    this.execRoot = path.resolve(opts.execRoot);
    this.runtimeRoot = path.join(this.execRoot, 'runc');
    this.exitDir = path.join(this.execRoot, 'exits');
    this.shimDir = path.join(this.execRoot, 'shim');
    this.fastPaths = opts.fastPaths ?? fastPathsEnabled();
  }

  private ensureDirs(): Promise<void> {
    if (!this.dirsReady) {
      this.dirsReady = Promise.all([
        fsp.mkdir(this.runtimeRoot, { recursive: true, mode: 0o700 }),
        fsp.mkdir(this.exitDir, { recursive: true, mode: 0o700 }),
        fsp.mkdir(this.shimDir, { recursive: true, mode: 0o700 }),
      ]).then(() => undefined, (e) => { this.dirsReady = undefined; throw e; });
    }
    return this.dirsReady;
  }

  private persistDir(id: string): string { return path.join(this.shimDir, id); }
  private exitFile(id: string): string { return path.join(this.exitDir, id); }
  private logFifo(id: string): string { return path.join(this.persistDir(id), 'log.fifo'); }

  private async task(id: string): Promise<TaskRecord> {
    const cached = this.tasks.get(id);
    if (cached) return cached;
    let rec: TaskRecord;
    try {
      rec = JSON.parse(await fsp.readFile(path.join(this.persistDir(id), 'task.json'), 'utf8')) as TaskRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no task for container ${id}`);
      throw e;
    }
    this.tasks.set(id, rec);
    return rec;
  }

  // ---- Runtime ------------------------------------------------------------------------------

  async writeBundle(bundleDir: string, input: ContainerSpecInput): Promise<void> {
    const spec = buildSpec(input);
    await fsp.mkdir(bundleDir, { recursive: true, mode: 0o700 });
    await fsp.writeFile(path.join(bundleDir, 'config.json'), serializeSpec(spec), { mode: 0o600 });
    this.bundleCgroups.set(path.resolve(bundleDir), input.cgroupsPath);
  }

  async create(opts: CreateTaskOptions): Promise<{ pid: number }> {
    checkId(opts.id);
    // the runtime's version probe (once per binary) runs while conmon creates, ready for start
    if (this.fastPaths) void fastPathsFor(opts.runtime);
    await this.ensureDirs();
    const bundleDir = path.resolve(opts.bundleDir);
    const persist = this.persistDir(opts.id);
    let cgroupsPath = this.bundleCgroups.get(bundleDir);
    if (cgroupsPath === undefined) {
      try {
        const cfg = JSON.parse(await fsp.readFile(path.join(bundleDir, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
        cgroupsPath = cfg.linux?.cgroupsPath;
      } catch (e) {
        throw new RuntimeError(`cannot read ${bundleDir}/config.json: ${(e as Error).message}`, { cause: e });
      }
    }
    // A leftover exit file of an earlier run of the same id would end waitExit at once.
    const [, , gen] = await span('start.create.files', opts.id, () => Promise.all([
      fsp.rm(this.exitFile(opts.id), { force: true }),
      fsp.rm(persist, { recursive: true, force: true }).then(() => fsp.mkdir(persist, { mode: 0o700 })),
      opts.logDriver === 'none' ? Promise.resolve(0) : prepareLog(opts.logPath),
    ]));
    const rec: TaskRecord = { bundleDir, cgroupsPath };
    await fsp.writeFile(path.join(persist, 'task.json'), JSON.stringify(rec));
    this.tasks.set(opts.id, rec);
    this.bundleCgroups.delete(bundleDir);
    // A log that rotates goes through berth-logwriter's FIFO; any other straight to its file.
    let writer: LogWriter | undefined;
    let conmonLog = opts.logPath;
    if (opts.logDriver !== 'none') {
      if (opts.logRotation) {
        conmonLog = this.logFifo(opts.id);
        writer = await spawnLogWriter(conmonLog, opts.logPath, opts.logRotation);
        await fsp.writeFile(path.join(persist, 'logwriter.pid'), String(writer.pid));
      } else {
        conmonLog = generationPath(opts.logPath, gen);
      }
    }
    try {
      return await span('start.create.shim', opts.id, () => spawnConmon({
        conmonPath: this.conmonPath,
        id: opts.id,
        bundleDir,
        runtimePath: opts.runtime.path,
        // `--root=<dir>` in one word: conmon passes each --runtime-arg through as one argv entry
        runtimeArgs: [`--root=${this.runtimeRoot}`, ...(opts.runtime.args ?? [])],
        persistDir: persist,
        exitDir: this.exitDir,
        containerPidFile: path.join(persist, 'pidfile'),
        conmonPidFile: path.join(persist, 'conmon.pid'),
        logPath: conmonLog,
        logDriver: opts.logDriver,
        terminal: opts.terminal,
        stdin: opts.openStdin,
        leaveStdinOpen: !opts.stdinOnce,
      }));
    } catch (e) {
      // conmon may have failed before it opened the FIFO: the writer would wait for it forever.
      writer?.kill();
      throw e instanceof RuntimeError ? await inDockerTerms(e, bundleDir) : e;
    }
  }

  async start(id: string, runtime: RuntimeConfig): Promise<void> {
    const fast = await this.fastPathsOf(runtime);
    if (fast && (await fast.start(this.runtimeRoot, id))) return;
    await runc.start(runtime, this.runtimeRoot, id);
  }

  /** The runtime's fast paths: unless turned off, for the versions they were written against. */
  private async fastPathsOf(runtime: RuntimeConfig): Promise<FastPaths | undefined> {
    return this.fastPaths ? fastPathsFor(runtime) : undefined;
  }

  async kill(id: string, signal: number, runtime: RuntimeConfig): Promise<void> {
    // In-process for a running task (one runtime process less per stop and rm -f); a frozen
    // one goes to the runtime, which thaws it for SIGKILL.
    const fast = await this.fastPathsOf(runtime);
    if (fast && !(await this.frozen(id)) && (await fast.killInit(this.runtimeRoot, id, signal))) return;
    await runc.kill(runtime, this.runtimeRoot, id, signal);
  }

  /** Whether the task's cgroup is frozen (paused); unknown counts as frozen. */
  private async frozen(id: string): Promise<boolean> {
    const cgroupsPath = await this.task(id).then((t) => t.cgroupsPath, () => undefined);
    return cgroupsPath === undefined || isFrozen(cgroupsPath);
  }

  // crun 1.8 freezes a frozen cgroup again and thaws a thawed one without a word; runc refuses both
  async pause(id: string, runtime: RuntimeConfig): Promise<void> {
    if (await this.frozenKnown(id, true)) throw new ConflictError(`cannot pause container ${id}: it is already paused`);
    await runc.pause(runtime, this.runtimeRoot, id);
  }

  async resume(id: string, runtime: RuntimeConfig): Promise<void> {
    if (await this.frozenKnown(id, false)) throw new ConflictError(`cannot resume container ${id}: it is not paused`);
    await runc.resume(runtime, this.runtimeRoot, id);
  }

  /** Whether the task's cgroup is known to be frozen (`frozen`) or known to be thawed (!`frozen`). */
  private async frozenKnown(id: string, frozen: boolean): Promise<boolean> {
    const cgroupsPath = await this.task(id).then((t) => t.cgroupsPath, () => undefined);
    return cgroupsPath !== undefined && (await isFrozen(cgroupsPath)) === frozen;
  }

  async delete(id: string, runtime: RuntimeConfig, force = false): Promise<void> {
    const fast = await this.fastPathsOf(runtime);
    if (fast && (await fast.deleteStopped(this.runtimeRoot, id))) return;
    await runc.remove(runtime, this.runtimeRoot, id, force);
  }

  async state(id: string, runtime: RuntimeConfig): Promise<RuntimeState | undefined> {
    // At daemon start every running container is asked at once: answer from the shim's own
    // records and /proc where they are conclusive, instead of one runtime process each.
    if (this.fastPaths) {
      const known = await this.stateFromShim(id, (await fastPathsFor(runtime)) !== undefined).catch(() => undefined);
      if (known) return known;
    }
    return runc.state(runtime, this.runtimeRoot, id);
  }

  /** conmon's exit file says stopped for any runtime; telling created from running needs the exec.fifo of runc and crun. */
  private async stateFromShim(id: string, fifoLayout: boolean): Promise<RuntimeState | undefined> {
    if (await fsp.access(this.exitFile(id)).then(() => true, () => false)) return { status: 'stopped', pid: 0 };
    if (!fifoLayout) return undefined;
    const pid = parseInt(await fsp.readFile(path.join(this.persistDir(id), 'pidfile'), 'utf8'), 10);
    if (!(pid > 0)) return undefined;
    // The PID must still be this container's process (not a reused PID): check its cgroup.
    const cgroups = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!cgroups.includes(id)) return undefined;
    // runc's and crun's exec fifo exists from create until start: the init is still waiting.
    if (await fsp.access(path.join(this.runtimeRoot, id, 'exec.fifo')).then(() => true, () => false)) return { status: 'created', pid };
    const { cgroupsPath } = await this.task(id);
    if (!cgroupsPath) return undefined;
    return { status: (await isFrozen(cgroupsPath)) ? 'paused' : 'running', pid };
  }

  pids(id: string, runtime: RuntimeConfig): Promise<number[]> {
    return runc.ps(runtime, this.runtimeRoot, id);
  }

  /** Resolves once conmon has accepted the connection: a start after it loses no output. */
  async attach(id: string, opts: { stdin: boolean }): Promise<AttachStream> {
    const t = await this.task(id);
    try {
      return await ConmonAttachStream.open(path.join(t.bundleDir, 'attach'), opts);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ECONNRESET: conmon closed its socket (the container exited) before accepting us.
      if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET') {
        throw new ConflictError(`container ${id} is not running (no shim to attach to)`, { cause: e });
      }
      throw new RuntimeError(`attach to ${id}: ${(e as Error).message}`, { cause: e });
    }
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const t = await this.task(id);
    if (!(await writeCtl(path.join(t.bundleDir, 'ctl'), WIN_RESIZE_EVENT, clampWinsize(height), clampWinsize(width)))) {
      throw new ConflictError(`container ${id} is not running`);
    }
  }

  async readExit(id: string): Promise<ExitStatus | undefined> {
    const file = this.exitFile(id);
    let text: string;
    let st: fs.Stats;
    try {
      [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const code = parseInt(text.trim(), 10);
    return { exitCode: Number.isFinite(code) ? code : 255, exitedAt: st.mtime, oomKilled: await this.oomKilled(id) };
  }

  /** conmon's oom marker, or the memory cgroup's oom_kill counter (until `runc delete`). */
  private async oomKilled(id: string): Promise<boolean> {
    const marker = path.join(this.persistDir(id), 'oom');
    if (fs.existsSync(marker)) return true;
    let cgroupsPath: string | undefined;
    try {
      cgroupsPath = (await this.task(id)).cgroupsPath;
    } catch {
      return false;
    }
    if (!cgroupsPath) return false;
    if (await wasOomKilled(cgroupsPath)) {
      // remember it: the cgroup is gone after `runc delete`
      await fsp.writeFile(marker, '').catch(() => undefined);
      return true;
    }
    return false;
  }

  waitExit(id: string): Promise<ExitStatus> {
    return new Promise<ExitStatus>((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
      this.ensureDirs().then(() => {
        this.startWatching();
        this.check(id);
      }, reject);
    });
  }

  private startWatching(): void {
    if (!this.watcher) {
      try {
        this.watcher = fs.watch(this.exitDir, { persistent: true }, (_ev, name) => {
          if (name && this.waiters.has(String(name))) this.check(String(name));
        });
        this.watcher.on('error', () => this.stopWatching());
      } catch {
        this.watcher = undefined; // the interval below still finds exits
      }
    }
    this.watcher?.ref();
    if (!this.pollTimer) {
      // Safety net for dropped inotify events and for shims that died without an exit file.
      // Each second costs one kill(0) per waiter: conmon exits once it has written the exit
      // file, so only a shim that is gone is looked at further. Every FULL_POLL_ROUNDS-th
      // round looks at every waiter (a conmon PID reused by another process).
      this.pollTimer = setInterval(() => {
        const full = ++this.pollRound % FULL_POLL_ROUNDS === 0;
        for (const id of this.waiters.keys()) if (full || !this.shimSeemsAlive(id)) this.check(id, true);
      }, 1000);
    }
  }

  /** kill(0) of the shim's PID as last read by shimAlive; false when not known yet. */
  private shimSeemsAlive(id: string): boolean {
    const pid = this.shimPids.get(id);
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private settle(id: string, status: ExitStatus): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    this.shimPids.delete(id);
    for (const w of list) w.resolve(status);
    if (this.waiters.size === 0) {
      // keep the watcher (cheap) but let the process exit when nothing waits
      this.watcher?.unref();
      if (this.pollTimer) clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private check(id: string, probeShim = false): void {
    this.readExit(id).then(async (st) => {
      if (st) {
        // The log is complete before the exit is reported (`docker logs` right after a run).
        if (await this.logWriterBusy(id)) {
          setTimeout(() => this.check(id), 10).unref();
          return;
        }
        this.settle(id, st);
        return;
      }
      if (probeShim && !(await this.shimAlive(id))) {
        // conmon died (killed) without writing the exit file: read once more, then give up.
        const again = await this.readExit(id);
        this.settle(id, again ?? { exitCode: 255, exitedAt: new Date(), oomKilled: await this.oomKilled(id) });
      }
    }).catch((e: Error) => {
      const list = this.waiters.get(id);
      this.waiters.delete(id);
      this.shimPids.delete(id);
      for (const w of list ?? []) w.reject(e);
    });
  }

  /** berth-logwriter still writes what conmon left in its FIFO (it removes the FIFO when done). */
  private async logWriterBusy(id: string): Promise<boolean> {
    if (!(await fsp.access(this.logFifo(id)).then(() => true, () => false))) return false;
    const pid = parseInt(await fsp.readFile(path.join(this.persistDir(id), 'logwriter.pid'), 'utf8').catch(() => ''), 10);
    if (!(pid > 0)) return false;
    const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    // A zombie has an empty cmdline: it is done.
    return cmd.includes(this.logFifo(id));
  }

  private async shimAlive(id: string): Promise<boolean> {
    let pid: number;
    try {
      pid = parseInt(await fsp.readFile(path.join(this.persistDir(id), 'conmon.pid'), 'utf8'), 10);
    } catch {
      // no pid file: the shim is being started, or was never started here; keep waiting
      return true;
    }
    if (!Number.isFinite(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    // the PID may have been reused: check it is still conmon
    try {
      const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(id)) return false;
    } catch {
      return false;
    }
    if (this.waiters.has(id)) this.shimPids.set(id, pid);
    return true;
  }

  /** The conmon PID of a task (for adoption after a daemon restart), if it still runs. */
  async shimPid(id: string): Promise<number | undefined> {
    if (!(await this.shimAlive(id))) return undefined;
    try {
      return parseInt(await fsp.readFile(path.join(this.persistDir(id), 'conmon.pid'), 'utf8'), 10);
    } catch {
      return undefined;
    }
  }

  async cleanup(id: string): Promise<void> {
    let bundleDir: string | undefined;
    try {
      bundleDir = (await this.task(id)).bundleDir;
    } catch { /* no record */ }
    this.tasks.delete(id);
    const rm = (p: string) => fsp.rm(p, { recursive: true, force: true });
    await Promise.all([
      rm(this.exitFile(id)),
      rm(this.persistDir(id)),
      ...(bundleDir ? ['attach', 'ctl', 'winsz'].map((f) => rm(path.join(bundleDir as string, f))) : []),
    ]);
  }

  async taskIds(): Promise<string[]> {
    // A shim dir is made before the runtime's create and removed by cleanup, after its delete.
    return fsp.readdir(this.shimDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
  }

  /** Runs a process in a running container through conmon's exec mode; <execRoot>/execs/<execId> is its dir. */
  exec(opts: ExecTaskOptions): ExecTask {
    checkId(opts.containerId);
    checkId(opts.execId);
    const execDir = path.join(this.execRoot, 'execs', opts.execId);
    const task = new ConmonExecTask({
      conmonPath: this.conmonPath, containerId: opts.containerId, execId: opts.execId, execDir,
      runtimePath: opts.runtime.path, runtimeArgs: [`--root=${this.runtimeRoot}`, ...(opts.runtime.args ?? [])],
      process: opts.process, terminal: opts.terminal, attach: opts.attach, stdin: opts.stdin, go: opts.go,
    });
    void task.run();
    return task;
  }

  update(id: string, resources: ResourceLimits, runtime: RuntimeConfig): Promise<void> {
    return runc.update(runtime, this.runtimeRoot, id, resources);
  }

  /** Stops the exit watcher (for tests and daemon shutdown). */
  close(): void {
    this.stopWatching();
    for (const [, list] of this.waiters) for (const w of list) w.reject(new RuntimeError('runtime closed'));
    this.waiters.clear();
    this.shimPids.clear();
  }
}
