// `node dist/bench/<part>.js`: one part of the bench on a daemon of its own with busybox,
// its JSON on stdout.
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';

export function benchAlone(part: (d: TestDaemon) => Promise<unknown>): void {
  void (async () => {
    const d = await startDaemon();
    try {
      await d.ensureBusybox();
      process.stdout.write(JSON.stringify(await part(d), null, 2) + '\n');
    } finally {
      await d.stop();
    }
  })().catch((e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}
