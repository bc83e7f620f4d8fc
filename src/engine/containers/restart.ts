// `docker restart`: stop (signal, timeout, SIGKILL), then a fresh start.
import { canStart } from './Container';
import type { ContainerContext } from './context';
import { stopContainer, type SignalContext } from './stop';

export async function restartContainer(ctx: SignalContext & Pick<ContainerContext, 'supervisor'>, ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
  const c = ctx.store.get(ref);
  if (c.State.Running) await stopContainer(ctx, c, opts);
  await ctx.locks.run(c.Id, async () => {
    if (c.State.Running) return;
    canStart(c);
    // A user restart starts afresh: restart count and back-off reset (Docker's containerStart).
    ctx.restarts.reset(c.Id);
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    await ctx.supervisor.launch(c);
  });
  ctx.publish(c, 'restart');
}
