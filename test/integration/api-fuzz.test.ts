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
import { FUZZ_SEED, FUZZ_TARGET, FuzzTally, fuzzCases, fuzzLeftovers, prepareFuzzTarget } from '../helpers/apiFuzz';

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

test('what the longer runs found stays a 4xx', async () => {
  const long = 'x'.repeat(10_000);
  await tally.probe('found: long volume name', 'POST', '/v1.44/volumes/create', { Name: long });
  for (const m of ['GET', 'HEAD', 'PUT']) {
    await tally.probe(`found: long archive path ${m}`, m, `/v1.44/containers/${FUZZ_TARGET}/archive?path=${long}`, m === 'PUT' ? Buffer.alloc(1024) : undefined);
    await tally.probe(`found: NUL in archive path ${m}`, m, `/v1.44/containers/${FUZZ_TARGET}/archive?path=a%00b`, m === 'PUT' ? Buffer.alloc(1024) : undefined);
  }
  await tally.probe('found: network connect with a number', 'POST', '/v1.44/networks/none/connect', { Container: 240412347 });
  const c = await tally.probe('found: bind source too long', 'POST', '/v1.44/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Binds: [`/tmp/${long}:/x`] } });
  const id = c?.json<{ Id: string }>().Id;
  assert.ok(id, 'the create itself is valid');
  const start = await tally.probe('found: bind source too long, start', 'POST', `/v1.44/containers/${id}/start`);
  assert.equal(start?.status, 400);
  await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
});

test('the daemon still answers, and nothing made by the fuzzing is left', async () => {
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.deepEqual(await fuzzLeftovers(d), []);
  assert.ok(!d.exited, 'berthd crashed');
});
