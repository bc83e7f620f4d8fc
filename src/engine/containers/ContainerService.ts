// The container engine: lifecycle operations with their rules, over the store, the
// image side, the writable layers and the OCI runtime. Views (inspect, list) and
// read-side operations (logs, top, stats) live in their own files.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, ConflictError, InvalidParameterError, NotModifiedError, errorMessage } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { log } from '../../lib/log';
import { KeyedMutex } from '../../lib/mutex';
import { span } from '../../lib/trace';
import { SIGKILL, SIGTERM, parseSignal } from '../../lib/signals';
import type { Runtime } from '../../runtime/types';
import { bundleDir, runtimeOf, type DaemonConfig } from '../config';
import type { EventBus } from '../events/EventBus';
import { AttachRegistry, AttachSession, type AttachOptions } from './attach';
import {
  type ContainerRecord, canKill, canPause, canRemove, canStart, canUnpause, initialState, setExited, setRunning,
} from './Container';
import { ContainerStore } from './ContainerStore';
import { buildConfig, buildHostConfig, commandOf, type CreateRequest } from './createConfig';
import { ExitMonitor, type ExitInfo } from './ExitMonitor';
import { writeContainerFiles } from './files';
import { generateName } from './names';
import type { ImageLookup, RootfsStore } from './ports';
import { buildSpecInput, validateCapabilities, validateSecurityOpt } from './spec';
import { resolveUser } from './user';

export interface ContainerDeps {
  config: DaemonConfig;
  images: ImageLookup;
  rootfs: RootfsStore;
  runtime: Runtime;
  events: EventBus;
  swapLimitSupported: boolean;
  /** Called after a container and its writable layer are gone (the image side may free layers). */
  onRemoved?: (c: ContainerRecord) => void;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Docker's start-error text → exit code mapping (the CLI reads the same phrases). */
export function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied/.test(msg)) return 126;
  return 128;
}

export class ContainerService {
  readonly store: ContainerStore;
  readonly monitor = new ExitMonitor();
  readonly attaches = new AttachRegistry();
  private readonly locks = new KeyedMutex();

  constructor(private readonly deps: ContainerDeps) {
    this.store = new ContainerStore(path.join(deps.config.dataRoot, 'containers'));
  }

  get runtime(): Runtime { return this.deps.runtime; }
  get rootfs(): RootfsStore { return this.deps.rootfs; }
  get config(): DaemonConfig { return this.deps.config; }

  logPath(id: string): string {
    return path.join(this.store.dir(id), 'container.log');
  }

  private publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.publish('container', action, c.Id, {
      ...c.Config.Labels, image: c.Config.Image, name: c.Name.slice(1), ...extra,
    });
  }

  // ---- start-up: reconcile records with what is really running

  async restore(): Promise<void> {
    const records = await this.store.load();
    await Promise.all(records.map((c) => this.reconcile(c).catch((e) => log.error('reconcile failed', { id: c.Id, error: errorMessage(e) }))));
  }

  private async reconcile(c: ContainerRecord): Promise<void> {
    const rt = runtimeOf(this.config, c.HostConfig.Runtime);
    if (c.State.Status === 'removing') {
      // A removal that was cut short: finish it.
      await this.removeLocked(c);
      return;
    }
    if (!c.State.Running) return;
    const state = await this.runtime.state(c.Id, rt).catch(() => undefined);
    if (state && (state.status === 'running' || state.status === 'paused')) {
      c.State.Paused = state.status === 'paused';
      c.State.Status = state.status;
      this.watchExit(c);
      return;
    }
    const exit = await this.runtime.readExit(c.Id).catch(() => undefined);
    await this.handleExit(c, exit ?? { exitCode: 255, exitedAt: new Date(), oomKilled: false });
  }

  // ---- create

  async create(name: string | undefined, req: CreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    if (!req || typeof req !== 'object') throw new InvalidParameterError('invalid create request');
    if (!req.Image || typeof req.Image !== 'string') throw new InvalidParameterError('No image specified');
    const image = await this.deps.images.resolve(req.Image);
    const config = buildConfig(req, image.config.config ?? {}, req.Image);
    const hostConfig = buildHostConfig(req.HostConfig, {
      defaultRuntime: this.config.defaultRuntime,
      runtimes: Object.keys(this.config.runtimes),
      logDriver: this.config.logDriver,
      logOpts: this.config.logOpts,
      swapLimitSupported: this.deps.swapLimitSupported,
    });
    const { path: cmdPath, args } = commandOf(config);
    const id = newId();
    if (!config.Hostname) config.Hostname = hostConfig.NetworkMode === 'host' ? (await import('node:os')).hostname() : id.slice(0, 12);
    validateSecurityOpt(hostConfig.SecurityOpt);
    const c: ContainerRecord = {
      Id: id, Name: '', Created: new Date().toISOString(), Path: cmdPath, Args: args, State: initialState(),
      Image: image.id, ImageChainId: image.topChainId, Config: config, HostConfig: hostConfig,
      RestartCount: 0, HasBeenManuallyStopped: false,
    };
    validateCapabilities(c);
    this.validateNamespaces(c);
    const finalName = name ? name : generateName((n) => this.store.hasName(n));
    this.store.reserveName(finalName, id);
    c.Name = finalName.startsWith('/') ? finalName : '/' + finalName;
    try {
      await fsp.mkdir(this.store.dir(id), { recursive: true, mode: 0o710 });
      await Promise.all([this.rootfs.createMount(id, image.topChainId), writeContainerFiles(this.store.dir(id), c)]);
      await this.store.save(c, { durable: true });
    } catch (e) {
      this.store.releaseName(c.Name);
      await this.rootfs.removeMount(id).catch(() => undefined);
      await fsp.rm(this.store.dir(id), { recursive: true, force: true });
      throw e;
    }
    this.publish(c, 'create');
    return { Id: id, Warnings: [] };
  }

  private validateNamespaces(c: ContainerRecord): void {
    const h = c.HostConfig;
    const mode = h.NetworkMode;
    if (!['default', 'bridge', 'none', 'host'].includes(mode) && !mode.startsWith('container:')) {
      // Until user-defined networks exist, a named network is not found.
      throw new BerthError('NotFound', `network ${mode} not found`);
    }
    if (!['private', 'host', 'shareable', 'none', ''].includes(h.IpcMode) && !h.IpcMode.startsWith('container:')) {
      throw new InvalidParameterError(`invalid IPC mode: ${h.IpcMode}`);
    }
    if (!['', 'host'].includes(h.PidMode) && !h.PidMode.startsWith('container:')) throw new InvalidParameterError(`invalid PID mode: ${h.PidMode}`);
    if (!['', 'host'].includes(h.UTSMode)) throw new InvalidParameterError(`invalid UTS mode: ${h.UTSMode}`);
  }

  private pidOf(ref: string): number {
    const other = this.store.get(ref);
    if (!other.State.Running) throw new ConflictError(`cannot join namespace of a non running container ${other.Id}`);
    return other.State.Pid;
  }

  // ---- start

  async start(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.locks.run(c.Id, async () => {
      if (c.State.Running) throw new NotModifiedError();
      canStart(c);
      await this.startLocked(c);
    });
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    const rt = runtimeOf(this.config, c.HostConfig.Runtime);
    const dir = this.store.dir(c.Id);
    const bundle = bundleDir(this.config, c.Id);
    let created = false;
    try {
      const rootfs = await span('start.mount', c.Id, () => this.rootfs.mount(c.Id));
      const [user] = await span('start.prepare', c.Id, () => Promise.all([
        resolveUser(rootfs, c.Config.User, (c.HostConfig.GroupAdd as string[] | null) ?? []),
        writeContainerFiles(dir, c),
      ]));
      const input = buildSpecInput(c, {
        rootfs, containerDir: dir, user, cgroupParent: this.config.cgroupParent, initPath: this.config.initPath,
        swapLimitSupported: this.deps.swapLimitSupported, resolveContainerPid: (r) => this.pidOf(r),
      });
      await span('start.bundle', c.Id, () => this.runtime.writeBundle(bundle, input));
      const { pid } = await span('start.create', c.Id, () => this.runtime.create({
        id: c.Id, bundleDir: bundle, runtime: rt, terminal: c.Config.Tty, openStdin: c.Config.OpenStdin,
        stdinOnce: c.Config.StdinOnce, logPath: this.logPath(c.Id),
      }));
      created = true;
      await span('start.attach', c.Id, () => this.attaches.connectPending(c.Id, this.runtime));
      await span('start.start', c.Id, () => this.runtime.start(c.Id, rt));
      setRunning(c, pid);
      c.HasBeenManuallyStopped = false;
      await span('start.save', c.Id, () => this.store.save(c));
    } catch (e) {
      const msg = errorMessage(e);
      log.debug('start failed', { id: c.Id, error: msg });
      if (created) await this.runtime.delete(c.Id, rt, true).catch(() => undefined);
      await this.runtime.cleanup(c.Id).catch(() => undefined);
      await this.rootfs.unmount(c.Id).catch(() => undefined);
      await fsp.rm(bundle, { recursive: true, force: true }).catch(() => undefined);
      this.attaches.endPending(c.Id);
      const isRuntimeError = !(e instanceof BerthError) || e.kind === 'System' || e.kind === 'InvalidParameter';
      const text = e instanceof BerthError && e.kind === 'InvalidParameter' && !/OCI runtime/.test(msg)
        ? msg : `failed to create task: OCI runtime create failed: ${msg.replace(/: unknown$/, '')}: unknown`;
      const exitCode = exitCodeForStartError(msg);
      c.State.ExitCode = exitCode;
      c.State.Error = text;
      await this.store.save(c).catch(() => undefined);
      this.monitor.notifyExit(c.Id, { exitCode, error: text });
      if (c.HostConfig.AutoRemove) await this.removeLocked(c).catch(() => undefined);
      if (isRuntimeError) throw new InvalidParameterError(text, { cause: e });
      throw e;
    }
    this.publish(c, 'start');
    this.watchExit(c);
  }

  private watchExit(c: ContainerRecord): void {
    this.runtime.waitExit(c.Id).then(
      (status) => this.handleExit(c, status),
      (e) => log.error('waiting for exit failed', { id: c.Id, error: errorMessage(e) }),
    );
  }

  private async handleExit(c: ContainerRecord, status: { exitCode: number; exitedAt: Date; oomKilled: boolean }): Promise<void> {
    await this.locks.run(c.Id, async () => {
      if (!this.store.find(c.Id)) return;
      const rt = runtimeOf(this.config, c.HostConfig.Runtime);
      if (status.oomKilled) this.publish(c, 'oom');
      setExited(c, status.exitCode, status.exitedAt, status.oomKilled);
      // Independent teardown steps run together: the runtime's state, the shim's files, the rootfs.
      await span('exit.teardown', c.Id, () => Promise.all([
        this.runtime.delete(c.Id, rt, true).then(() => this.runtime.cleanup(c.Id))
          .catch((e) => log.warn('runtime delete failed', { id: c.Id, error: errorMessage(e) })),
        this.rootfs.unmount(c.Id).catch((e) => log.warn('unmount failed', { id: c.Id, error: errorMessage(e) })),
        fsp.rm(bundleDir(this.config, c.Id), { recursive: true, force: true }).catch(() => undefined),
      ]));
      // An AutoRemove container goes straight on to removal; a crash in between is repaired
      // by reconcile (running record, no task: exited, then removed).
      if (!c.HostConfig.AutoRemove) await span('exit.save', c.Id, () => this.store.save(c));
      this.publish(c, 'die', { exitCode: String(status.exitCode) });
      this.monitor.notifyExit(c.Id, { exitCode: status.exitCode });
      if (c.HostConfig.AutoRemove) await this.removeLocked(c);
    });
  }

  // ---- stop, kill, restart

  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.store.get(ref);
    const sig = signal ? parseSignal(signal) : SIGKILL;
    canKill(c);
    await this.signal(c, sig);
  }

  private async signal(c: ContainerRecord, sig: number): Promise<void> {
    const rt = runtimeOf(this.config, c.HostConfig.Runtime);
    try {
      await this.runtime.kill(c.Id, sig, rt);
    } catch (e) {
      // Raced with the exit: the container is already gone, which is what was asked.
      if (!c.State.Running) return;
      throw e;
    }
    if (sig === SIGKILL || sig === SIGTERM || c.Config.StopSignal && parseSignal(c.Config.StopSignal) === sig) {
      c.HasBeenManuallyStopped = true;
    }
    this.publish(c, 'kill', { signal: String(sig) });
  }

  /** Resolves once the container is not running (immediately when it is not). */
  private stopped(c: ContainerRecord): Promise<ExitInfo> {
    if (!c.State.Running) return Promise.resolve({ exitCode: c.State.ExitCode });
    return this.monitor.nextExit(c.Id);
  }

  async stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const c = this.store.get(ref);
    if (!c.State.Running) throw new NotModifiedError();
    await this.stopContainer(c, opts);
    this.publish(c, 'stop');
  }

  private async stopContainer(c: ContainerRecord, opts: { signal?: string; timeout?: number }): Promise<void> {
    const sig = parseSignal(opts.signal || c.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.Config.StopTimeout ?? 10;
    const exited = this.stopped(c);
    c.HasBeenManuallyStopped = true;
    if (c.State.Paused) {
      await this.signal(c, SIGKILL);
      await this.unpause(c.Id).catch(() => undefined);
      await exited;
      return;
    }
    await this.signal(c, sig).catch((e) => log.warn('stop signal failed', { id: c.Id, error: errorMessage(e) }));
    if (timeout < 0) { await exited; return; }
    const timedOut = await Promise.race([exited.then(() => false), sleep(timeout * 1000).then(() => true)]);
    if (timedOut && c.State.Running) {
      await this.signal(c, SIGKILL);
      await exited;
    }
  }

  async restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const c = this.store.get(ref);
    if (c.State.Running) await this.stopContainer(c, opts);
    await this.locks.run(c.Id, async () => {
      if (c.State.Running) return;
      canStart(c);
      await this.startLocked(c);
    });
    this.publish(c, 'restart');
  }

  // ---- pause

  async pause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.locks.run(c.Id, async () => {
      canPause(c);
      await this.runtime.pause(c.Id, runtimeOf(this.config, c.HostConfig.Runtime));
      c.State.Paused = true;
      c.State.Status = 'paused';
      await this.store.save(c);
    });
    this.publish(c, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.locks.run(c.Id, async () => {
      canUnpause(c);
      await this.runtime.resume(c.Id, runtimeOf(this.config, c.HostConfig.Runtime));
      c.State.Paused = false;
      c.State.Status = 'running';
      await this.store.save(c);
    });
    this.publish(c, 'unpause');
  }

  // ---- remove, rename

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.store.get(ref);
    canRemove(c, !!opts.force);
    if (c.State.Running) {
      const exited = this.stopped(c);
      await this.signal(c, SIGKILL);
      if (c.State.Paused) await this.runtime.resume(c.Id, runtimeOf(this.config, c.HostConfig.Runtime)).catch(() => undefined);
      await exited;
    }
    await this.locks.run(c.Id, async () => {
      if (!this.store.find(c.Id)) return; // AutoRemove got there first
      canRemove(c, !!opts.force);
      await this.removeLocked(c);
    });
  }

  private async removeLocked(c: ContainerRecord): Promise<void> {
    c.State.Status = 'removing';
    await this.store.save(c);
    const rt = runtimeOf(this.config, c.HostConfig.Runtime);
    await span('remove.teardown', c.Id, () => Promise.all([
      this.runtime.delete(c.Id, rt, true).then(() => this.runtime.cleanup(c.Id)).catch(() => undefined),
      this.rootfs.removeMount(c.Id),
      fsp.rm(bundleDir(this.config, c.Id), { recursive: true, force: true }),
    ]));
    await span('remove.record', c.Id, () => this.store.delete(c));
    this.attaches.endPending(c.Id);
    this.publish(c, 'destroy');
    this.deps.onRemoved?.(c);
    this.monitor.notifyRemoved(c.Id, { exitCode: c.State.ExitCode });
  }

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.store.get(ref);
    if (!newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    const full = newName.startsWith('/') ? newName : '/' + newName;
    if (full === c.Name) throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    await this.locks.run(c.Id, async () => {
      const old = c.Name;
      this.store.reserveName(full, c.Id);
      c.Name = full;
      try {
        await this.store.save(c);
      } catch (e) {
        this.store.releaseName(full);
        c.Name = old;
        throw e;
      }
      this.store.releaseName(old);
      this.publish(c, 'rename', { oldName: old });
    });
  }

  // ---- wait, attach, resize

  /**
   * Registers a waiter at once (the CLI sends `start` only after the wait's headers);
   * the returned promise settles at the condition.
   */
  wait(ref: string, condition: WaitCondition = 'not-running'): Promise<ExitInfo> {
    const c = this.store.get(ref);
    if (condition === 'removed') return this.monitor.removed(c.Id);
    if (condition === 'next-exit') return this.monitor.nextExit(c.Id);
    return this.stopped(c);
  }

  async attach(ref: string, opts: AttachOptions): Promise<AttachSession> {
    const c = this.store.get(ref);
    const session = new AttachSession(c.Id, { ...opts, stdin: opts.stdin && c.Config.OpenStdin });
    if (c.State.Running) await session.connect(this.runtime);
    else this.attaches.hold(session);
    this.publish(c, 'attach');
    return session;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.store.get(ref);
    if (!c.State.Running) throw new ConflictError(`Container ${c.Id} is not running`);
    if (!c.Config.Tty) return;
    await this.runtime.resize(c.Id, height, width);
  }

  /** Containers (any state) created from an image; for `rmi` conflicts. */
  usingImage(imageId: string): { id: string; running: boolean }[] {
    return this.store.all().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running }));
  }

  hasLog(id: string): boolean {
    return fs.existsSync(this.logPath(id));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
