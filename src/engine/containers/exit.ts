// A task exited: record it, tear down its runtime state, rootfs and attachments, tell the
// waiters. What follows (restart, auto-remove, health) is the supervisor's decision.
import * as fsp from 'node:fs/promises';
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

/** Whether the runtime's state and the shim's files of `c`'s last task are already gone. */
export function taskTornDown(c: ContainerRecord): boolean {
  return tornDown.has(c);
}

/** A new task is being made for `c` (start, restart): its teardown is to come. */
export function taskStarting(c: ContainerRecord): void {
  tornDown.delete(c);
}

/** Deletes `c`'s task from its runtime (forced: killed if it still runs), then the shim's files. */
export function deleteTask(ctx: Pick<ContainerContext, 'config' | 'runtime'>, c: ContainerRecord): Promise<void> {
  return ctx.runtime.delete(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime), true).then(() => ctx.runtime.cleanup(c.Id));
}

/** Call with the container's lock held; `restarting`: the restart policy will start it again. */
export async function recordExit(ctx: ExitContext, c: ContainerRecord, status: ExitStatus, restarting: boolean): Promise<void> {
  if (status.oomKilled) ctx.publish(c, 'oom');
  if (restarting) {
    c.RestartCount++;
    setRestarting(c, status.exitCode, status.exitedAt, status.oomKilled);
  } else {
    setExited(c, status.exitCode, status.exitedAt, status.oomKilled);
  }
  // Independent teardown steps run together: the runtime's state, the shim's files, the
  // rootfs, the bundle; the attachments are released once the task is gone.
  await span('exit.teardown', c.Id, () => Promise.all([
    deleteTask(ctx, c).then(() => { tornDown.add(c); })
      .catch((e) => log.warn('runtime delete failed', { id: c.Id, error: errorMessage(e) }))
      .then(() => ctx.attachments.release(c, 'exit')),
    ctx.rootfs.unmount(c.Id).catch((e) => log.warn('unmount failed', { id: c.Id, error: errorMessage(e) })),
    fsp.rm(bundleDir(ctx.config, c.Id), { recursive: true, force: true }).catch(() => undefined),
  ]));
  // An AutoRemove container goes straight on to removal; a crash in between is repaired
  // by reconcile (running record, no task: exited, then removed).
  if (!c.HostConfig.AutoRemove) await span('exit.save', c.Id, () => ctx.store.save(c));
  ctx.publish(c, 'die', { exitCode: String(status.exitCode) });
  // As Docker: waiters for "not-running"/"next-exit" wake at every exit, restarts included.
  ctx.monitor.notifyExit(c.Id, { exitCode: status.exitCode });
}
