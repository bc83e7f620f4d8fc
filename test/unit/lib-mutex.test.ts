// The one promise-chain mutex (used by the image store, the layer store's mounts, the log rotation
// and the container operations): arrival order, no overlap, a failure does not block the next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedMutex, Mutex } from '../../src/lib/mutex';

const tick = () => new Promise((r) => setImmediate(r));

test('Mutex runs operations one at a time, in arrival order, past failures', async () => {
  const m = new Mutex();
  const events: string[] = [];
  let inside = 0;
  const op = (name: string, fail = false) => m.run(async () => {
    inside++;
    assert.equal(inside, 1, `${name} overlaps another operation`);
    events.push(`${name} in`);
    await tick();
    await tick();
    events.push(`${name} out`);
    inside--;
    if (fail) throw new Error(name);
    return name;
  });
  const results = await Promise.allSettled([op('a'), op('b', true), op('c')]);
  assert.deepEqual(events, ['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), ['a', 'b', 'c']);
  assert.equal(results[1].status, 'rejected');
});

test('KeyedMutex serialises one key, lets other keys run alongside, and forgets idle keys', async () => {
  const m = new KeyedMutex();
  const events: string[] = [];
  const op = (key: string, name: string) => m.run(key, async () => {
    events.push(`${name} in`);
    await tick();
    events.push(`${name} out`);
  });
  await Promise.all([op('x', 'x1'), op('y', 'y1'), op('x', 'x2')]);
  // y1 ran while x1 held x; x2 waited for x1
  assert.ok(events.indexOf('y1 in') < events.indexOf('x1 out'), events.join(','));
  assert.ok(events.indexOf('x1 out') < events.indexOf('x2 in'), events.join(','));
  assert.equal((m as unknown as { locks: Map<string, unknown> }).locks.size, 0);
  await assert.rejects(m.run('x', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await m.run('x', async () => 'next'), 'next');
});
