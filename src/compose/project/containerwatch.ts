// Waiting on a container's state without polling: one /events subscription for the project's
// containers, and a waiter per container woken by its next event (start, die, health_status...),
// so a condition is seen the moment the engine reports it. A waiter also wakes after a fallback
// delay, and without events (a daemon that refuses the subscription) the waits poll.
import type { Client } from '../../client/client';
import { LABEL } from '../model';

const FALLBACK_MS = 1000;
const POLL_MS = 250;

export class ContainerWatch {
  private opened: Promise<boolean> | undefined;
  private close: (() => void) | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly client: Client, private readonly project: string) {}

  /** The subscription, opened on first use; false when the daemon gave none (the waits poll). */
  private subscribe(): Promise<boolean> {
    this.opened ??= (async () => {
      try {
        const stream = await this.client.events({ filters: { label: [`${LABEL.project}=${this.project}`], type: ['container'] } });
        this.close = () => stream.close();
        void (async () => {
          try {
            for await (const e of stream) this.wake(e.Actor?.ID ?? (e as { id?: string }).id ?? '');
          } catch {
            // the stream broke: the waiters fall back to their delay
          }
        })();
        return true;
      } catch {
        return false;
      }
    })();
    return this.opened;
  }

  private wake(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) w();
  }

  /**
   * Arms a wait for the next event of container `id`: call it before looking at the container,
   * then await what it returns when what was seen is not yet the wanted state (no event is missed
   * in between).
   */
  async armed(id: string): Promise<() => Promise<void>> {
    const live = await this.subscribe();
    if (!live) return () => new Promise((r) => setTimeout(r, POLL_MS));
    let woken!: () => void;
    const next = new Promise<void>((r) => { woken = r; });
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(woken);
    return () => {
      const timer = setTimeout(woken, FALLBACK_MS);
      return next.finally(() => { clearTimeout(timer); this.waiters.get(id)?.delete(woken); });
    };
  }

  /** Ends the subscription (the process may then exit). */
  stop(): void {
    this.close?.();
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }
}

/** Runs `fn` with a watch of the project's containers, stopped after it. */
export async function withContainerWatch<T>(client: Client, project: string, fn: (w: ContainerWatch) => Promise<T>): Promise<T> {
  const w = new ContainerWatch(client, project);
  try {
    return await fn(w);
  } finally {
    w.stop();
  }
}
