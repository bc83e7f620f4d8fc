// Spare exec sessions: after an exec ends, one conmon of its kind (stdin or not; no terminal)
// is started for its container and waits, listening, with no process yet. The container's next
// exec create takes it: the process is resolved and written, and the client's start finds conmon
// ready instead of waiting for its start (~4-9 ms of an exec's critical path at load: conmon's
// exec, its libraries, its double fork; dockerd's shim is already running for the same reason).
// A spare is only made where an exec just ran, goes after SPARE_IDLE_MS unused and when its
// container stops, and at most MAX_SPARES wait daemon-wide: the cost stays a few idle conmons
// however many containers run.
import { newId } from '../../lib/ids';
import type { ExecTask, RuntimeConfig, RuntimeProcess } from '../../runtime/types';

/** How long a spare waits for an exec before it goes. */
export const SPARE_IDLE_MS = 5000;
/** Spares waiting at once, daemon-wide. */
export const MAX_SPARES = 8;

/** What a spare's session is started with; the rest comes when an exec takes it. */
export interface SpareStart {
  containerId: string;
  /** The spare's own session ID (its dir and conmon's --cuuid), not the exec's that takes it. */
  execId: string;
  runtime: RuntimeConfig;
  stdin: boolean;
  process: Promise<RuntimeProcess>;
  go: Promise<void>;
}

/** A spare taken by an exec: hand it the exec's process and start gate. */
export interface Spare {
  task: ExecTask;
  bind(process: Promise<RuntimeProcess>, go: Promise<void>): void;
}

interface Waiting extends Spare {
  key: string;
  timer: NodeJS.Timeout;
  cancel(why: string): void;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T | Promise<T>) => void; reject: (e: Error) => void } {
  let resolve!: (v: T | Promise<T>) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

export class SpareSessions {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly startSession: (s: SpareStart) => ExecTask) {}

  /** The waiting spare of this kind for the container, now the caller's; undefined when none. */
  take(containerId: string, stdin: boolean): Spare | undefined {
    const key = keyOf(containerId, stdin);
    const s = this.waiting.get(key);
    if (!s) return undefined;
    this.waiting.delete(key);
    clearTimeout(s.timer);
    return s;
  }

  /** After an exec of this kind ended in a running container: a spare for the next, unless one waits. */
  offer(containerId: string, runtime: RuntimeConfig, stdin: boolean): void {
    const key = keyOf(containerId, stdin);
    if (this.waiting.has(key) || this.waiting.size >= MAX_SPARES) return;
    const process = deferred<RuntimeProcess>();
    const go = deferred<void>();
    const task = this.startSession({ containerId, execId: newId(), runtime, stdin, process: process.promise, go: go.promise });
    const spare: Waiting = {
      key, task,
      timer: setTimeout(() => spare.cancel('not taken in time'), SPARE_IDLE_MS),
      bind: (p, g) => { process.resolve(p); go.resolve(g); },
      cancel: (why) => {
        if (this.waiting.get(key) === spare) this.waiting.delete(key);
        clearTimeout(spare.timer);
        go.reject(new Error(`spare exec session cancelled: ${why}`));
      },
    };
    spare.timer.unref();
    this.waiting.set(key, spare);
    // a spare whose conmon failed by itself is no spare
    void task.exited.then(() => { if (this.waiting.get(key) === spare) spare.cancel('its session ended'); });
  }

  /** The container stopped or went: its spares go. */
  drop(containerId: string): void {
    for (const stdin of [false, true]) this.waiting.get(keyOf(containerId, stdin))?.cancel('its container stopped');
  }
}

const keyOf = (containerId: string, stdin: boolean) => `${containerId}/${stdin ? 'i' : '-'}`;
