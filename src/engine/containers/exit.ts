// A task exited: record it, tear down runtime state and rootfs, notify, auto-remove.
import * as fsp from 'node:fs/promises';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { span } from '../../lib/trace';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, setExited } from './Container';
import type { ContainerService } from './ContainerService';
import { removeLocked } from './remove';

export function watchExit(svc: ContainerService, c: ContainerRecord): void {
  svc.runtime.waitExit(c.Id).then(
    (status) => handleExit(svc, c, status),
    (e) => log.error('waiting for exit failed', { id: c.Id, error: errorMessage(e) }),
  );
}

export async function handleExit(svc: ContainerService, c: ContainerRecord, status: { exitCode: number; exitedAt: Date; oomKilled: boolean }): Promise<void> {
  await svc.locks.run(c.Id, async () => {
    if (!svc.store.find(c.Id)) return;
    const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
    if (status.oomKilled) svc.publish(c, 'oom');
    setExited(c, status.exitCode, status.exitedAt, status.oomKilled);
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
    svc.monitor.notifyExit(c.Id, { exitCode: status.exitCode });
    if (c.HostConfig.AutoRemove) await removeLocked(svc, c);
  });
}
