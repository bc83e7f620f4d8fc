// What the container operations share, and the narrow views of it each one takes: an
// operation names the parts it uses (Pick<ContainerContext, ...>), so what it can touch is
// in its signature. What follows a task's exit is the supervisor's (supervisor.ts); operations
// that start a task reach it through `supervisor`, never by importing each other.
import type { EventEmitter } from 'node:events';
import type { KeyedMutex } from '../../lib/mutex';
import type { Runtime } from '../../runtime/types';
import type { DaemonConfig } from '../config';
import type { AttachRegistry } from './attach';
import type { AttachmentRunner } from './attachments/runner';
import type { ContainerRecord } from './Container';
import type { ContainerStore } from './ContainerStore';
import type { EarlyStarts } from './earlyStart';
import type { ExitMonitor } from './ExitMonitor';
import type { ImageLookup, RootfsStore } from './ports';
import type { RestartManager } from './restartPolicy';
import type { VolumeService } from '../volumes/VolumeService';

/** Health checks as the container side drives them: started with a task, stopped at its exit. */
export interface HealthMonitor {
  start(c: ContainerRecord): Promise<void>;
  /** `exited`: the task is gone (a check in flight makes the status unhealthy, as Docker). */
  stop(c: ContainerRecord, exited: boolean): void;
}

/** A task's end as the runtime reports it. */
export interface ExitStatus { exitCode: number; exitedAt: Date; oomKilled: boolean }

/** The supervisor's side of a task's life, offered to the operations that start or adopt one. */
export interface Supervision {
  /** Starts the container's task (its lock held) and follows it; a failed start of an AutoRemove container removes it. */
  launch(c: ContainerRecord): Promise<void>;
  /** Follows a task found running at daemon start. */
  adopt(c: ContainerRecord): void;
  /** Records an exit and decides what follows (`restart: false`: no restart policy, e.g. at daemon start). */
  exited(c: ContainerRecord, status: ExitStatus, opts?: { restart?: boolean }): Promise<void>;
}

export interface ContainerContext {
  config: DaemonConfig;
  images: ImageLookup;
  rootfs: RootfsStore;
  runtime: Runtime;
  store: ContainerStore;
  locks: KeyedMutex;
  monitor: ExitMonitor;
  attaches: AttachRegistry;
  restarts: RestartManager;
  attachments: AttachmentRunner;
  /** Volumes the containers make and use (absent: a container may not have any). */
  volumes?: VolumeService;
  /** 'started', 'stopped', 'removed' (record): for services that follow containers (exec, logs). */
  lifecycle: EventEmitter;
  swapLimitSupported: boolean;
  supervisor: Supervision;
  /** Stops from now on are the daemon's (no restart policy fires; unless-stopped comes back). */
  shuttingDown(): boolean;
  publish(c: ContainerRecord, action: string, extra?: Record<string, string>): void;
  logPath(id: string): string;
  /** After a container and its writable layer are gone (the image side may free layers). */
  onRemoved(c: ContainerRecord): void;
  /** The network side: checks what a container asks (networks exist, --ip fits), shows endpoints; absent: no networks. */
  networks?: ContainerNetworks;
  /** Starts prepared ahead, right after a create (earlyStart.ts); absent: none. */
  earlyStarts?: EarlyStarts;
}

export interface ContainerNetworks {
  validateRequest(c: ContainerRecord): void;
  /** The live endpoints and published ports of a running container (inspect, ps). */
  view(containerId: string): ContainerNetworkView;
}

export interface ContainerNetworkView {
  endpoints: { name: string; networkId: string; ep: import('../../store/networks/types').EndpointRecord; aliases: string[] }[];
  ports: import('../../store/networks/types').PublishedPort[];
  /** The namespace file, while the container runs with one of berth's networks. */
  netns?: string;
}
