// A property-based pass over the Engine API (fast-check, fixed seed): every operation of the
// API spec with hostile parameter values; malformed, truncated and deeply nested JSON on every
// JSON route; wrong types in every field of the create body and of the other JSON bodies; huge
// and negative numbers; names, references and in-container paths with `..`, `/`, NUL and
// 10,000 characters; bad filters, query values and headers; wrong methods. Every answer is a
// 2xx or a 4xx with Docker's {"message"}; never a 5xx, never a crash, and whatever a request
// made is removed (nothing half-made is left: the lists end empty). The cases live in
// test/helpers/apiFuzz.ts; bench/fuzz.ts runs them longer and counts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { FUZZ_SEED, FuzzTally, fuzzCases, fuzzLeftovers, prepareFuzzTarget } from '../helpers/apiFuzz';

const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 60);

let d: TestDaemon;
let tally: FuzzTally;
before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
  await prepareFuzzTarget(d);
  tally = new FuzzTally(d, true);
});
after(async () => { await d?.stop(); });
after(() => {
  const s = tally?.summary();
  if (s) process.stdout.write(`# fuzz: ${s.requests} requests of ${s.shapes} shapes: ${s.s2xx_3xx} 2xx/3xx, ${s.s4xx} 4xx, ${s.s5xx} 5xx, ${s.crashes} crashes (${s.unavailable_by_design_503} 503 of swarm and plugin routes, by design)\n`);
});

for (const c of fuzzCases()) {
  test(c.name, async () => {
    await fc.assert(c.property(tally), { seed: FUZZ_SEED, numRuns: RUNS * c.scale, endOnFailure: true });
  });
}

test('the daemon still answers, and nothing made by the fuzzing is left', async () => {
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.deepEqual(await fuzzLeftovers(d), []);
  assert.ok(!d.exited, 'berthd crashed');
});
