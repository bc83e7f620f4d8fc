// Signals, and stop with a timeout escalating to SIGKILL.
import { BerthError, NotModifiedError, errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { SIGKILL, parseSignal } from '../../lib/signals';
import { runtimeOf } from '../config';
import { type ContainerRecord, canKill } from './Container';
import type { ContainerContext } from './context';
import type { ExitInfo } from './ExitMonitor';
import { unpauseContainer } from './pause';
import { endRestarting } from './restartPolicy';

export type SignalContext = Pick<ContainerContext, 'config' | 'store' | 'runtime' | 'locks' | 'monitor' | 'restarts' | 'shuttingDown' | 'publish'>;

/** How long a SIGKILLed container may take to be recorded exited before its PID is killed directly (Docker's). */
const KILL_WAIT_MS = 10_000;
const LAST_WAIT_MS = 2_000;

/**
 * `docker kill`. As Docker's Kill, SIGKILL (the default) returns once the exit is recorded,
 * so an inspect right after says not running and an `rm` right after succeeds; any other
 * signal returns once it is delivered.
 */
export async function killContainer(ctx: SignalContext, ref: string, signal?: string): Promise<void> {
  const c = ctx.store.get(ref);
  const sig = signal ? parseSignal(signal) : SIGKILL;
  canKill(c);
  if (sig !== SIGKILL) return signalContainer(ctx, c, sig);
  const exited = untilStopped(ctx, c);
  await signalContainer(ctx, c, sig);
  // A frozen task cannot die: thaw it (the kill is pending on it).
  if (c.State.Paused) await ctx.runtime.resume(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime)).catch(() => undefined);
  if (await within(exited, KILL_WAIT_MS)) return;
  log.warn('container did not exit after SIGKILL; killing its process directly', { id: c.Id, pid: c.State.Pid });
  if (c.State.Pid > 0) try { process.kill(c.State.Pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  await within(exited, LAST_WAIT_MS);
}

/** True when the promise settled within ms. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function signalContainer(ctx: SignalContext, c: ContainerRecord, sig: number): Promise<void> {
  const rt = runtimeOf(ctx.config, c.HostConfig.Runtime);
  // As Docker's killWithSignal: any kill marks the container manually stopped (not during
  // daemon shutdown); SIGKILL or the stop signal (any signal without one) also cancels the
  // restart policy until the user starts it again.
  if (!ctx.shuttingDown()) c.HasBeenManuallyStopped = true;
  if (!c.Config.StopSignal || sig === SIGKILL || parseSignal(c.Config.StopSignal) === sig) {
    if (ctx.restarts.cancel(c.Id)) await endRestarting(ctx, c);
  }
  // A container waiting for its restart has no task to signal.
  if (c.State.Restarting) {
    await ctx.locks.run(c.Id, async () => undefined); // a restart in flight finishes first
    if (c.State.Restarting || !c.State.Running) return;
  }
  try {
    await ctx.runtime.kill(c.Id, sig, rt);
  } catch (e) {
    // Raced with the exit: the container is already gone, which is what was asked; its exit
    // is being recorded (the runtime says "not running" before the exit watcher has run).
    if (!c.State.Running || c.State.Restarting) return;
    if (e instanceof BerthError && (e.kind === 'Conflict' || e.kind === 'NotFound')) return;
    throw e;
  }
  ctx.publish(c, 'kill', { signal: String(sig) });
}

/** Resolves once the container is not running (immediately when it is not). */
export function untilStopped(ctx: Pick<ContainerContext, 'monitor'>, c: ContainerRecord): Promise<ExitInfo> {
  if (!c.State.Running) return Promise.resolve({ exitCode: c.State.ExitCode });
  return ctx.monitor.nextExit(c.Id);
}

export async function stopByRef(ctx: SignalContext, ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
  const c = ctx.store.get(ref);
  if (!c.State.Running) throw new NotModifiedError();
  await stopContainer(ctx, c, opts);
  ctx.publish(c, 'stop');
}

export async function stopContainer(ctx: SignalContext, c: ContainerRecord, opts: { signal?: string; timeout?: number }): Promise<void> {
  const sig = parseSignal(opts.signal || c.Config.StopSignal || 'SIGTERM');
  const timeout = opts.timeout ?? c.Config.StopTimeout ?? 10;
  const exited = untilStopped(ctx, c);
  if (!ctx.shuttingDown()) c.HasBeenManuallyStopped = true;
  // A stop cancels a pending restart: the container is then simply exited.
  if (ctx.restarts.cancel(c.Id)) await endRestarting(ctx, c);
  if (c.State.Restarting) await ctx.locks.run(c.Id, async () => undefined);
  if (!c.State.Running) { await exited; return; }
  if (c.State.Paused) {
    await signalContainer(ctx, c, SIGKILL);
    await unpauseContainer(ctx, c.Id).catch(() => undefined);
    await exited;
    return;
  }
  await signalContainer(ctx, c, sig).catch((e) => log.warn('stop signal failed', { id: c.Id, error: errorMessage(e) }));
  if (timeout < 0) { await exited; return; }
  const timedOut = await Promise.race([exited.then(() => false), sleep(timeout * 1000).then(() => true)]);
  if (timedOut && c.State.Running) {
    await signalContainer(ctx, c, SIGKILL);
    await exited;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
