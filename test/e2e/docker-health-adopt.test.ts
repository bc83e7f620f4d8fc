// Health checks are the engine's from its start (Engine.open builds the service, the containers'
// supervisor drives it): a running container adopted after kill -9 of berthd is probed again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

interface Health { Status: string; Log: { Start: string; ExitCode: number }[] }

async function health(id: string): Promise<Health> {
  return (await d.request('GET', `/v1.44/containers/${id}/json`)).json().State.Health;
}

/** Polls until the predicate holds (the probes run on their own schedule). */
async function until(id: string, ok: (h: Health) => boolean): Promise<Health> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const h = await health(id);
    if (h && ok(h)) return h;
    if (Date.now() > deadline) throw new Error(`health never got there: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a container adopted after kill -9 of berthd is probed again', async () => {
  const run = await d.docker(['run', '-d', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  await until(id, (h) => h.Status === 'healthy');
  await d.kill9();
  const restarted = Date.now();
  await d.start();
  const h = await until(id, (x) => x.Log.some((e) => Date.parse(e.Start) > restarted));
  assert.equal(h.Log.at(-1)!.ExitCode, 0);
  await until(id, (x) => x.Status === 'healthy');
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);
});
