// At daemon start: records are matched with what really runs; half-done work is finished;
// restart policies are applied to containers that stopped while the daemon was away.
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { runtimeOf } from '../config';
import { type ContainerRecord, setExited } from './Container';
import type { ContainerService } from './ContainerService';
import { handleExit, watchExit } from './exit';
import { removeLocked } from './remove';
import { shouldRestartOnBoot } from './restart';
import { startLocked } from './start';

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
  let wasRunning = false;
  if (c.State.Restarting) {
    // The daemon went away while a restart was pending: the task is long gone.
    setExited(c, c.State.ExitCode, new Date(c.State.FinishedAt), c.State.OOMKilled, c.State.Error);
    await svc.store.save(c);
    wasRunning = true;
  } else if (c.State.Running) {
    const state = await svc.runtime.state(c.Id, rt).catch(() => undefined);
    if (state && (state.status === 'running' || state.status === 'paused')) {
      c.State.Paused = state.status === 'paused';
      c.State.Status = state.status;
      watchExit(svc, c);
      void svc.deps.health?.start(c);
      return;
    }
    const exit = await svc.runtime.readExit(c.Id).catch(() => undefined);
    await handleExit(svc, c, exit ?? { exitCode: 255, exitedAt: new Date(), oomKilled: false }, { restart: false });
    if (!svc.store.find(c.Id)) return; // auto-removed
    wasRunning = true;
  }
  if (!shouldRestartOnBoot(c, wasRunning)) return;
  // As Docker's restore: started afresh (restart count and manual-stop flag reset).
  await svc.locks.run(c.Id, async () => {
    if (c.State.Running || !svc.store.find(c.Id)) return;
    log.info('restarting container by its restart policy', { id: c.Id, policy: c.HostConfig.RestartPolicy.Name });
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    await startLocked(svc, c);
  }).catch((e) => log.error('restart at daemon start failed', { id: c.Id, error: errorMessage(e) }));
}
