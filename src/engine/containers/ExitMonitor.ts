// Who is waiting for a container to exit or to be removed. Waiters are in memory: a
// client that disconnects simply drops its promise.
export interface ExitInfo { exitCode: number; error?: string }

export class ExitMonitor {
  private readonly exitWaiters = new Map<string, ((e: ExitInfo) => void)[]>();
  private readonly removeWaiters = new Map<string, ((e: ExitInfo) => void)[]>();

  nextExit(id: string): Promise<ExitInfo> {
    return new Promise((resolve) => push(this.exitWaiters, id, resolve));
  }

  removed(id: string): Promise<ExitInfo> {
    return new Promise((resolve) => push(this.removeWaiters, id, resolve));
  }

  notifyExit(id: string, info: ExitInfo): void {
    drain(this.exitWaiters, id, info);
  }

  notifyRemoved(id: string, info: ExitInfo): void {
    drain(this.exitWaiters, id, info);
    drain(this.removeWaiters, id, info);
  }
}

function push<T>(m: Map<string, T[]>, id: string, v: T): void {
  const list = m.get(id);
  if (list) list.push(v);
  else m.set(id, [v]);
}

function drain(m: Map<string, ((e: ExitInfo) => void)[]>, id: string, info: ExitInfo): void {
  const list = m.get(id);
  m.delete(id);
  for (const fn of list ?? []) fn(info);
}
