// A session started ahead (at exec create, or a spare) runs in a conmon that was started before
// the exec's start came: that conmon may have gone by itself meanwhile (killed, or its child
// gone). An exec must not fail for that: if the session ends before its runtime was let run the
// process (ExecTask.letRun false), the process never ran, and it is run once more in a fresh
// session. Until the process runs, the client's stdin is held here (what a dead session took
// would be lost with it) and the first session's end of output is not passed on.
import { DeferredStdio } from '../../runtime/deferredStdio';
import type { ExecTask } from '../../runtime/types';

export class ExecTaskWithFallback extends DeferredStdio implements ExecTask {
  readonly started: Promise<number>;
  readonly exited: Promise<number>;
  private current: ExecTask;
  /** Whether `current` is the session that stays (it started, or it failed for good). */
  private settled = false;
  private currentEnded = false;
  private closed = false;

  /** `first`: the session started ahead; `fresh` starts the new one (called at most once). */
  constructor(first: ExecTask, fresh: () => ExecTask, onFallback: (why: Error) => void) {
    super();
    this.current = first;
    this.follow(first);
    this.started = (async () => {
      let task = first;
      let again: (() => ExecTask) | undefined = fresh;
      for (;;) {
        try {
          const pid = await task.started;
          this.settle();
          this.connectStdio(task);
          return pid;
        } catch (e) {
          if (!again || task.letRun) {
            this.settle();
            throw e;
          }
          onFallback(e as Error);
          task = again();
          again = undefined;
          this.current = task;
          this.currentEnded = false;
          this.follow(task);
          if (this.closed) task.close();
        }
      }
    })();
    this.started.catch(() => undefined);
    this.exited = this.started.then(() => this.current.exited, () => -1);
  }

  get letRun(): boolean { return this.current.letRun; }

  private follow(task: ExecTask): void {
    task.on('stdout', (b: Buffer) => { if (task === this.current) this.emit('stdout', b); });
    task.on('stderr', (b: Buffer) => { if (task === this.current) this.emit('stderr', b); });
    task.on('end', () => {
      if (task !== this.current) return;
      this.currentEnded = true;
      if (this.settled) this.emit('end');
    });
  }

  private settle(): void {
    this.settled = true;
    if (this.currentEnded) this.emit('end');
  }

  close(): void {
    this.closed = true;
    this.current.close();
  }

  resize(height: number, width: number): Promise<void> { return this.current.resize(height, width); }

  kill(signal?: NodeJS.Signals | number): void { this.current.kill(signal); }
}
