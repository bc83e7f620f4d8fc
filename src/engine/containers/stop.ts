// Signals, stop with a timeout escalating to SIGKILL, and restart.
import { NotModifiedError, errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { SIGKILL, SIGTERM, parseSignal } from '../../lib/signals';
import { runtimeOf } from '../config';
import { type ContainerRecord, canKill, canStart } from './Container';
import type { ContainerService } from './ContainerService';
import type { ExitInfo } from './ExitMonitor';
import { startLocked } from './start';

export async function killContainer(svc: ContainerService, ref: string, signal?: string): Promise<void> {
  const c = svc.store.get(ref);
  const sig = signal ? parseSignal(signal) : SIGKILL;
  canKill(c);
  await signalContainer(svc, c, sig);
}

export async function signalContainer(svc: ContainerService, c: ContainerRecord, sig: number): Promise<void> {
  const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
  try {
    await svc.runtime.kill(c.Id, sig, rt);
  } catch (e) {
    // Raced with the exit: the container is already gone, which is what was asked.
    if (!c.State.Running) return;
    throw e;
  }
  if (sig === SIGKILL || sig === SIGTERM || c.Config.StopSignal && parseSignal(c.Config.StopSignal) === sig) {
    c.HasBeenManuallyStopped = true;
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
  c.HasBeenManuallyStopped = true;
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
    await startLocked(svc, c);
  });
  svc.publish(c, 'restart');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
