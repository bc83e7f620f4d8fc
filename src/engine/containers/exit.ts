// A task exited: record it, tear down runtime state and rootfs, notify, then either schedule
// the restart policy's restart or auto-remove.
import * as fsp from 'node:fs/promises';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { span } from '../../lib/trace';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, setExited, setRestarting } from './Container';
import type { ContainerService } from './ContainerService';
import { removeLocked } from './remove';
import { endRestartingLocked } from './restart';
import { startLocked } from './start';

export function watchExit(svc: ContainerService, c: ContainerRecord): void {
  svc.runtime.waitExit(c.Id).then(
    (status) => handleExit(svc, c, status),
    (e) => log.error('waiting for exit failed', { id: c.Id, error: errorMessage(e) }),
  );
}

export async function handleExit(
  svc: ContainerService, c: ContainerRecord, status: { exitCode: number; exitedAt: Date; oomKilled: boolean },
  opts: { restart?: boolean } = {},
): Promise<void> {
  await svc.locks.run(c.Id, async () => {
    if (!svc.store.find(c.Id)) return;
    const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
    if (status.oomKilled) svc.publish(c, 'oom');
    const ranMs = status.exitedAt.getTime() - Date.parse(c.State.StartedAt);
    const delay = opts.restart === false ? undefined
      : svc.restarts.decide(c, status.exitCode, c.HasBeenManuallyStopped || svc.shuttingDown, ranMs);
    if (delay !== undefined) {
      c.RestartCount++;
      setRestarting(c, status.exitCode, status.exitedAt, status.oomKilled);
    } else {
      setExited(c, status.exitCode, status.exitedAt, status.oomKilled);
    }
    // Independent teardown steps run together: the runtime's state, the shim's files, the rootfs.
    await span('exit.teardown', c.Id, () => Promise.all([
      svc.runtime.delete(c.Id, rt, true).then(() => svc.runtime.cleanup(c.Id))
        .catch((e) => log.warn('runtime delete failed', { id: c.Id, error: errorMessage(e) })),
      svc.rootfs.unmount(c.Id).catch((e) => log.warn('unmount failed', { id: c.Id, error: errorMessage(e) })),
      fsp.rm(bundleDir(svc.config, c.Id), { recursive: true, force: true }).catch(() => undefined),
    ]));
    // An AutoRemove container goes straight on to removal; a crash in between is repaired
    // by reconcile (running record, no task: exited, then removed).
    if (!c.HostConfig.AutoRemove) await span('exit.save', c.Id, () => svc.store.save(c));
    svc.publish(c, 'die', { exitCode: String(status.exitCode) });
    // As Docker: waiters for "not-running"/"next-exit" wake at every exit, restarts included.
    svc.monitor.notifyExit(c.Id, { exitCode: status.exitCode });
    svc.deps.health?.stop(c, true);
    svc.lifecycle.emit('stopped', c);
    if (delay !== undefined) {
      log.info('restarting container', { id: c.Id, restartCount: c.RestartCount, delayMs: delay, exitCode: status.exitCode });
      svc.restarts.schedule(c.Id, delay, () => void restartNow(svc, c));
      return;
    }
    if (c.HostConfig.AutoRemove) await removeLocked(svc, c);
  });
}

/** The policy's restart, when its back-off delay is over. */
async function restartNow(svc: ContainerService, c: ContainerRecord): Promise<void> {
  await svc.locks.run(c.Id, async () => {
    if (!svc.store.find(c.Id) || !c.State.Restarting) return;
    if (svc.shuttingDown) return; // left "restarting": the next daemon start decides
    if (svc.restarts.isCanceled(c.Id)) {
      await endRestartingLocked(svc, c);
      return;
    }
    try {
      await startLocked(svc, c);
    } catch (e) {
      log.warn('restart failed', { id: c.Id, error: errorMessage(e) });
      await endRestartingLocked(svc, c, c.State.Error || errorMessage(e));
    }
  }).catch((e) => log.error('restart failed', { id: c.Id, error: errorMessage(e) }));
}
