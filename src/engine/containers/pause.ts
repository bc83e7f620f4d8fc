// Freezing and thawing a container through the runtime (cgroup freezer).
import { runtimeOf } from '../config';
import { canPause, canUnpause } from './Container';
import type { ContainerService } from './ContainerService';

export async function pauseContainer(svc: ContainerService, ref: string): Promise<void> {
  const c = svc.store.get(ref);
  await svc.locks.run(c.Id, async () => {
    canPause(c);
    await svc.runtime.pause(c.Id, runtimeOf(svc.config, c.HostConfig.Runtime));
    c.State.Paused = true;
    c.State.Status = 'paused';
    await svc.store.save(c);
  });
  svc.publish(c, 'pause');
}

export async function unpauseContainer(svc: ContainerService, ref: string): Promise<void> {
  const c = svc.store.get(ref);
  await svc.locks.run(c.Id, async () => {
    canUnpause(c);
    await svc.runtime.resume(c.Id, runtimeOf(svc.config, c.HostConfig.Runtime));
    c.State.Paused = false;
    c.State.Status = 'running';
    await svc.store.save(c);
  });
  svc.publish(c, 'unpause');
}
