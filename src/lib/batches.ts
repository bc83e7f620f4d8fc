// Work over many items at daemon start (every record), done synchronously a batch at a time:
// synchronous reads of small files cost a fraction of promise-based ones, and yielding to the
// event loop between batches keeps the listener answering (/_ping) meanwhile.

/** Calls `fn` on each item in order, `size` at a time between yields; a promise `fn` returns is awaited in turn. */
export async function eachInBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown> | undefined | void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % size === 0) await new Promise<void>((r) => setImmediate(r));
    const p = fn(items[i]);
    if (p) await p;
  }
}
