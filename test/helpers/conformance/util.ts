// Small helpers shared by the conformance suites.
import type { Readable } from 'node:stream';
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
