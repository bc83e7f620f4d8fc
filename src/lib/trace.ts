// Timing spans published on node:diagnostics_channel ("berth:span"), so a subscriber (the
// debug log, the bench) can see where each millisecond of an operation goes. Costs nothing
// when nobody listens.
import * as dc from 'node:diagnostics_channel';

export const spanChannel = dc.channel('berth:span');

export interface SpanMessage { name: string; id?: string; ms: number }

export async function span<T>(name: string, id: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!spanChannel.hasSubscribers) return fn();
  const t0 = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    spanChannel.publish({ name, id, ms: Number(process.hrtime.bigint() - t0) / 1e6 } satisfies SpanMessage);
  }
}

/** A span of an event-driven operation: from `t0` (process.hrtime.bigint()) to now. */
export function spanSince(name: string, id: string | undefined, t0: bigint): void {
  if (!spanChannel.hasSubscribers) return;
  spanChannel.publish({ name, id, ms: Number(process.hrtime.bigint() - t0) / 1e6 } satisfies SpanMessage);
}
