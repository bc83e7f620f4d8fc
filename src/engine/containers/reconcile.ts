// At daemon start: records are matched with what really runs; half-done work is finished;
// attachments keep what running containers use; restart policies are applied to containers
// that stopped while the daemon was away.
import { pausePoint } from '../../lib/crashpoint';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { span } from '../../lib/trace';
import { runtimeOf } from '../config';
import { type ContainerRecord, setExited, ZERO_TIME } from './Container';
import type { ContainerContext } from './context';
import { removeLocked, type RemoveContext } from './remove';
import { deleteTask } from './exit';
import { shouldRestartOnBoot } from './restartPolicy';

export type ReconcileContext = RemoveContext & Pick<ContainerContext, 'locks' | 'supervisor'>;

export async function restoreContainers(ctx: ReconcileContext): Promise<void> {
  const records = await span('restore.load', undefined, () => ctx.store.load());
  // Writable layers matched with the records before anything starts: orphans go, a torn mount record is rebuilt.
  const layers = await span('restore.mounts', undefined, () => ctx.rootfs.reconcileMounts((id) => ctx.store.mountOwner(id)));
  await remakeTornLayers(ctx, records.filter((c) => !layers.has(c.Id)));
  const wasRunning = new Set<string>();
  await span('restore.match', undefined, () => Promise.all(records.map(async (c) => {
    try {
      if (await matchRecord(ctx, c)) wasRunning.add(c.Id);
    } catch (e) {
      log.error('reconcile failed', { id: c.Id, error: errorMessage(e) });
    }
  })));
  await pausePoint('container.restore.after-match');
  await span('restore.orphans', undefined, () => deleteOrphanTasks(ctx));
  // A copy out of or into a stopped container (docker cp, export) mounts its layer for a while:
  // one cut short by a crash left it mounted.
  // One read of mountinfo for all of them, not one per record.
  const mounted = await ctx.rootfs.mountedIds();
  await Promise.all(ctx.store.all().filter((c) => !c.State.Running && mounted.has(c.Id)).map((c) => ctx.rootfs.unmount(c.Id)
    .catch((e) => log.warn('unmount of a stopped container\'s layer failed', { id: c.Id, error: errorMessage(e) }))));
  // Before any restart below, so that nothing is half-prepared while attachments look.
  await span('restore.attachments', undefined, () => ctx.attachments.reconcile(ctx.store.all()));
  await Promise.all(ctx.store.all().filter((c) => shouldRestartOnBoot(c, wasRunning.has(c.Id))).map((c) => bootRestart(ctx, c)));
}

/**
 * A create writes the record and the writable layer side by side: one cut short can leave the
 * record alone (the layer missing, or its directory alone, which reconcileMounts made whole).
 * A container that never started has nothing in its layer yet: it is made again.
 */
async function remakeTornLayers(ctx: ReconcileContext, lacking: ContainerRecord[]): Promise<void> {
  await Promise.all(lacking.map(async (c) => {
    if (c.State.Status === 'removing') return; // the removal goes on without it
    if (c.State.Status !== 'created' || c.State.StartedAt !== ZERO_TIME) {
      log.error('container has no writable layer', { id: c.Id, status: c.State.Status });
      return;
    }
    log.warn('writable layer of a create cut short made again', { id: c.Id });
    await ctx.rootfs.createMount(c.Id, c.ImageChainId ?? null)
      .catch((e) => log.error('could not make the writable layer again', { id: c.Id, error: errorMessage(e) }));
  }));
}

/**
 * Tasks whose record does not say running (after matching): a crash between a start's runtime
 * start and its record write (start.ts), or a teardown that failed. Deleted (killed), with
 * their shim files; the unmount and the attachments' release below treat them as stopped.
 */
async function deleteOrphanTasks(ctx: ReconcileContext): Promise<void> {
  const ids = await ctx.runtime.taskIds().catch((e) => { log.warn('listing tasks failed', { error: errorMessage(e) }); return [] as string[]; });
  await Promise.all(ids.map(async (id) => {
    const c = ctx.store.find(id);
    if (!c || c.Id !== id || c.State.Running) return;
    log.info('deleting a task its record does not know as running', { id, status: c.State.Status });
    await deleteTask(ctx, c)
      .catch((e) => log.warn('deleting an orphan task failed', { id, error: errorMessage(e) }));
  }));
}

/** Brings one record in line with the runtime; true when its task ran until the daemon went away. */
async function matchRecord(ctx: ReconcileContext, c: ContainerRecord): Promise<boolean> {
  if (c.State.Status === 'removing') {
    // A removal that was cut short: finish it.
    await removeLocked(ctx, c);
    return false;
  }
  if (c.State.Restarting) {
    // The daemon went away while a restart was pending: the task is long gone.
    setExited(c, c.State.ExitCode, new Date(c.State.FinishedAt), c.State.OOMKilled, c.State.Error);
    await ctx.store.save(c);
    return true;
  }
  if (!c.State.Running) return false;
  const state = await ctx.runtime.state(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime)).catch(() => undefined);
  if (state && (state.status === 'running' || state.status === 'paused')) {
    c.State.Paused = state.status === 'paused';
    c.State.Status = state.status;
    ctx.supervisor.adopt(c);
    return false;
  }
  const exit = await ctx.runtime.readExit(c.Id).catch(() => undefined);
  await ctx.supervisor.exited(c, exit ?? { exitCode: 255, exitedAt: new Date(), oomKilled: false }, { restart: false });
  return true;
}

/** As Docker's restore: started afresh (restart count and manual-stop flag reset). */
async function bootRestart(ctx: ReconcileContext, c: ContainerRecord): Promise<void> {
  await ctx.locks.run(c.Id, async () => {
    if (c.State.Running || !ctx.store.find(c.Id)) return;
    log.info('restarting container by its restart policy', { id: c.Id, policy: c.HostConfig.RestartPolicy.Name });
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    await ctx.supervisor.launch(c);
  }).catch((e) => log.error('restart at daemon start failed', { id: c.Id, error: errorMessage(e) }));
}
