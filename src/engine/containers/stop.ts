// Signals, stop with a timeout escalating to SIGKILL, and restart.
import { BerthError, NotModifiedError, errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { SIGKILL, SIGTERM, parseSignal } from '../../lib/signals';
import { runtimeOf } from '../config';
import { type ContainerRecord, canKill, canStart } from './Container';
import type { ContainerService } from './ContainerService';
import type { ExitInfo } from './ExitMonitor';
import { endRestarting } from './restart';
import { startLocked } from './start';

export async function killContainer(svc: ContainerService, ref: string, signal?: string): Promise<void> {
  const c = svc.store.get(ref);
  const sig = signal ? parseSignal(signal) : SIGKILL;
  canKill(c);
  await signalContainer(svc, c, sig);
}

export async function signalContainer(svc: ContainerService, c: ContainerRecord, sig: number): Promise<void> {
  const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
  // As Docker's killWithSignal: any kill marks the container manually stopped (not during
  // daemon shutdown); SIGKILL or the stop signal (any signal without one) also cancels the
  // restart policy until the user starts it again.
  if (!svc.shuttingDown) c.HasBeenManuallyStopped = true;
  if (!c.Config.StopSignal || sig === SIGKILL || parseSignal(c.Config.StopSignal) === sig) {
    if (svc.restarts.cancel(c.Id)) await endRestarting(svc, c);
  }
  // A container waiting for its restart has no task to signal.
  if (c.State.Restarting) {
    await svc.locks.run(c.Id, async () => undefined); // a restart in flight finishes first
    if (c.State.Restarting || !c.State.Running) return;
  }
  try {
    await svc.runtime.kill(c.Id, sig, rt);
  } catch (e) {
    // Raced with the exit: the container is already gone, which is what was asked; its exit
    // is being recorded (the runtime says "not running" before the exit watcher has run).
    if (!c.State.Running || c.State.Restarting) return;
    if (e instanceof BerthError && (e.kind === 'Conflict' || e.kind === 'NotFound')) return;
    throw e;
  }
  svc.publish(c, 'kill', { signal: String(sig) });
}

/** Resolves once the container is not running (immediately when it is not). */
export function untilStopped(svc: ContainerService, c: ContainerRecord): Promise<ExitInfo> {
  if (!c.State.Running) return Promise.resolve({ exitCode: c.State.ExitCode });
  return svc.monitor.nextExit(c.Id);
}

export async function stopByRef(svc: ContainerService, ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
  const c = svc.store.get(ref);
  if (!c.State.Running) throw new NotModifiedError();
  await stopContainer(svc, c, opts);
  svc.publish(c, 'stop');
}

export async function stopContainer(svc: ContainerService, c: ContainerRecord, opts: { signal?: string; timeout?: number }): Promise<void> {
  const sig = parseSignal(opts.signal || c.Config.StopSignal || 'SIGTERM');
  const timeout = opts.timeout ?? c.Config.StopTimeout ?? 10;
  const exited = untilStopped(svc, c);
  if (!svc.shuttingDown) c.HasBeenManuallyStopped = true;
  // A stop cancels a pending restart: the container is then simply exited.
  if (svc.restarts.cancel(c.Id)) await endRestarting(svc, c);
  if (c.State.Restarting) await svc.locks.run(c.Id, async () => undefined);
  if (!c.State.Running) { await exited; return; }
  if (c.State.Paused) {
    await signalContainer(svc, c, SIGKILL);
    await svc.unpause(c.Id).catch(() => undefined);
    await exited;
    return;
  }
  await signalContainer(svc, c, sig).catch((e) => log.warn('stop signal failed', { id: c.Id, error: errorMessage(e) }));
  if (timeout < 0) { await exited; return; }
  const timedOut = await Promise.race([exited.then(() => false), sleep(timeout * 1000).then(() => true)]);
  if (timedOut && c.State.Running) {
    await signalContainer(svc, c, SIGKILL);
    await exited;
  }
}

export async function restartContainer(svc: ContainerService, ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
  const c = svc.store.get(ref);
  if (c.State.Running) await stopContainer(svc, c, opts);
  await svc.locks.run(c.Id, async () => {
    if (c.State.Running) return;
    canStart(c);
    // A user restart starts afresh: restart count and back-off reset (Docker's containerStart).
    svc.restarts.reset(c.Id);
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    await startLocked(svc, c);
  });
  svc.publish(c, 'restart');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
