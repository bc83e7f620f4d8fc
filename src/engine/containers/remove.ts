// Removing a container and everything it owns.
import * as fsp from 'node:fs/promises';
import { crashPoint } from '../../lib/crashpoint';
import { span } from '../../lib/trace';
import { SIGKILL } from '../../lib/signals';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, canRemove } from './Container';
import type { ContainerContext } from './context';
import { signalContainer, untilStopped, type SignalContext } from './stop';
import type { VolumeService } from '../volumes/VolumeService';
import { volumeNames } from './mountpoints';
import { deleteTask, taskTornDown } from './exit';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';

export type RemoveContext = Pick<ContainerContext,
  'config' | 'store' | 'runtime' | 'rootfs' | 'attachments' | 'attaches' | 'restarts' | 'monitor' | 'lifecycle' | 'publish' | 'onRemoved' | 'volumes'>;

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
    await removeLocked(ctx, c, { volumes: !!opts.volumes });
  });
}

/**
 * Call with the container's lock held (or at daemon start, before anything else runs).
 * `volumes`: its anonymous volumes go too (`rm -v`, AutoRemove); a named one never does.
 * `autoRemoveAfterExit`: the supervisor's removal of an AutoRemove container whose task just
 * exited. Its record on disk still says running (the exit is not saved for these), and a
 * running AutoRemove record whose task is gone is what reconcile exits and then removes, with
 * its volumes: the "removing" state would say nothing more, so it is not written.
 */
export async function removeLocked(ctx: RemoveContext, c: ContainerRecord, opts: { volumes?: boolean; autoRemoveAfterExit?: boolean } = {}): Promise<void> {
  c.State.Status = 'removing';
  // Kept with the state, so that a removal finished at the next start still removes them.
  if (opts.volumes) c.RemoveVolumes = true;
  if (!(opts.autoRemoveAfterExit && c.HostConfig.AutoRemove)) await ctx.store.save(c);
  crashPoint('container.remove.after-state');
  // After an exit this daemon recorded, the task is already deleted (exit.ts): not asked twice.
  const taskDeleted = taskTornDown(c) ? Promise.resolve()
    : deleteTask(ctx, c).catch(() => undefined);
  await span('remove.teardown', c.Id, () => Promise.all([
    taskDeleted.then(() => ctx.attachments.release(c, 'remove')),
    ctx.rootfs.removeMount(c.Id),
    fsp.rm(bundleDir(ctx.config, c.Id), { recursive: true, force: true }),
  ]));
  await span('remove.record', c.Id, () => ctx.store.delete(c));
  ctx.volumes?.releaseContainer(c.Id);
  if (c.RemoveVolumes && ctx.volumes) await removeAnonymousVolumes(ctx, ctx.volumes, c);
  ctx.attaches.endPending(c.Id);
  ctx.publish(c, 'destroy');
  ctx.onRemoved(c);
  ctx.lifecycle.emit('removed', c);
  ctx.restarts.reset(c.Id);
  ctx.monitor.notifyRemoved(c.Id, { exitCode: c.State.ExitCode });
}

/** A volume that another container still uses (--volumes-from) stays, as Docker leaves it. */
async function removeAnonymousVolumes(ctx: Pick<RemoveContext, 'store'>, volumes: VolumeService, c: ContainerRecord): Promise<void> {
  // Asked of the records too: a removal finished at start runs before the users are rebuilt.
  const others = new Set(ctx.store.all().filter((o) => o.Id !== c.Id).flatMap((o) => volumeNames(o.MountPoints)));
  for (const mp of c.MountPoints ?? []) {
    if (mp.Type !== 'volume' || !mp.Anonymous || !mp.Name) continue;
    if (others.has(mp.Name)) { log.info('anonymous volume kept: another container uses it', { id: c.Id, volume: mp.Name }); continue; }
    await volumes.remove(mp.Name).catch((e) => log.warn('anonymous volume kept', { id: c.Id, volume: mp.Name, error: errorMessage(e) }));
  }
}
