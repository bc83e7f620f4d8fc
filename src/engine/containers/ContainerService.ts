// The container engine's facade: shared state (records, locks, waiters, attach sessions)
// and one method per operation; each operation lives in its own file (create.ts, start.ts,
// exit.ts, stop.ts, pause.ts, remove.ts, rename.ts, reconcile.ts).
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { ConflictError, InvalidParameterError } from '../../lib/errors';
import { KeyedMutex } from '../../lib/mutex';
import type { Runtime } from '../../runtime/types';
import { runtimeOf, type DaemonConfig } from '../config';
import type { EventBus } from '../events/EventBus';
import { AttachRegistry, AttachSession, type AttachOptions } from './attach';
import type { ContainerRecord } from './Container';
import { ContainerStore } from './ContainerStore';
import { createContainer } from './create';
import type { CreateRequest } from './createConfig';
import { ExitMonitor, type ExitInfo } from './ExitMonitor';
import { pauseContainer, unpauseContainer } from './pause';
import type { HealthMonitor } from './context';
import type { ImageLookup, RootfsStore } from './ports';
import { publishContainerEvent } from './publish';
import { RunningExecs } from './runningExecs';
import { sampleStats, type StatsSample } from './stats';
import { topProcesses } from './top';
import { readLogSnapshot, readLogs, type LogQuery, type LogRecord, type ReadOptions } from '../logs/reader';
import { restoreContainers } from './reconcile';
import { removeContainer } from './remove';
import { renameContainer } from './rename';
import { RestartManager } from './restart';
import { startContainer } from './start';
import { updateContainer, type UpdateRequest } from './update';
import { killContainer, restartContainer, stopByRef, untilStopped } from './stop';

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

  constructor(readonly deps: ContainerDeps) {
    this.store = new ContainerStore(path.join(deps.config.dataRoot, 'containers'));
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

  async restore(): Promise<void> { return restoreContainers(this); }
  create(name: string | undefined, req: CreateRequest): Promise<{ Id: string; Warnings: string[] }> { return createContainer(this, name, req); }
  start(ref: string): Promise<void> { return startContainer(this, ref); }
  kill(ref: string, signal?: string): Promise<void> { return killContainer(this, ref, signal); }
  stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> { return stopByRef(this, ref, opts); }
  restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> { return restartContainer(this, ref, opts); }
  pause(ref: string): Promise<void> { return pauseContainer(this, ref); }
  unpause(ref: string): Promise<void> { return unpauseContainer(this, ref); }
  remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> { return removeContainer(this, ref, opts); }
  rename(ref: string, newName: string): Promise<void> { return renameContainer(this, ref, newName); }
  update(ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }> { return updateContainer(this, ref, req); }

  // ---- wait, attach, resize

  /**
   * Registers a waiter at once (the CLI sends `start` only after the wait's headers);
   * the returned promise settles at the condition.
   */
  wait(ref: string, condition: WaitCondition = 'not-running'): Promise<ExitInfo> {
    const c = this.store.get(ref);
    if (condition === 'removed') return this.monitor.removed(c.Id);
    if (condition === 'next-exit') return this.monitor.nextExit(c.Id);
    return untilStopped(this, c);
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

  /** Containers (any state) created from an image; for `rmi` conflicts. */
  usingImage(imageId: string): { id: string; running: boolean }[] {
    return this.store.all().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running }));
  }

}
