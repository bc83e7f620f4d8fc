// `node dist/bench/<part>.js`: one part of the bench alone (on a daemon of its own with busybox,
// or making its own daemons), its JSON on stdout.
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';

export function benchAlone(part: (d: TestDaemon) => Promise<unknown> | unknown): void {
  printBench((async () => {
    const d = await startDaemon();
    try {
      await d.ensureBusybox();
      return await part(d);
    } finally {
      await d.stop();
    }
  })());
}

/** Prints a part's figures as JSON, or its failure (exit 1). */
export function printBench(figures: Promise<unknown>): void {
  figures.then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'), (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}
