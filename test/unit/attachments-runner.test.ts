// The attachment runner's rules on attachments written for the test (plain objects that note
// each call): prepare in order, a failure releases what was prepared in reverse and throws the
// failure named by its attachment; release runs last-first and survives a failing one.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ConflictError } from '../../src/lib/errors';
import { AttachmentRunner } from '../../src/engine/containers/attachments/runner';
import type { Attachment } from '../../src/engine/containers/attachments/types';
import type { ContainerRecord } from '../../src/engine/containers/Container';

function noting(name: string, calls: string[], fail: { prepare?: Error; release?: Error } = {}): Attachment {
  return {
    name,
    async prepare(c) {
      calls.push(`${name} prepare ${c.Id}`);
      if (fail.prepare) throw fail.prepare;
      return { mounts: [{ destination: `/${name}`, source: `/src/${name}`, type: 'bind', options: ['rbind'] }] };
    },
    async release(c, _scope, reason) {
      calls.push(`${name} release ${c.Id} ${reason}`);
      if (fail.release) throw fail.release;
    },
    async reconcile(input) {
      calls.push(`${name} reconcile running=${input.running.map((c) => c.Id).join(',')} stopped=${input.stopped.map((c) => c.Id).join(',')}`);
    },
  };
}

const record = (id: string, running = false) => ({ Id: id, State: { Running: running, Restarting: false } }) as unknown as ContainerRecord;
const scope = () => ({ containerDir: '/nowhere' });

test('prepare runs in order and merges the mounts', async () => {
  const calls: string[] = [];
  const r = new AttachmentRunner([noting('a', calls), noting('b', calls)], scope);
  const p = await r.prepare(record('c1'));
  assert.deepEqual(calls, ['a prepare c1', 'b prepare c1']);
  assert.deepEqual(p.mounts.map((m) => m.destination), ['/a', '/b']);
});

test('a failing prepare releases the prepared ones in reverse order and throws its error, named', async () => {
  const calls: string[] = [];
  const r = new AttachmentRunner([noting('a', calls), noting('b', calls), noting('c', calls, { prepare: new Error('no space') }), noting('d', calls)], scope);
  await assert.rejects(r.prepare(record('c1')), (e: Error & { kind?: string }) => {
    assert.equal(e.message, 'c: no space');
    assert.equal(e.kind, 'System');
    return true;
  });
  assert.deepEqual(calls, ['a prepare c1', 'b prepare c1', 'c prepare c1', 'b release c1 abort', 'a release c1 abort']);
});

test('a typed failure keeps its kind', async () => {
  const r = new AttachmentRunner([noting('net', [], { prepare: new ConflictError('address in use') })], scope);
  await assert.rejects(r.prepare(record('c1')), (e: Error & { kind?: string }) => e.kind === 'Conflict' && e.message === 'net: address in use');
});

test('release runs last-first and goes on past a failing one', async () => {
  const calls: string[] = [];
  const r = new AttachmentRunner([noting('a', calls), noting('b', calls, { release: new Error('busy') }), noting('c', calls)], scope);
  await r.release(record('c1'), 'exit');
  assert.deepEqual(calls, ['c release c1 exit', 'b release c1 exit', 'a release c1 exit']);
});

test('reconcile tells each attachment which containers run', async () => {
  const calls: string[] = [];
  const r = new AttachmentRunner([noting('a', calls)], scope);
  await r.reconcile([record('up', true), record('down')]);
  assert.deepEqual(calls, ['a reconcile running=up stopped=down']);
});
