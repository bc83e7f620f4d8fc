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
  AttachStream, ContainerSpecInput, CreateTaskOptions, ExecTask, ExecTaskOptions, ExitStatus, Runtime, RuntimeConfig, RuntimeState, StagedTask,
} from './types';
import type { ResourceLimits } from './types';
import { ConmonExecTask } from './exec';
import { buildSpec, serializeSpec } from './spec';
import * as runc from './runc';
import { fastPathsEnabled, fastPathsFor, type FastPaths } from './fastpaths';
import { stageConmon, type StagedConmon } from './conmon';
import { writeWinsize } from './ctl';
import { prepareLog, generationPath } from './logfiles';
import { spawnLogWriter, type LogWriter } from './logwriter';
import { ConmonAttachStream } from './attach';
import { isFrozen, oomCounterFile, oomKillsIn, wasOomKilled } from './cgroups';
import { readSmallFileSync } from '../lib/sys/smallfile';
import { ConflictError, NotFoundError } from '../lib/errors';
import { RuntimeError } from './errors';
import { crunInDockerTerms } from './crun';
import { span } from '../lib/trace';
import { readSmallFiles, removeTrees } from '../lib/sys/fsbatch';
import { sealedBinaryPath } from './sealedBinary';
import { cgroupLock } from './cgroupLock';

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
  /** The task.json writers of staged tasks, by bundle dir (writeBundle calls them). */
  private stagedRecords = new Map<string, (cgroupsPath: string | undefined) => Promise<void>>();
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
      // read synchronously: a small file on the exec root, and at daemon start every running
      // container's is read at once (a promise read is four pool trips)
      rec = JSON.parse(fs.readFileSync(path.join(this.persistDir(id), 'task.json'), 'utf8')) as TaskRecord;
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
    const dir = path.resolve(bundleDir);
    // A task staged on this bundle gets its task.json beside the config.json.
    const writeRecord = this.stagedRecords.get(dir);
    await Promise.all([
      fsp.mkdir(bundleDir, { recursive: true, mode: 0o700 })
        .then(() => fsp.writeFile(path.join(bundleDir, 'config.json'), serializeSpec(spec), { mode: 0o600 })),
      writeRecord?.(input.cgroupsPath),
    ]);
    if (!writeRecord) this.bundleCgroups.set(dir, input.cgroupsPath);
  }

  async create(opts: CreateTaskOptions): Promise<{ pid: number }> {
    return (await this.stageCreate(opts)).create();
  }

  async stageCreate(opts: CreateTaskOptions): Promise<StagedTask> {
    checkId(opts.id);
    // the runtime's version probe (once per binary) runs while conmon creates, ready for start
    if (this.fastPaths) void fastPathsFor(opts.runtime);
    await this.ensureDirs();
    const bundleDir = path.resolve(opts.bundleDir);
    const persist = this.persistDir(opts.id);
    // A leftover exit file of an earlier run of the same id would end waitExit at once.
    const [, gen] = await span('start.create.files', opts.id, () => Promise.all([
      // (both removals in one pool job)
      removeTrees([this.exitFile(opts.id), persist]).then(() => fsp.mkdir(persist, { mode: 0o700 })),
      opts.logDriver === 'none' ? Promise.resolve(0) : prepareLog(opts.logPath),
    ]));
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
    let shim: StagedConmon;
    try {
      shim = await stageConmon({
        conmonPath: this.conmonPath,
        id: opts.id,
        bundleDir,
        // From the daemon's sealed copy: crun and runc then skip cloning themselves (a bind
        // mount and its detach, which waits out an RCU grace period, and a second exec).
        runtimePath: sealedBinaryPath(opts.runtime.path),
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
      });
    } catch (e) {
      writer?.kill();
      throw e;
    }
    // task.json, before the runtime runs (a task is never without its record): written by
    // writeBundle beside the config.json, or by create.
    let recorded: Promise<void> | undefined;
    const writeRecord = (cgroupsPath: string | undefined) => recorded ??= (async () => {
      const rec: TaskRecord = { bundleDir, cgroupsPath };
      await fsp.writeFile(path.join(persist, 'task.json'), JSON.stringify(rec));
      this.tasks.set(opts.id, rec);
    })();
    this.stagedRecords.set(bundleDir, writeRecord);
    let settled = false;
    const settle = () => {
      if (settled) throw new RuntimeError(`the task of ${opts.id} was already created or aborted`);
      settled = true;
      if (this.stagedRecords.get(bundleDir) === writeRecord) this.stagedRecords.delete(bundleDir);
    };
    return {
      create: async () => {
        settle();
        try {
          await (recorded ?? writeRecord(await this.cgroupsPathOf(bundleDir)));
          const created = span('start.create.shim', opts.id, () => shim.create());
          // the runtime moves the init into the container's cgroups: keep the lock warm meanwhile
          cgroupLock.hold(created);
          return await created;
        } catch (e) {
          shim.abort();
          // conmon may have failed before it opened the FIFO: the writer would wait for it forever.
          writer?.kill();
          throw e instanceof RuntimeError ? await inDockerTerms(e, bundleDir) : e;
        }
      },
      abort: () => {
        if (settled) return;
        settle();
        // (a bundle written before the stage got this far left its cgroupsPath for create)
        this.bundleCgroups.delete(bundleDir);
        shim.abort();
        writer?.kill();
      },
    };
  }

  /** The bundle's cgroupsPath: as writeBundle left it, else from its config.json. */
  private async cgroupsPathOf(bundleDir: string): Promise<string | undefined> {
    const known = this.bundleCgroups.get(bundleDir);
    this.bundleCgroups.delete(bundleDir);
    if (known !== undefined) return known;
    try {
      const cfg = JSON.parse(await fsp.readFile(path.join(bundleDir, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
      return cfg.linux?.cgroupsPath;
    } catch (e) {
      throw new RuntimeError(`cannot read ${bundleDir}/config.json: ${(e as Error).message}`, { cause: e });
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
    // the two reads side by side: the signal waits for one round trip to the pool, not two
    const [fast, frozen] = await Promise.all([this.fastPathsOf(runtime), this.frozen(id)]);
    if (fast && !frozen && (await fast.killInit(this.runtimeRoot, id, signal))) return;
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

  /**
   * conmon's exit file says stopped for any runtime; telling created from running needs the
   * exec.fifo of runc and crun. Synchronous reads (the exec root's small files, /proc): at daemon
   * start every running container is asked at once, and promise calls cost ~0.8 ms each of them.
   */
  private async stateFromShim(id: string, fifoLayout: boolean): Promise<RuntimeState | undefined> {
    if (fs.existsSync(this.exitFile(id))) return { status: 'stopped', pid: 0 };
    if (!fifoLayout) return undefined;
    const pid = parseInt(readSmallFileSync(path.join(this.persistDir(id), 'pidfile')) ?? '', 10);
    if (!(pid > 0)) return undefined;
    // The PID must still be this container's process (not a reused PID): check its cgroup.
    if (!(readSmallFileSync(`/proc/${pid}/cgroup`) ?? '').includes(id)) return undefined;
    // runc's and crun's exec fifo exists from create until start: the init is still waiting.
    if (fs.existsSync(path.join(this.runtimeRoot, id, 'exec.fifo'))) return { status: 'created', pid };
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
    if (!(await writeWinsize(t.bundleDir, height, width))) {
      throw new ConflictError(`container ${id} is not running`);
    }
  }

  async readExit(id: string): Promise<ExitStatus | undefined> {
    return (await this.readExitFiles(id))?.status;
  }

  /**
   * The exit file (its mtime is the exit time), conmon's oom marker, the memory cgroup's OOM
   * counter and the log writer's pid file, in one read; undefined while there is no exit file.
   */
  private async readExitFiles(id: string): Promise<{ status: ExitStatus; logWriterPid?: string } | undefined> {
    const cgroupsPath = this.tasks.get(id)?.cgroupsPath;
    const [exit, marker, writer, counter] = await readSmallFiles([
      this.exitFile(id), this.oomMarker(id), path.join(this.persistDir(id), 'logwriter.pid'),
      ...(cgroupsPath ? [oomCounterFile(cgroupsPath)] : []),
    ], 4096);
    if (!exit) return undefined;
    const code = parseInt(exit.text.trim(), 10);
    let oomKilled = marker !== undefined;
    if (!oomKilled && cgroupsPath) {
      oomKilled = oomKillsIn(counter?.text);
      if (oomKilled) await this.rememberOomKill(id);
    } else if (!oomKilled) {
      oomKilled = await this.cgroupOomKilled(id); // the task's record not read yet (after a restart)
    }
    return { status: { exitCode: Number.isFinite(code) ? code : 255, exitedAt: new Date(Math.round(exit.mtimeMs)), oomKilled }, logWriterPid: writer?.text };
  }

  private oomMarker(id: string): string { return path.join(this.persistDir(id), 'oom'); }

  /** An OOM kill the cgroup counted, kept as conmon's marker: the cgroup is gone after the runtime's delete. */
  private async rememberOomKill(id: string): Promise<void> {
    await fsp.writeFile(this.oomMarker(id), '').catch(() => undefined);
  }

  /** conmon's oom marker, or the memory cgroup's oom_kill counter (until `runc delete`). */
  private async oomKilled(id: string): Promise<boolean> {
    return fs.existsSync(this.oomMarker(id)) || this.cgroupOomKilled(id);
  }

  private async cgroupOomKilled(id: string): Promise<boolean> {
    let cgroupsPath: string | undefined;
    try {
      cgroupsPath = (await this.task(id)).cgroupsPath;
    } catch {
      return false;
    }
    if (!cgroupsPath) return false;
    if (await wasOomKilled(cgroupsPath)) {
      await this.rememberOomKill(id);
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
    this.readExitFiles(id).then(async (seen) => {
      if (seen) {
        // The log is complete before the exit is reported (`docker logs` right after a run).
        if (seen.logWriterPid !== undefined && (await this.logWriterBusy(id, seen.logWriterPid))) {
          setTimeout(() => this.check(id), 10).unref();
          return;
        }
        this.settle(id, seen.status);
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
  private async logWriterBusy(id: string, pidText: string): Promise<boolean> {
    if (!(await fsp.access(this.logFifo(id)).then(() => true, () => false))) return false;
    const pid = parseInt(pidText, 10);
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
    await removeTrees([
      this.exitFile(id),
      this.persistDir(id),
      ...(bundleDir ? ['attach', 'ctl', 'winsz'].map((f) => path.join(bundleDir as string, f)) : []),
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
