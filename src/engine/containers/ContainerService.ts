// The container engine's facade: shared state (records, locks, waiters, attach sessions)
// and one method per operation. Each operation lives in its own file (create.ts, start.ts,
// exit.ts, stop.ts, pause.ts, remove.ts, rename.ts, restart.ts, update.ts, reconcile.ts) and
// takes the narrow part of the context (context.ts) it needs; what follows a start or an exit
// is the supervisor's (supervisor.ts); attachments (attachments/) are set up around each task.
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { ConflictError, InvalidParameterError } from '../../lib/errors';
import { KeyedMutex } from '../../lib/mutex';
import type { Runtime } from '../../runtime/types';
import { runtimeOf, type DaemonConfig } from '../config';
import type { EventBus } from '../events/EventBus';
import { AttachRegistry, AttachSession, type AttachOptions } from './attach';
import { containerAttachments } from './attachments';
import { AttachmentRunner } from './attachments/runner';
import type { Attachment } from './attachments/types';
import type { VolumeService } from '../volumes/VolumeService';
import type { ContainerRecord } from './Container';
import { ContainerStore } from './ContainerStore';
import type { ContainerContext, HealthMonitor, ContainerNetworks } from './context';
import { createContainer } from './create';
import { EarlyStarts } from './earlyStart';
import type { CreateRequest } from './createConfig';
import { ExitMonitor, type ExitInfo } from './ExitMonitor';
import { pauseContainer, unpauseContainer } from './pause';
import type { ImageLookup, RootfsStore } from './ports';
import { publishContainerEvent } from './publish';
import { restoreContainers } from './reconcile';
import { removeContainer } from './remove';
import { renameContainer } from './rename';
import { restartContainer } from './restart';
import { RestartManager } from './restartPolicy';
import { RunningExecs } from './runningExecs';
import { startContainer } from './start';
import { sampleStats, type StatsSample } from './stats';
import { killContainer, stopByRef, untilStopped } from './stop';
import { Supervisor } from './supervisor';
import { topProcesses } from './top';
import { updateContainer, type UpdateRequest } from './update';
import { readLogSnapshot, readLogs, type LogQuery, type LogRecord, type ReadOptions } from '../logs/reader';
import { getArchive, putArchive, RootfsHolds, statContainerPath, type ArchiveContext, type PathStat, type PutOptions } from './archive';
import { exportContainer } from './export';
import { ContainerLayers } from './details';
import type { Readable } from 'node:stream';

export interface ContainerDeps {
  config: DaemonConfig;
  images: ImageLookup;
  rootfs: RootfsStore;
  runtime: Runtime;
  events: EventBus;
  swapLimitSupported: boolean;
  /** Called after a container and its writable layer are gone (the image side may free layers). */
  onRemoved?: (c: ContainerRecord) => void;
  /** Health checks, started with each task and stopped at its exit. */
  health?: HealthMonitor;
  /** Set up around every task, in this order; the daemon's list (attachments/index.ts) by default. */
  attachments?: Attachment[];
  /** The daemon's volumes: what -v/--mount make and use. */
  volumes?: VolumeService;
  /** Networks (create checks what a container asks of them). */
  networks?: ContainerNetworks;
  /** The network attachment (Engine makes it from the network service). */
  networkAttachment?: Attachment;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export class ContainerService {
  readonly store: ContainerStore;
  readonly monitor = new ExitMonitor();
  readonly attaches = new AttachRegistry();
  readonly locks = new KeyedMutex();
  /** Restart policies' in-memory state (back-off, pending restarts). */
  readonly restarts = new RestartManager();
  /** Exec sessions running in each container (filled by the exec service). */
  readonly runningExecs = new RunningExecs();
  /** Set by the daemon's shutdown: stops then are not "manual" and nothing restarts. */
  shuttingDown = false;
  /**
   * Lifecycle hooks for other services (exec sessions, health checks): 'started' (record) after a
   * task started, 'stopped' (record) after an exit was recorded, 'removed' (record) after removal.
   */
  readonly lifecycle = new EventEmitter();
  /** Each container's overlay dirs, read once (inspect and exec ask on every call). */
  readonly layers: ContainerLayers;
  readonly attachments: AttachmentRunner;
  readonly supervisor: Supervisor;
  /** What the operations are given (each takes the part of it that it names). */
  private readonly ctx: ContainerContext;

  constructor(readonly deps: ContainerDeps) {
    this.store = new ContainerStore(path.join(deps.config.dataRoot, 'containers'));
    this.layers = new ContainerLayers(deps.rootfs, this.lifecycle);
    const volumes = deps.volumes ? { volumes: deps.volumes, rootfsOf: async (id: string) => (await deps.rootfs.mountInfo(id)).mergedDir } : undefined;
    this.attachments = new AttachmentRunner(deps.attachments ?? containerAttachments(process.env, { volumes, network: deps.networkAttachment, remap: deps.config.remap && { config: deps.config.remap, execRoot: deps.config.execRoot } }), (id) => ({ containerDir: this.store.dir(id) }));
    const shared: Omit<ContainerContext, 'supervisor'> = {
      config: deps.config, images: deps.images, rootfs: deps.rootfs, runtime: deps.runtime,
      store: this.store, locks: this.locks, monitor: this.monitor, attaches: this.attaches, restarts: this.restarts,
      attachments: this.attachments, lifecycle: this.lifecycle, swapLimitSupported: deps.swapLimitSupported,
      ...(deps.volumes ? { volumes: deps.volumes } : {}),
      shuttingDown: () => this.shuttingDown,
      publish: (c, action, extra) => this.publish(c, action, extra),
      logPath: (id) => this.logPath(id),
      onRemoved: (c) => deps.onRemoved?.(c),
      networks: deps.networks,
    };
    shared.earlyStarts = new EarlyStarts(shared);
    this.supervisor = new Supervisor(shared, deps.health);
    this.ctx = { ...shared, supervisor: this.supervisor };
  }

  get runtime(): Runtime { return this.deps.runtime; }
  get rootfs(): RootfsStore { return this.deps.rootfs; }
  get config(): DaemonConfig { return this.deps.config; }

  logPath(id: string): string {
    return path.join(this.store.dir(id), 'container.log');
  }

  publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    publishContainerEvent(this.deps.events, c, action, extra);
  }

  // ---- operations, one file each

  async restore(): Promise<void> { return restoreContainers(this.ctx); }
  /** The daemon's shutdown: no shim is left waiting for a start that will not come. */
  cancelEarlyStarts(): Promise<void> { return this.ctx.earlyStarts?.cancelAll() ?? Promise.resolve(); }
  create(name: string | undefined, req: CreateRequest): Promise<{ Id: string; Warnings: string[] }> { return createContainer(this.ctx, name, req); }
  start(ref: string): Promise<void> { return startContainer(this.ctx, ref); }
  kill(ref: string, signal?: string): Promise<void> { return killContainer(this.ctx, ref, signal); }
  stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> { return stopByRef(this.ctx, ref, opts); }
  restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> { return restartContainer(this.ctx, ref, opts); }
  pause(ref: string): Promise<void> { return pauseContainer(this.ctx, ref); }
  unpause(ref: string): Promise<void> { return unpauseContainer(this.ctx, ref); }
  remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> { return removeContainer(this.ctx, ref, opts); }
  rename(ref: string, newName: string): Promise<void> { return renameContainer(this.ctx, ref, newName); }
  update(ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }> { return updateContainer(this.ctx, ref, req); }

  // ---- wait, attach, resize

  /**
   * Registers a waiter at once (the CLI sends `start` only after the wait's headers);
   * the returned promise settles at the condition.
   */
  wait(ref: string, condition: WaitCondition = 'not-running'): Promise<ExitInfo> {
    const c = this.store.get(ref);
    if (condition === 'removed') return this.monitor.removed(c.Id);
    if (condition === 'next-exit') return this.monitor.nextExit(c.Id);
    return untilStopped(this.ctx, c);
  }

  async attach(ref: string, opts: AttachOptions): Promise<AttachSession> {
    const c = this.store.get(ref);
    const session = new AttachSession(c.Id, { ...opts, stdin: opts.stdin && c.Config.OpenStdin });
    if (c.State.Running && !c.State.Restarting) await session.connect(this.runtime);
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

  // ---- what runs inside: processes, resource use, output

  /** `docker top`: ps rows of the container's processes. */
  async top(ref: string, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
    const c = this.store.get(ref);
    if (!c.State.Running) throw new ConflictError(`Container ${c.Id} is not running`);
    const pids = await this.runtime.pids(c.Id, runtimeOf(this.config, c.HostConfig.Runtime));
    return topProcesses(pids, psArgs);
  }

  /** One stats sample from the container's cgroup (an empty one when it is not running). */
  stats(ref: string): Promise<StatsSample> {
    const c = this.store.get(ref);
    return sampleStats(c, `${this.config.cgroupParent}/${c.Id}`);
  }

  /**
   * The container's log as the query asks, read (and followed) when the returned function is
   * called; a driver that keeps no log is refused here, before a reply has begun.
   */
  logReader(ref: string, q: LogQuery): (emit: (r: LogRecord) => void, opts?: ReadOptions) => Promise<void> {
    const c = this.store.get(ref);
    if (c.HostConfig.LogConfig.Type === 'none') throw new InvalidParameterError('configured logging driver does not support reading');
    const file = this.logPath(c.Id);
    return (emit, opts = {}) => readLogs(file, q, emit, opts);
  }

  /** What the log holds now (attach's `logs=1`). */
  async logSnapshot(ref: string, q: LogQuery, emit: (r: LogRecord) => void): Promise<void> {
    await readLogSnapshot(this.logPath(this.store.get(ref).Id), q, emit);
  }

  // ---- the filesystem: docker cp (archive) and export

  /** Writable layers of stopped containers held open by copies (archive/view.ts). */
  readonly fsHolds = new RootfsHolds();
  private get archiveCtx(): ArchiveContext { return { ...this.ctx, holds: this.fsHolds }; }
  statPath(ref: string, p: string | null): Promise<PathStat> { return statContainerPath(this.archiveCtx, ref, p); }
  getArchive(ref: string, p: string | null): Promise<{ stat: PathStat; stream: Readable }> { return getArchive(this.archiveCtx, ref, p); }
  putArchive(ref: string, p: string | null, body: Readable, opts: PutOptions): Promise<void> { return putArchive(this.archiveCtx, ref, p, body, opts); }
  export(ref: string): Promise<Readable> { return exportContainer(this.archiveCtx, ref); }

  /** Containers (any state) created from an image; for `rmi` conflicts. */
  usingImage(imageId: string): { id: string; running: boolean }[] {
    return this.store.all().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running }));
  }

}
