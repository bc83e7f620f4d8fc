// Removing a container and everything it owns.
import * as fsp from 'node:fs/promises';
import { span } from '../../lib/trace';
import { SIGKILL } from '../../lib/signals';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, canRemove } from './Container';
import type { ContainerContext } from './context';
import { signalContainer, untilStopped, type SignalContext } from './stop';

export type RemoveContext = Pick<ContainerContext,
  'config' | 'store' | 'runtime' | 'rootfs' | 'attachments' | 'attaches' | 'restarts' | 'monitor' | 'lifecycle' | 'publish' | 'onRemoved'>;

export async function removeContainer(ctx: RemoveContext & SignalContext, ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const c = ctx.store.get(ref);
  canRemove(c, !!opts.force);
  if (c.State.Running) {
    const exited = untilStopped(ctx, c);
    await signalContainer(ctx, c, SIGKILL);
    if (c.State.Paused) await ctx.runtime.resume(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime)).catch(() => undefined);
    await exited;
  }
  await ctx.locks.run(c.Id, async () => {
    if (!ctx.store.find(c.Id)) return; // AutoRemove got there first
    canRemove(c, !!opts.force);
    await removeLocked(ctx, c);
  });
}

/** Call with the container's lock held (or at daemon start, before anything else runs). */
export async function removeLocked(ctx: RemoveContext, c: ContainerRecord): Promise<void> {
  c.State.Status = 'removing';
  await ctx.store.save(c);
  const rt = runtimeOf(ctx.config, c.HostConfig.Runtime);
  await span('remove.teardown', c.Id, () => Promise.all([
    ctx.runtime.delete(c.Id, rt, true).then(() => ctx.runtime.cleanup(c.Id)).catch(() => undefined)
      .then(() => ctx.attachments.release(c, 'remove')),
    ctx.rootfs.removeMount(c.Id),
    fsp.rm(bundleDir(ctx.config, c.Id), { recursive: true, force: true }),
  ]));
  await span('remove.record', c.Id, () => ctx.store.delete(c));
  ctx.attaches.endPending(c.Id);
  ctx.publish(c, 'destroy');
  ctx.onRemoved(c);
  ctx.lifecycle.emit('removed', c);
  ctx.restarts.reset(c.Id);
  ctx.monitor.notifyRemoved(c.Id, { exitCode: c.State.ExitCode });
}
