// Small helpers shared by the conformance suites.
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { BerthError } from '../../../src/lib/errors';

/** A predicate for assert.rejects/throws: a typed error of this kind. */
export const kind = (k: string) => (e: unknown): boolean => e instanceof BerthError && e.kind === k;

/**
 * Promise.all that waits for every promise before failing: a failed test must not leave
 * operations running into the harness's cleanup.
 */
export async function allOk<T>(ps: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(ps);
  return settled.map((r) => { if (r.status === 'rejected') throw r.reason; return r.value; });
}

export async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** What every suite's harness has: open the store(s) as a daemon (re)start would, and clean up. */
export interface Harness<S> { open(): Promise<S>; cleanup(): Promise<void> }

/** A test on a fresh harness from `factory`, cleaned up whatever the test does. */
export function harnessTest<S, H extends Harness<S>>(factory: () => Promise<H>) {
  return (title: string, fn: (s: S, h: H) => Promise<void>) =>
    test(title, async () => {
      const h = await factory();
      try {
        await fn(await h.open(), h);
      } finally {
        await h.cleanup();
      }
    });
}
