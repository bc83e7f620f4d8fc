// The writing side of the kill -9 conformance test, run in a child process: a named ingest and
// an anonymous writer fill up side by side; after `reportAfter` bytes of the named one it prints
// `wrote <n>` and keeps writing, slowly, never committing, until it is killed.
import type { ContentStore } from '../../../src/store/content/types';
import { pattern } from './content';

export interface ChildWriterArgs {
  ref: string;
  total: number;
  seed: number;
  reportAfter: number;
}

export async function runChildWriter(cs: ContentStore, args: ChildWriterArgs): Promise<never> {
  const data = pattern(args.total, args.seed);
  const named = await cs.openIngest(args.ref);
  const anon = await cs.openWriter();
  const chunk = 256 * 1024;
  let reported = false;
  // Stop one chunk short: the child must die mid-write, whatever the timing.
  for (let off = 0; off + chunk < args.total; off += chunk) {
    const part = data.subarray(off, off + chunk);
    await Promise.all([named.write(part), anon.write(part)]);
    if (!reported && named.offset >= args.reportAfter) {
      reported = true;
      process.stdout.write(`wrote ${named.offset}\n`);
    }
    if (reported) await new Promise((r) => setTimeout(r, 5));
  }
  return new Promise<never>(() => { setInterval(() => undefined, 1000); });
}
