// Restart policies (no, on-failure[:N], always, unless-stopped), as Docker applies them:
// decided when a container's task exits, after Docker's back-off (100 ms, doubling, capped at
// one minute, reset once a run lasted 10 s). A stop or a kill by the stop signal cancels the
// pending and the next restart until the user starts the container again.
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { type ContainerRecord, ZERO_TIME, setExited } from './Container';
import type { ContainerContext } from './context';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const RESET_AFTER_MS = 10_000;

interface Entry {
  delayMs: number;
  canceled: boolean;
  timer?: NodeJS.Timeout;
}

/** One per daemon: in-memory restart state of each container (Docker's RestartManager). */
export class RestartManager {
  private readonly entries = new Map<string, Entry>();

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (!e) {
      e = { delayMs: 0, canceled: false };
      this.entries.set(id, e);
    }
    return e;
  }

  /**
   * Docker's ShouldRestart: the delay before the restart, or undefined for no restart.
   * `manuallyStopped` is the record's flag (or the daemon shutting down).
   */
  decide(c: ContainerRecord, exitCode: number, manuallyStopped: boolean, ranMs: number): number | undefined {
    const policy = c.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
    if (!policy.Name || policy.Name === 'no') return undefined;
    const e = this.entry(c.Id);
    if (e.canceled) return undefined;
    if (ranMs >= RESET_AFTER_MS) e.delayMs = 0;
    e.delayMs = e.delayMs === 0 ? FIRST_DELAY_MS : Math.min(e.delayMs * 2, MAX_DELAY_MS);
    if (!shouldRestart(c, exitCode, manuallyStopped)) return undefined;
    return e.delayMs;
  }

  /** Arms the timer of a pending restart. */
  schedule(id: string, delayMs: number, fire: () => void): void {
    const e = this.entry(id);
    if (e.timer) clearTimeout(e.timer);
    e.timer = setTimeout(() => { e.timer = undefined; fire(); }, delayMs);
  }

  /** Docker's ExitOnNext: no further restart. True when a pending (timer) restart was dropped. */
  cancel(id: string): boolean {
    const e = this.entry(id);
    e.canceled = true;
    if (!e.timer) return false;
    clearTimeout(e.timer);
    e.timer = undefined;
    return true;
  }

  isCanceled(id: string): boolean {
    return this.entries.get(id)?.canceled ?? false;
  }

  /** A user start/restart: a fresh manager (back-off and cancellation forgotten). */
  reset(id: string): void {
    const e = this.entries.get(id);
    if (e?.timer) clearTimeout(e.timer);
    this.entries.delete(id);
  }

  /** Drops every pending timer (daemon shutdown). */
  cancelAll(): void {
    for (const id of this.entries.keys()) this.cancel(id);
  }
}

/** The policy rule alone (no back-off, no cancellation). */
export function shouldRestart(c: ContainerRecord, exitCode: number, manuallyStopped: boolean): boolean {
  const policy = c.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
  switch (policy.Name) {
    case 'always': return true;
    case 'unless-stopped': return !manuallyStopped;
    case 'on-failure': {
      const max = policy.MaximumRetryCount ?? 0;
      return exitCode !== 0 && (max === 0 || c.RestartCount < max);
    }
    default: return false;
  }
}

/**
 * At daemon start, for a container that is not running: Docker restarts `always` and
 * (unless stopped by the user) `unless-stopped` containers that ran before; `on-failure` only
 * when the container was running when the daemon went away and failed meanwhile.
 */
export function shouldRestartOnBoot(c: ContainerRecord, wasRunning: boolean): boolean {
  if (c.State.StartedAt === ZERO_TIME || c.State.Running || c.State.Dead) return false;
  const name = c.HostConfig.RestartPolicy?.Name;
  if (name === 'always') return true;
  if (name === 'unless-stopped') return !c.HasBeenManuallyStopped;
  if (name === 'on-failure') return wasRunning && !c.HasBeenManuallyStopped && shouldRestart(c, c.State.ExitCode, false);
  return false;
}

/**
 * A restart that will not happen after all (cancelled, or its start failed): the container
 * becomes exited with the exit status it had. Call with the container's lock held.
 */
export async function endRestartingLocked(ctx: Pick<ContainerContext, 'store' | 'monitor'>, c: ContainerRecord, error = c.State.Error): Promise<void> {
  if (!c.State.Restarting) return;
  const finished = c.State.FinishedAt !== ZERO_TIME ? new Date(c.State.FinishedAt) : new Date();
  setExited(c, c.State.ExitCode, finished, c.State.OOMKilled, error);
  if (ctx.store.find(c.Id)) await ctx.store.save(c).catch((e) => log.warn('saving state failed', { id: c.Id, error: errorMessage(e) }));
  ctx.monitor.notifyExit(c.Id, { exitCode: c.State.ExitCode });
}

export function endRestarting(ctx: Pick<ContainerContext, 'locks' | 'store' | 'monitor'>, c: ContainerRecord): Promise<void> {
  return ctx.locks.run(c.Id, () => endRestartingLocked(ctx, c));
}
