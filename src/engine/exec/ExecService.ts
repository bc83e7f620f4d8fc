// Exec sessions: processes run inside running containers. Records live in memory, as Docker
// keeps them: a session is listed in its container's ExecIDs while it runs, and its record is
// dropped shortly after the container stops (and at once when the container is removed).
import { ConflictError, InvalidParameterError, NotFoundError, errorMessage } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { log } from '../../lib/log';
import { ALL_CAPABILITIES } from '../../runtime/defaults';
import type { ExecTask, ExecTaskOptions, RuntimeProcess } from '../../runtime/types';
import { DeferredStdio } from '../../runtime/deferredStdio';
import { runtimeOf } from '../config';
import type { ContainerRecord } from '../containers/Container';
import type { ContainerService } from '../containers/ContainerService';
import { DEFAULT_PATH_ENV, mergeEnv } from '../containers/createConfig';
import { capabilitiesOf, noNewPrivilegesOf } from '../containers/spec';
import { resolveUserIn } from '../containers/user';
import { AccountFilesCache } from './accountFiles';
import { ExecTaskWithFallback } from './fallback';
import { SpareSessions } from './spares';
import { span } from '../../lib/trace';

/** What exec needs of the container side: records, the runtime, rootfs paths, events. */
export type ExecDeps = Pick<ContainerService, 'store' | 'runtime' | 'config' | 'layers' | 'publish' | 'lifecycle' | 'runningExecs'>;

/** The body of `POST /containers/{id}/exec`. */
export interface ExecCreateRequest {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd?: string[] | null;
}

export interface ExecStartOptions {
  /** Connect to the output (hijacked start); false for Detach. */
  attach: boolean;
  consoleSize?: [number, number] | null;
  /** After the session, a spare of its kind for the container's next exec (spares.ts); not for health probes. */
  spare?: boolean;
}

/** How long after a session's end its container's spare is started: after the client is done with it. */
const SPARE_AFTER_MS = 50;

export interface ExecRecord {
  ID: string;
  ContainerID: string;
  Config: ExecCreateRequest;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  DetachKeys: string;
  started: boolean;
  run?: ExecRun;
  /** The session started ahead at create, until its start takes it (or it is cancelled). */
  early?: EarlySession;
}

/**
 * A session started at exec create, before the client's start: conmon starts and the process
 * is resolved and written while the client makes its next request. Its start takes it when
 * the start asks for what the create said (attached or not, the same console size).
 */
interface EarlySession {
  task: ExecTask;
  process: Promise<RuntimeProcess | { error: string }>;
  attach: boolean;
  consoleSize: [number, number] | null;
  /** Taken by its start: no longer the record's, nor cancelled by the wait's end. */
  take(): void;
  release(): void;
  cancel(why: string): void;
}

/** How long a session started at create waits for its start; a later start starts it anew. */
const EARLY_WAIT_MS = 3000;

/** How long an exec record outlives its container's stop (the CLI inspects right after EOF). */
const RECORD_GRACE_MS = 30_000;
/** Docker 20.10: any failure to start the process is exit code 126. */
export const EXEC_START_FAILED = 126;

/**
 * One started exec session. Events: 'stdout' / 'stderr' (Buffer), 'end' () when the output
 * is over. `started` rejects with the text Docker writes into the stream when the process
 * could not start; `done` resolves with the exit code once it is recorded.
 */
export class ExecRun extends DeferredStdio {
  task?: ExecTask;
  readonly started: Promise<number>;
  readonly done: Promise<number>;
  private closed = false;
  private outputEnded = false;
  private pendingSize?: [number, number];

  constructor(setup: (run: ExecRun) => Promise<{ task: ExecTask } | { error: string }>, record: (code: number) => void) {
    super();
    let resolveStarted!: (pid: number) => void;
    let rejectStarted!: (e: Error) => void;
    this.started = new Promise((res, rej) => { resolveStarted = res; rejectStarted = rej; });
    this.started.catch(() => undefined);
    this.done = (async () => {
      const r = await setup(this).catch((e: unknown) => ({ error: errorMessage(e) }));
      if ('error' in r) {
        rejectStarted(new Error(r.error));
        this.endOutput();
        record(EXEC_START_FAILED);
        return EXEC_START_FAILED;
      }
      const task = r.task;
      this.task = task;
      task.on('stdout', (b: Buffer) => this.emit('stdout', b));
      task.on('stderr', (b: Buffer) => this.emit('stderr', b));
      task.on('end', () => this.endOutput());
      this.connectStdio(task);
      if (this.closed) task.close();
      let pid: number;
      try {
        pid = await task.started;
      } catch (e) {
        rejectStarted(new Error(`OCI runtime exec failed: ${errorMessage(e).replace(/: unknown$/, '')}: unknown`));
        this.endOutput();
        record(EXEC_START_FAILED);
        return EXEC_START_FAILED;
      }
      resolveStarted(pid);
      if (this.pendingSize) void task.resize(this.pendingSize[0], this.pendingSize[1]);
      const code = await task.exited;
      record(code);
      return code;
    })();
  }

  /** The client went away: stop following the output; the process runs on. */
  close(): void {
    this.closed = true;
    this.task?.close();
    this.endOutput();
  }

  async resize(h: number, w: number): Promise<void> {
    if (this.task && this.startedFlag) await this.task.resize(h, w);
    else this.pendingSize = [h, w];
  }

  private startedFlag = false;

  /** The process runs (resizes now go straight to it). */
  markStarted(): void { this.startedFlag = true; }

  get isOutputEnded(): boolean { return this.outputEnded; }

  private endOutput(): void {
    if (this.outputEnded) return;
    this.outputEnded = true;
    this.emit('end');
  }
}

export class ExecService {
  private readonly records = new Map<string, ExecRecord>();
  private readonly accounts = new AccountFilesCache();
  private readonly spares: SpareSessions;

  constructor(private readonly containers: ExecDeps) {
    this.spares = new SpareSessions((sp) => containers.runtime.exec({
      containerId: sp.containerId, execId: sp.execId, runtime: sp.runtime, process: sp.process, terminal: false, attach: true, stdin: sp.stdin, go: sp.go,
    }));
    containers.lifecycle.on('stopped', (c: ContainerRecord) => this.containerStopped(c.Id));
    containers.lifecycle.on('removed', (c: ContainerRecord) => this.dropRecords(c.Id));
  }

  get(id: string): ExecRecord {
    const r = this.records.get(id);
    if (!r) throw new NotFoundError(`No such exec instance: ${id}`);
    return r;
  }

  private checkRunning(c: ContainerRecord): void {
    if (!c.State.Running) throw new ConflictError(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw new ConflictError(`Container ${c.Id} is paused, unpause the container before exec`);
    if (c.State.Restarting) throw new ConflictError(`Container ${c.Id} is restarting, wait until the container is running`);
  }

  create(ref: string, req: ExecCreateRequest, opts: { quiet?: boolean } = {}): { Id: string } {
    const c = this.containers.store.get(ref);
    if (!Array.isArray(req.Cmd) || req.Cmd.length === 0 || !req.Cmd.every((s) => typeof s === 'string')) {
      throw new InvalidParameterError('No exec command specified');
    }
    if (req.Env !== undefined && req.Env !== null && !(Array.isArray(req.Env) && req.Env.every((s) => typeof s === 'string'))) {
      throw new InvalidParameterError('invalid Env: expected a list of strings');
    }
    for (const kv of req.Env ?? []) {
      if (kv.startsWith('=') || kv === '') throw new InvalidParameterError(`invalid environment variable: ${kv}`);
    }
    this.checkRunning(c);
    const id = newId();
    this.records.set(id, {
      ID: id, ContainerID: c.Id, Config: { ...req, Cmd: [...req.Cmd] }, Running: false, ExitCode: null, Pid: 0,
      OpenStdin: !!req.AttachStdin, OpenStdout: !!req.AttachStdout, OpenStderr: !!req.AttachStderr,
      DetachKeys: req.DetachKeys ?? '', started: false,
    });
    if (!opts.quiet) this.containers.publish(c, `exec_create: ${req.Cmd.join(' ')}`, { execID: id });
    // after the reply is on its way: the client's start comes a few ms after it
    const rec = this.records.get(id)!;
    setImmediate(() => { if (!rec.started && this.records.has(id) && c.State.Running) this.startEarly(rec, c); });
    return { Id: id };
  }

  /** Starts the session's conmon now, its process held until the start (see EarlySession). */
  private startEarly(rec: ExecRecord, c: ContainerRecord): void {
    const cfg = rec.Config;
    const attach = !cfg.Detach;
    const consoleSize = cfg.ConsoleSize ?? null;
    const process = span('exec.process', rec.ID, () => this.processFor(c, cfg, consoleSize));
    let release!: () => void;
    let reject!: (e: Error) => void;
    const go = new Promise<void>((res, rej) => { release = res; reject = rej; });
    const resolved = process.then((p) => ('error' in p ? Promise.reject(new Error(p.error)) : p));
    const stdin = attach && !!cfg.AttachStdin;
    const spare = attach && !cfg.Tty ? this.spares.take(c.Id, stdin) : undefined;
    spare?.bind(resolved, go);
    const task = spare?.task ?? this.execTask(c, rec.ID, { process: resolved, terminal: !!cfg.Tty, attach, stdin, go });
    const timer = setTimeout(() => early.cancel('not started in time'), EARLY_WAIT_MS);
    timer.unref();
    const early: EarlySession = {
      task, process, attach, consoleSize,
      take: () => { clearTimeout(timer); if (rec.early === early) delete rec.early; },
      release: () => { early.take(); release(); },
      cancel: (why) => { early.take(); reject(new Error(`exec ${rec.ID} cancelled: ${why}`)); },
    };
    rec.early = early;
  }

  /** A runtime session of `execId` in container `c`, under the container's runtime. */
  private execTask(c: ContainerRecord, execId: string, o: Omit<ExecTaskOptions, 'containerId' | 'execId' | 'runtime'>): ExecTask {
    return this.containers.runtime.exec({ containerId: c.Id, execId, runtime: runtimeOf(this.containers.config, c.HostConfig.Runtime), ...o });
  }

  /** The early session for a start with these options, or undefined (one that does not fit is cancelled). */
  private takeEarly(rec: ExecRecord, attach: boolean, consoleSize: [number, number] | null): EarlySession | undefined {
    const e = rec.early;
    if (!e) return undefined;
    const sameSize = !rec.Config.Tty || ((e.consoleSize?.[0] ?? 0) === (consoleSize?.[0] ?? 0) && (e.consoleSize?.[1] ?? 0) === (consoleSize?.[1] ?? 0));
    if (e.attach === attach && sameSize) {
      e.take();
      return e;
    }
    e.cancel('started with other options');
    return undefined;
  }

  /** Validates and starts a session; start failures of the process come through run.started. */
  start(id: string, opts: ExecStartOptions): ExecRun {
    const rec = this.get(id);
    if (rec.Running) throw new ConflictError(`Error: Exec command ${id} is already running`);
    if (rec.started) throw new ConflictError(`Error: Exec command ${id} has already run`);
    const c = this.containers.store.get(rec.ContainerID);
    try {
      this.checkRunning(c);
    } catch (e) {
      rec.early?.cancel('the container is not running');
      throw e;
    }
    rec.started = true;
    rec.Running = true;
    this.containers.runningExecs.add(c.Id, id);
    const cfg = rec.Config;
    const consoleSize = opts.consoleSize ?? cfg.ConsoleSize ?? null;
    const early = this.takeEarly(rec, opts.attach, consoleSize);
    const run = new ExecRun(async (r) => {
      const proc = early ? await early.process : await span('exec.process', id, () => this.processFor(c, cfg, consoleSize));
      if ('error' in proc || !c.State.Running) {
        early?.cancel('it cannot start');
        return 'error' in proc ? proc : { error: `Container ${c.Id} is not running` };
      }
      const fresh = () => this.execTask(c, id, { process: proc, terminal: !!proc.terminal, attach: opts.attach, stdin: opts.attach && !!cfg.AttachStdin });
      early?.release();
      // a conmon started before this start came may have gone by itself meanwhile: then a fresh one
      const task = early
        ? new ExecTaskWithFallback(early.task, fresh, (e) => log.debug('exec: the session started ahead went before its process ran; a fresh one', { id, error: e.message }))
        : fresh();
      void task.started.then((pid) => {
        rec.Pid = pid;
        r.markStarted();
        this.containers.publish(c, `exec_start: ${cfg.Cmd!.join(' ')}`, { execID: id });
      }, () => undefined);
      return { task };
    }, (code) => {
      rec.ExitCode = code;
      rec.Running = false;
      this.containers.runningExecs.delete(c.Id, id);
      if (code !== EXEC_START_FAILED || rec.Pid > 0) {
        this.containers.publish(c, 'exec_die', { execID: id, exitCode: String(code) });
      }
    });
    rec.run = run;
    if (opts.spare !== false && opts.attach && !cfg.Tty) {
      const stdin = !!cfg.AttachStdin;
      void run.done.then(() => setTimeout(() => {
        const now = this.containers.store.find(c.Id);
        if (now?.State.Running && !now.State.Paused) this.spares.offer(now.Id, runtimeOf(this.containers.config, now.HostConfig.Runtime), stdin);
      }, SPARE_AFTER_MS).unref());
    }
    return run;
  }

  /** A client left its session by the detach keys: the process runs on (Docker's exec_detach event). */
  detached(id: string): void {
    const rec = this.get(id);
    const c = this.containers.store.find(rec.ContainerID);
    if (c) this.containers.publish(c, 'exec_detach', { execID: rec.ID });
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const rec = this.get(id);
    if (!rec.run) throw new ConflictError(`Exec ${id} is not running`);
    if (!rec.Config.Tty) return;
    await rec.run.resize(h, w);
  }

  /**
   * Runs a command to completion (health probes): combined output, capped; killed after
   * timeoutMs (then exitCode is -1 and timedOut true).
   */
  async runCaptured(containerId: string, cmd: string[], timeoutMs: number, maxOutput = 4096): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const { Id } = this.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true }, {});
    const run = this.start(Id, { attach: true, spare: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const take = (b: Buffer) => { if (size < maxOutput) { chunks.push(b); size += b.length; } };
    run.on('stdout', take);
    run.on('stderr', take);
    run.endStdin();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; run.task?.kill('SIGKILL'); }, timeoutMs);
    let code: number;
    let startError: string | undefined;
    run.started.catch((e: Error) => { startError = e.message; });
    try {
      code = await run.done;
    } finally {
      clearTimeout(timer);
    }
    // output may trail the exit by a tick
    if (!startError) await new Promise<void>((r) => { if (run.isOutputEnded) r(); else { run.once('end', () => r()); setTimeout(r, 200).unref(); } });
    let output = Buffer.concat(chunks).subarray(0, maxOutput).toString('utf8');
    if (startError) output = startError + '\r\n';
    this.records.delete(Id);
    return { exitCode: timedOut ? -1 : code, output, timedOut };
  }

  private async processFor(c: ContainerRecord, cfg: ExecCreateRequest, consoleSize: [number, number] | null): Promise<RuntimeProcess | { error: string }> {
    let rootfs: string;
    try {
      rootfs = (await this.containers.layers.of(c.Id)).mergedDir;
    } catch (e) {
      return { error: `OCI runtime exec failed: ${errorMessage(e)}: unknown` };
    }
    let user;
    try {
      user = resolveUserIn(await this.accounts.get(c.Id, rootfs), cfg.User || c.Config.User || '', (c.HostConfig.GroupAdd as string[] | null) ?? []);
    } catch (e) {
      return { error: `OCI runtime exec failed: exec failed: unable to start container process: ${errorMessage(e)}: unknown` };
    }
    const tty = !!cfg.Tty;
    let env = mergeEnv([DEFAULT_PATH_ENV, `HOSTNAME=${c.Config.Hostname}`, ...(tty ? ['TERM=xterm'] : [])], c.Config.Env, cfg.Env);
    if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home || '/'}`];
    const h = c.HostConfig;
    const nnp = noNewPrivilegesOf(h.SecurityOpt, this.containers.config.noNewPrivileges);
    const [height, width] = consoleSize ?? [0, 0];
    return {
      args: [...cfg.Cmd!],
      env,
      cwd: cfg.WorkingDir || c.Config.WorkingDir || '/',
      uid: user.uid,
      gid: user.gid,
      additionalGids: user.additionalGids,
      terminal: tty,
      ...(tty && height > 0 && width > 0 ? { consoleSize: { height, width } } : {}),
      noNewPrivileges: nnp,
      capabilities: cfg.Privileged || h.Privileged ? [...ALL_CAPABILITIES] : capabilitiesOf(c),
      rlimits: (h.Ulimits ?? []).map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard })),
    };
  }

  private containerStopped(cid: string): void {
    // The processes died with the container's PID namespace; their exits are being recorded.
    this.containers.runningExecs.clear(cid);
    const recs = [...this.records.values()].filter((r) => r.ContainerID === cid);
    for (const r of recs) r.early?.cancel('the container stopped');
    this.spares.drop(cid);
    const ids = recs.map((r) => r.ID);
    if (ids.length === 0) return;
    setTimeout(() => {
      for (const id of ids) {
        const r = this.records.get(id);
        if (r && !r.Running) this.records.delete(id);
      }
    }, RECORD_GRACE_MS).unref();
  }

  private dropRecords(cid: string): void {
    this.containers.runningExecs.clear(cid);
    this.accounts.forget(cid);
    this.spares.drop(cid);
    for (const r of [...this.records.values()]) {
      if (r.ContainerID !== cid) continue;
      r.early?.cancel('the container is removed');
      if (r.Running) r.run?.task?.kill('SIGKILL');
      this.records.delete(r.ID);
    }
    log.debug('exec records dropped', { id: cid });
  }
}
