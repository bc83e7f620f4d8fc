// What follows a task's start and its exit, decided in one place: following the exit, health
// checks, the restart policy's restart after its back-off, auto-removal. The operations start
// and record; they reach this through their context's `supervisor`, so none imports another
// that imports it back.
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import type { ContainerRecord } from './Container';
import type { ContainerContext, ExitStatus, HealthMonitor, Supervision } from './context';
import { recordExit } from './exit';
import { removeLocked, takeRemovalOnExit } from './remove';
import { endRestartingLocked } from './restartPolicy';
import { startTask } from './start';

export class Supervisor implements Supervision {
  /** The shared context without itself: what it starts and removes needs no supervisor. */
  constructor(private readonly ctx: Omit<ContainerContext, 'supervisor'>, private readonly health?: HealthMonitor) {}

  async launch(c: ContainerRecord): Promise<void> {
    try {
      await startTask(this.ctx, c);
    } catch (e) {
      if (c.HostConfig.AutoRemove) await removeLocked(this.ctx, c, { volumes: true }).catch(() => undefined);
      throw e;
    }
    this.follow(c);
    this.ctx.lifecycle.emit('started', c);
    void this.health?.start(c);
  }

  adopt(c: ContainerRecord): void {
    this.follow(c);
    void this.health?.start(c);
  }

  async exited(c: ContainerRecord, status: ExitStatus, opts: { restart?: boolean } = {}): Promise<void> {
    const ctx = this.ctx;
    await ctx.locks.run(c.Id, async () => {
      if (!ctx.store.find(c.Id)) return;
      const ranMs = status.exitedAt.getTime() - Date.parse(c.State.StartedAt);
      const delay = opts.restart === false ? undefined
        : ctx.restarts.decide(c, status.exitCode, c.HasBeenManuallyStopped || ctx.shuttingDown(), ranMs);
      // Removed right after the exit, in this lock hold: AutoRemove, or a `rm -f` waiting for it.
      const waiting = delay === undefined ? takeRemovalOnExit(c) : undefined;
      const removal = delay !== undefined ? undefined
        : c.HostConfig.AutoRemove ? { volumes: true } : waiting;
      await recordExit(ctx, c, status, delay !== undefined, removal);
      this.health?.stop(c, true);
      ctx.lifecycle.emit('stopped', c);
      if (delay !== undefined) {
        log.info('restarting container', { id: c.Id, restartCount: c.RestartCount, delayMs: delay, exitCode: status.exitCode });
        ctx.restarts.schedule(c.Id, delay, () => void this.restartNow(c));
        return;
      }
      if (!removal) return;
      try {
        await removeLocked(ctx, c, { volumes: removal.volumes, afterExit: true });
      } catch (e) {
        // the `rm -f` that waits reports it (an AutoRemove's failure goes on as before)
        if (waiting) waiting.error = e;
        if (!waiting || c.HostConfig.AutoRemove) throw e;
      }
    });
  }

  private follow(c: ContainerRecord): void {
    this.ctx.runtime.waitExit(c.Id).then(
      (status) => this.exited(c, status),
      (e) => log.error('waiting for exit failed', { id: c.Id, error: errorMessage(e) }),
    );
  }

  /** The policy's restart, when its back-off delay is over. */
  private async restartNow(c: ContainerRecord): Promise<void> {
    const ctx = this.ctx;
    await ctx.locks.run(c.Id, async () => {
      if (!ctx.store.find(c.Id) || !c.State.Restarting) return;
      if (ctx.shuttingDown()) return; // left "restarting": the next daemon start decides
      if (ctx.restarts.isCanceled(c.Id)) {
        await endRestartingLocked(ctx, c);
        return;
      }
      try {
        await this.launch(c);
      } catch (e) {
        log.warn('restart failed', { id: c.Id, error: errorMessage(e) });
        await endRestartingLocked(ctx, c, c.State.Error || errorMessage(e));
      }
    }).catch((e) => log.error('restart failed', { id: c.Id, error: errorMessage(e) }));
  }
}
