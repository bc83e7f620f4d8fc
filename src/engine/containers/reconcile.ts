// At daemon start: records are matched with what really runs; half-done work is finished.
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { runtimeOf } from '../config';
import { type ContainerRecord } from './Container';
import type { ContainerService } from './ContainerService';
import { handleExit, watchExit } from './exit';
import { removeLocked } from './remove';

export async function restoreContainers(svc: ContainerService): Promise<void> {
  const records = await svc.store.load();
  await Promise.all(records.map((c) => reconcileContainer(svc, c).catch((e) => log.error('reconcile failed', { id: c.Id, error: errorMessage(e) }))));
}

export async function reconcileContainer(svc: ContainerService, c: ContainerRecord): Promise<void> {
  const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
  if (c.State.Status === 'removing') {
    // A removal that was cut short: finish it.
    await removeLocked(svc, c);
    return;
  }
  if (!c.State.Running) return;
  const state = await svc.runtime.state(c.Id, rt).catch(() => undefined);
  if (state && (state.status === 'running' || state.status === 'paused')) {
    c.State.Paused = state.status === 'paused';
    c.State.Status = state.status;
    watchExit(svc, c);
    return;
  }
  const exit = await svc.runtime.readExit(c.Id).catch(() => undefined);
  await handleExit(svc, c, exit ?? { exitCode: 255, exitedAt: new Date(), oomKilled: false });
}
