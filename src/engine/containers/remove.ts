// Removing a container and everything it owns.
import * as fsp from 'node:fs/promises';
import { span } from '../../lib/trace';
import { SIGKILL } from '../../lib/signals';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, canRemove } from './Container';
import type { ContainerService } from './ContainerService';
import { signalContainer, untilStopped } from './stop';

export async function removeContainer(svc: ContainerService, ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const c = svc.store.get(ref);
  canRemove(c, !!opts.force);
  if (c.State.Running) {
    const exited = untilStopped(svc, c);
    await signalContainer(svc, c, SIGKILL);
    if (c.State.Paused) await svc.runtime.resume(c.Id, runtimeOf(svc.config, c.HostConfig.Runtime)).catch(() => undefined);
    await exited;
  }
  await svc.locks.run(c.Id, async () => {
    if (!svc.store.find(c.Id)) return; // AutoRemove got there first
    canRemove(c, !!opts.force);
    await removeLocked(svc, c);
  });
}

export async function removeLocked(svc: ContainerService, c: ContainerRecord): Promise<void> {
  c.State.Status = 'removing';
  await svc.store.save(c);
  const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
  await span('remove.teardown', c.Id, () => Promise.all([
    svc.runtime.delete(c.Id, rt, true).then(() => svc.runtime.cleanup(c.Id)).catch(() => undefined),
    svc.rootfs.removeMount(c.Id),
    fsp.rm(bundleDir(svc.config, c.Id), { recursive: true, force: true }),
  ]));
  await span('remove.record', c.Id, () => svc.store.delete(c));
  svc.attaches.endPending(c.Id);
  svc.publish(c, 'destroy');
  svc.deps.onRemoved?.(c);
  svc.deps.health?.stop(c, false);
  svc.lifecycle.emit('removed', c);
  svc.restarts.reset(c.Id);
  svc.monitor.notifyRemoved(c.Id, { exitCode: c.State.ExitCode });
}
