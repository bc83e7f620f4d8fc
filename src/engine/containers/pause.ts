// Freezing and thawing a container through the runtime (cgroup freezer).
import { runtimeOf } from '../config';
import { canPause, canUnpause } from './Container';
import type { ContainerContext } from './context';

export type PauseContext = Pick<ContainerContext, 'config' | 'store' | 'runtime' | 'locks' | 'publish'>;

export async function pauseContainer(ctx: PauseContext, ref: string): Promise<void> {
  const c = ctx.store.get(ref);
  await ctx.locks.run(c.Id, async () => {
    canPause(c);
    await ctx.runtime.pause(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime));
    c.State.Paused = true;
    c.State.Status = 'paused';
    await ctx.store.save(c);
  });
  ctx.publish(c, 'pause');
}

export async function unpauseContainer(ctx: PauseContext, ref: string): Promise<void> {
  const c = ctx.store.get(ref);
  await ctx.locks.run(c.Id, async () => {
    canUnpause(c);
    await ctx.runtime.resume(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime));
    c.State.Paused = false;
    c.State.Status = 'running';
    await ctx.store.save(c);
  });
  ctx.publish(c, 'unpause');
}
