// A container just made is most often started at once: `docker run` sends attach and wait
// between its create and its start, ~10 ms of the CLI's during which the daemon idles. In that
// gap the start's steps before the runtime's create are taken ahead (the shim staged on its
// start pipe, the rootfs mounted, the /etc files, the spec and the bundle written: start.ts
// prepareTask), under the container's lock as a start would. The start takes them over when
// the record still says what it said then; anything else (a change, a copy into the
// container, a removal, the daemon's shutdown, no start within EARLY_TTL_MS) undoes them as a
// start that failed before its create is undone. Only where those steps touch nothing outside
// the container: no network (`--network none`), no volumes or binds, no userns-remap.
// A crash meanwhile is a crash at start.after-bundle: the shim runs the runtime's create once
// the daemon is gone, reconcile deletes the task no record knows as running and unmounts the
// rootfs of a container that is not running.
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import type { ContainerRecord } from './Container';
import type { ContainerContext } from './context';
import { prepareTask, undoPrepared, type PreparedTask, type StartContext } from './start';

/** How long a prepared start waits for its container's start. */
export const EARLY_TTL_MS = 2000;
/** At most this many at once (a burst of creates, compose's `create`, stages no more shims). */
const MAX_PENDING = 4;

interface Early { fingerprint: string; prepared: PreparedTask; timer: NodeJS.Timeout }

/** What the prepared steps were made from: a start whose record says otherwise prepares anew. */
function fingerprintOf(c: ContainerRecord): string {
  return JSON.stringify([c.Name, c.Config, c.HostConfig, c.NetworkEndpoints ?? null, c.MountPoints ?? null, c.ImageChainId]);
}

export class EarlyStarts {
  private readonly pending = new Map<string, Early>();

  constructor(private readonly ctx: StartContext & Pick<ContainerContext, 'locks' | 'shuttingDown'>) {}

  /** Whether `c`'s start can be prepared ahead: nothing the steps make reaches past the container. */
  eligible(c: ContainerRecord): boolean {
    return this.pending.size < MAX_PENDING && !this.ctx.shuttingDown() && !this.ctx.config.remap && c.HostConfig.NetworkMode === 'none'
      && !(c.MountPoints?.length) && !c.State.Running && !this.pending.has(c.Id);
  }

  /** Prepares `c`'s start in the background (a just-created container). */
  begin(c: ContainerRecord): void {
    if (!this.eligible(c)) return;
    // Once the create's answer is on its way (nothing of this before it).
    setImmediate(() => void this.ctx.locks.run(c.Id, async () => {
      // (anything may have come first: a removal, even a whole start and exit)
      if (c.State.Status !== 'created' || this.ctx.shuttingDown() || this.pending.has(c.Id) || this.pending.size >= MAX_PENDING || this.ctx.store.find(c.Id) !== c) return;
      const prepared = prepareTask(this.ctx, c);
      // (its failure is the start's to report, or the timer's to undo)
      prepared.done.catch(() => undefined);
      const timer = setTimeout(() => { void this.cancel(c); }, EARLY_TTL_MS);
      timer.unref();
      this.pending.set(c.Id, { fingerprint: fingerprintOf(c), prepared, timer });
      await prepared.done.catch(() => undefined);
    }).catch((e) => log.debug('early start failed', { id: c.Id, error: errorMessage(e) })));
  }

  /**
   * The prepared start of `c` for its start to take over (its lock held), if its record still
   * says what it did; one made from another record is undone first.
   */
  async take(c: ContainerRecord): Promise<PreparedTask | undefined> {
    const e = this.pending.get(c.Id);
    if (!e) return undefined;
    this.pending.delete(c.Id);
    clearTimeout(e.timer);
    if (e.fingerprint === fingerprintOf(c)) return e.prepared;
    await undoPrepared(this.ctx, c, e.prepared);
    return undefined;
  }

  /** Undoes `c`'s prepared start, if any, with its lock held. */
  async cancelLocked(c: ContainerRecord): Promise<void> {
    const e = this.pending.get(c.Id);
    if (!e) return;
    this.pending.delete(c.Id);
    clearTimeout(e.timer);
    await undoPrepared(this.ctx, c, e.prepared);
  }

  /** cancelLocked, taking the lock. */
  cancel(c: ContainerRecord): Promise<void> {
    if (!this.pending.has(c.Id)) return Promise.resolve();
    return this.ctx.locks.run(c.Id, () => this.cancelLocked(c))
      .catch((e) => log.warn('undoing an early start failed', { id: c.Id, error: errorMessage(e) }));
  }

  /** The daemon's shutdown: every prepared start undone (no shim left waiting). */
  async cancelAll(): Promise<void> {
    const ids = [...this.pending.keys()];
    await Promise.all(ids.map((id) => {
      const c = this.ctx.store.find(id);
      return c ? this.cancel(c) : undefined;
    }));
  }
}
