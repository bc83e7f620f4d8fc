// The long fuzzing run (issue 19): the cases of test/integration/api-fuzz.test.ts with many
// more runs (BENCH_FUZZ_RUNS, default 400 per unit of a case's scale; BENCH_FUZZ_SEED, default
// the tests' 19), counting instead of stopping: how many requests of how many shapes, how many
// 2xx, 4xx, 5xx, unanswered requests and crashes (the goal for the last three is 0), and what
// is left behind. Own daemon.
import fc from 'fast-check';
import { startDaemon } from '../test/helpers/daemon';
import { FUZZ_SEED, FuzzTally, fuzzCases, fuzzLeftovers, prepareFuzzTarget } from '../test/helpers/apiFuzz';
import { printBench } from './alone';

export async function fuzzBench(runs = Number(process.env.BENCH_FUZZ_RUNS ?? 400), seed = Number(process.env.BENCH_FUZZ_SEED ?? FUZZ_SEED)): Promise<Record<string, unknown>> {
  const d = await startDaemon();
  const t0 = Date.now();
  try {
    await d.ensureBusybox();
    await prepareFuzzTarget(d);
    const tally = new FuzzTally(d, false);
    const perCase: Record<string, number> = {};
    for (const c of fuzzCases()) {
      const before = tally.requests;
      // not strict: a bad answer is counted, the run goes on (a property failure here is a bug in the case)
      await fc.assert(c.property(tally), { seed, numRuns: runs * c.scale });
      perCase[c.name] = tally.requests - before;
      if (d.exited) break;
    }
    const left = d.exited ? ['berthd exited'] : await fuzzLeftovers(d);
    return {
      seed,
      runs_per_scale: runs,
      ...tally.summary(),
      left_behind: left,
      seconds: Math.round((Date.now() - t0) / 1000),
      requests_per_case: perCase,
      bad_answers_sample: tally.samples,
      goal: { s5xx: 0, crashes: 0 },
    };
  } finally {
    await d.stop();
  }
}

if (require.main === module) printBench(fuzzBench());
