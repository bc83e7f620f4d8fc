// Removing a container and everything it owns.
import { removeTrees } from '../../lib/sys/fsbatch';
import { crashPoint } from '../../lib/crashpoint';
import { span } from '../../lib/trace';
import { SIGKILL } from '../../lib/signals';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, canRemove } from './Container';
import type { ContainerContext } from './context';
import { signalContainer, untilStopped, type SignalContext } from './stop';
import type { VolumeService } from '../volumes/VolumeService';
import { volumeNames } from './mountpoints';
import { deleteTask, markRemoving, type RemovalAfterExit, rootfsTornDown, taskTornDown } from './exit';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';

export type RemoveContext = Pick<ContainerContext,
  'config' | 'store' | 'runtime' | 'rootfs' | 'attachments' | 'attaches' | 'restarts' | 'monitor' | 'lifecycle' | 'publish' | 'onRemoved' | 'volumes' | 'earlyStarts'>;

/** A `rm -f` waiting for its container's exit: the exit's handling removes it (Supervisor.exited). */
export interface PendingRemoval extends RemovalAfterExit {
  /** Set by the exit's handling when its removal failed: the waiting `rm -f` reports it. */
  error?: unknown;
}

const removalsOnExit = new WeakMap<ContainerRecord, PendingRemoval>();

/** The `rm -f` waiting for `c`'s exit, now taken over by the exit's handling (then undefined for anyone else). */
export function takeRemovalOnExit(c: ContainerRecord): PendingRemoval | undefined {
  const r = removalsOnExit.get(c);
  removalsOnExit.delete(c);
  return r;
}

export async function removeContainer(ctx: RemoveContext & SignalContext, ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const c = ctx.store.get(ref);
  canRemove(c, !!opts.force);
  // A running container: the exit's handling removes it right after its teardown, in the same
  // lock hold and with one record write (exit.ts recordExit); this call waits for that.
  const pending: PendingRemoval = { volumes: !!opts.volumes };
  try {
    if (c.State.Running) {
      removalsOnExit.set(c, pending);
      const exited = untilStopped(ctx, c);
      await signalContainer(ctx, c, SIGKILL);
      if (c.State.Paused) await ctx.runtime.resume(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime)).catch(() => undefined);
      await exited;
    }
    await ctx.locks.run(c.Id, async () => {
      if (pending.error !== undefined) throw pending.error;
      if (!ctx.store.find(c.Id)) return; // removed with its exit (above, or AutoRemove)
      canRemove(c, !!opts.force);
      await removeLocked(ctx, c, { volumes: !!opts.volumes });
    });
  } finally {
    if (removalsOnExit.get(c) === pending) removalsOnExit.delete(c);
  }
}

/**
 * Call with the container's lock held (or at daemon start, before anything else runs).
 * `volumes`: its anonymous volumes go too (`rm -v`, AutoRemove); a named one never does.
 * `afterExit`: the exit's handling has just marked it removing (recordExit with a removal:
 * AutoRemove, or a `rm -f` that waited for the exit) and written that state, except for an
 * AutoRemove record, whose "running" on disk with no task reconcile exits and then removes.
 */
export async function removeLocked(ctx: RemoveContext, c: ContainerRecord, opts: { volumes?: boolean; afterExit?: boolean } = {}): Promise<void> {
  // A start prepared ahead and never taken: its shim and mount go first.
  await ctx.earlyStarts?.cancelLocked(c);
  if (!opts.afterExit) {
    markRemoving(c, !!opts.volumes);
    await ctx.store.save(c);
  }
  crashPoint('container.remove.after-state');
  // After an exit this daemon recorded, the task (and with a removal, the writable layer and
  // the bundle) are already gone (exit.ts): not asked twice.
  const taskDeleted = taskTornDown(c) ? Promise.resolve()
    : deleteTask(ctx, c).catch(() => undefined);
  const rootfsGone = rootfsTornDown(c);
  await span('remove.teardown', c.Id, () => Promise.all([
    taskDeleted.then(() => ctx.attachments.release(c, 'remove')),
    rootfsGone ? undefined : ctx.rootfs.removeMount(c.Id),
    rootfsGone ? undefined : removeTrees([bundleDir(ctx.config, c.Id)]),
  ]));
  // The anonymous volumes before the record: a crash in between leaves the "removing" record,
  // whose removal the next start finishes; after it, nothing would know the volumes were its.
  ctx.volumes?.releaseContainer(c.Id);
  if (c.RemoveVolumes && ctx.volumes) await removeAnonymousVolumes(ctx, ctx.volumes, c);
  await span('remove.record', c.Id, () => ctx.store.delete(c));
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
