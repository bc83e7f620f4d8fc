// A task exited: record it, tear down its runtime state, rootfs and attachments, tell the
// waiters. What follows (restart, auto-remove, health) is the supervisor's decision.
import { removeTrees } from '../../lib/sys/fsbatch';
import { crashPoint } from '../../lib/crashpoint';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { span } from '../../lib/trace';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, setExited, setRestarting } from './Container';
import type { ContainerContext, ExitStatus } from './context';

export type ExitContext = Pick<ContainerContext, 'config' | 'store' | 'runtime' | 'rootfs' | 'attachments' | 'monitor' | 'publish'>;

/**
 * Records whose task this daemon has deleted from the runtime (and whose shim files are gone)
 * since their last start. The removal that follows an exit (AutoRemove, `rm -f`) skips its own
 * runtime delete for these: for a runtime without an in-process delete that is one process per
 * removal, on the `run --rm` path. In memory only: after a daemon restart the removal deletes
 * as before (a delete of a task that is gone is a no-op, only slower).
 */
const tornDown = new WeakSet<ContainerRecord>();

/** Records whose writable layer the exit's teardown has already removed (a removal followed). */
const rootfsRemoved = new WeakSet<ContainerRecord>();

/** Whether the runtime's state and the shim's files of `c`'s last task are already gone. */
export function taskTornDown(c: ContainerRecord): boolean {
  return tornDown.has(c);
}

/** Whether the exit's teardown has already unmounted and deleted `c`'s writable layer. */
export function rootfsTornDown(c: ContainerRecord): boolean {
  return rootfsRemoved.has(c);
}

/** A new task is being made for `c` (start, restart): its teardown is to come. */
export function taskStarting(c: ContainerRecord): void {
  tornDown.delete(c);
  rootfsRemoved.delete(c);
}

/** The removal's first step: the state that says so (kept with `volumes`, so that one finished at the next start removes them too). */
export function markRemoving(c: ContainerRecord, volumes: boolean): void {
  c.State.Status = 'removing';
  if (volumes) c.RemoveVolumes = true;
}

/** A removal that follows the exit at once, under the same lock hold (AutoRemove, `rm -f` of a running container). */
export interface RemovalAfterExit { volumes: boolean }

/** Deletes `c`'s task from its runtime (forced: killed if it still runs), then the shim's files. */
export function deleteTask(ctx: Pick<ContainerContext, 'config' | 'runtime'>, c: ContainerRecord): Promise<void> {
  return ctx.runtime.delete(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime), true).then(() => ctx.runtime.cleanup(c.Id));
}

/**
 * Call with the container's lock held; `restarting`: the restart policy will start it again.
 * `removal`: the caller removes the container right after (removeLocked with `afterExit`). Its
 * exit and its removal are then one stage: the record is written once, as "removing", beside
 * the teardown instead of "exited" after it, and the writable layer goes with the unmount.
 * An AutoRemove record is not written at all: a crash in between leaves it running on disk
 * with no task, which reconcile exits and then removes (AutoRemove). A record written as
 * "removing" is removed by reconcile; one still "running" (a crash before the write) is exited.
 */
export async function recordExit(ctx: ExitContext, c: ContainerRecord, status: ExitStatus, restarting: boolean, removal?: RemovalAfterExit): Promise<void> {
  if (status.oomKilled) ctx.publish(c, 'oom');
  if (restarting) {
    c.RestartCount++;
    setRestarting(c, status.exitCode, status.exitedAt, status.oomKilled);
  } else {
    setExited(c, status.exitCode, status.exitedAt, status.oomKilled);
  }
  if (removal) markRemoving(c, removal.volumes);
  const removingSaved = removal && !c.HostConfig.AutoRemove
    ? span('exit.save', c.Id, () => ctx.store.save(c)).then(() => crashPoint('container.exit.after-removing'))
    : Promise.resolve();
  // The writable layer is deleted only once the record says "removing" (or never will: AutoRemove).
  const rootfs = removal
    ? removingSaved.then(() => ctx.rootfs.removeMount(c.Id).then(() => { rootfsRemoved.add(c); }), () => ctx.rootfs.unmount(c.Id))
    : ctx.rootfs.unmount(c.Id);
  // Independent teardown steps run together: the runtime's state, the shim's files, the
  // rootfs, the bundle; the attachments are released once the task is gone.
  await span('exit.teardown', c.Id, () => Promise.all([
    deleteTask(ctx, c).then(() => { tornDown.add(c); })
      .catch((e) => log.warn('runtime delete failed', { id: c.Id, error: errorMessage(e) }))
      .then(() => ctx.attachments.release(c, 'exit')),
    rootfs.catch((e) => log.warn('unmount failed', { id: c.Id, error: errorMessage(e) })),
    removeTrees([bundleDir(ctx.config, c.Id)]).catch(() => undefined),
  ]));
  await removingSaved;
  // An AutoRemove container goes straight on to removal; a crash in between is repaired
  // by reconcile (running record, no task: exited, then removed).
  if (!removal && !c.HostConfig.AutoRemove) await span('exit.save', c.Id, () => ctx.store.save(c));
  ctx.publish(c, 'die', { exitCode: String(status.exitCode) });
  // As Docker: waiters for "not-running"/"next-exit" wake at every exit, restarts included.
  ctx.monitor.notifyExit(c.Id, { exitCode: status.exitCode });
}
