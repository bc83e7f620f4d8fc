// The content store's conformance suite (containerd's habit): any ContentStore passes it.
// A harness opens the store on persistent state (each open() stands for a daemon start and
// runs reconcile) and can start a child process that writes through the same implementation,
// so that kill -9 mid-write is a real process dying.
import { describe } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { BlobInfo, ContentStore } from '../../../src/store/content/types';
import { ContentExistsError } from '../../../src/store/content/types';
import { sha256 } from '../../../src/lib/digest';
import { allOk, collect, kind, harnessTest } from './util';
import type { ChildWriterArgs } from './content-child';

export interface ContentHarness {
  /** Opens the store (a new instance on the same state, reconciled): a daemon (re)start. */
  open(): Promise<ContentStore>;
  /** Starts a process that runs runChildWriter (./content-child.ts) on this implementation's store. */
  spawnWriter(args: ChildWriterArgs): ChildProcess;
  /** Removes everything the harness made. */
  cleanup(): Promise<void>;
}

export type ContentHarnessFactory = () => Promise<ContentHarness>;

/** Deterministic bytes that differ at every offset, so a misplaced chunk cannot go unnoticed. */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function chunked(b: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts);
}

export function contentStoreConformance(name: string, factory: ContentHarnessFactory): void {
  describe(`content store conformance: ${name}`, () => {
    const withStore = harnessTest<ContentStore, ContentHarness>(factory);

    withStore('a written blob reads back whole, by stream and in memory', async (cs) => {
      const data = pattern(300_000);
      const d = sha256(data);
      assert.deepEqual(await cs.writeStream(chunked(data, 7000), { digest: d, size: data.length }), { digest: d, size: data.length });
      assert.equal(await cs.exists(d), true);
      assert.deepEqual(await cs.info(d), { digest: d, size: data.length });
      assert.ok((await cs.readBlob(d)).equals(data));
      assert.ok((await collect(await cs.readStream(d))).equals(data));
      assert.deepEqual(await cs.list(), [d]);
      // writing it again is harmless
      assert.equal((await cs.writeBlob(data)).digest, d);
      assert.deepEqual(await cs.list(), [d]);
      await cs.delete(d);
      assert.equal(await cs.exists(d), false);
      await assert.rejects(cs.info(d), kind('NotFound'));
      await assert.rejects(cs.readBlob(d), kind('NotFound'));
      await assert.rejects(cs.readStream(d), kind('NotFound'));
    });

    withStore('optional adoptFile/blobPath: a file hashed by the caller becomes the blob, at blobPath', async (cs) => {
      if (!cs.adoptFile || !cs.blobPath) return; // a store without a local file system
      const data = pattern(100_000, 7);
      const d = sha256(data);
      // a file on the store's file system, beside its blobs
      const file = path.join(path.dirname(cs.blobPath(d)), '..', `adopt-${process.pid}`);
      fs.writeFileSync(file, data);
      assert.deepEqual(await cs.adoptFile(file, { digest: d, size: data.length }), { digest: d, size: data.length });
      assert.equal(fs.existsSync(file), false);
      assert.ok(fs.readFileSync(cs.blobPath(d)).equals(data));
      assert.ok((await cs.readBlob(d)).equals(data));
      await cs.delete(d);
    });

    withStore('content is invisible until committed, and only with the right digest and size', async (cs) => {
      const data = Buffer.from('not yet');
      const d = sha256(data);
      const w = await cs.openWriter();
      await w.write(data);
      assert.equal(w.offset, data.length);
      assert.equal(w.digest(), d);
      assert.equal(await cs.exists(d), false);
      assert.deepEqual(await cs.list(), []);
      await assert.rejects(cs.readStream(d), kind('NotFound'));
      assert.deepEqual(await w.commit(data.length, d), { digest: d, size: data.length });
      assert.equal(await cs.exists(d), true);
      await assert.rejects(w.write(Buffer.from('late')), kind('Conflict'));

      const other = Buffer.from('some other content');
      await assert.rejects(cs.writeBlob(other, { digest: sha256('different') }), kind('InvalidParameter'));
      await assert.rejects(cs.writeBlob(other, { size: other.length + 1 }), kind('InvalidParameter'));
      const w2 = await cs.openWriter();
      await w2.write(other);
      await w2.abort();
      // a named ingest with an expected digest refuses other bytes, and is dropped
      const n = await cs.openIngest('wrong-bytes', { expected: sha256('the right bytes') });
      await n.write(other);
      await assert.rejects(n.commit(), kind('InvalidParameter'));
      await assert.rejects(cs.ingestStatus('wrong-bytes'), kind('NotFound'));
      // a source that fails leaves nothing
      const failing = new Readable({ read() { this.push(other); this.destroy(new Error('source broke')); } });
      await assert.rejects(cs.writeStream(failing), /source broke/);
      assert.equal(await cs.exists(sha256(other)), false);
      assert.deepEqual(await cs.list(), [d]);
      assert.deepEqual(await cs.listIngests(), []);
    });

    withStore('ranged reads: inclusive end, clamped to the blob, refused outside it', async (cs) => {
      const data = pattern(100_000, 7);
      const { digest: d } = await cs.writeBlob(data);
      const range = async (start?: number, end?: number) => collect(await cs.readStream(d, { start, end }));
      assert.ok((await range(0, 0)).equals(data.subarray(0, 1)));
      assert.ok((await range(1000, 65_535)).equals(data.subarray(1000, 65_536)));
      assert.ok((await range(99_999)).equals(data.subarray(99_999)));
      assert.ok((await range(50_000, 10_000_000)).equals(data.subarray(50_000)));
      assert.ok((await range(undefined, 9)).equals(data.subarray(0, 10)));
      assert.equal((await range(100_000)).length, 0);
      await assert.rejects(cs.readStream(d, { start: 100_001 }), kind('InvalidParameter'));
      await assert.rejects(cs.readStream(d, { start: 10, end: 9 }), kind('InvalidParameter'));
      await assert.rejects(cs.readStream(d, { start: -1 }), kind('InvalidParameter'));
      const { digest: empty } = await cs.writeBlob(Buffer.alloc(0));
      assert.equal((await collect(await cs.readStream(empty))).length, 0);
    });

    withStore('a named ingest survives a restart and resumes at its offset', async (cs, h) => {
      const data = pattern(1_500_000, 3);
      const d = sha256(data);
      const ref = 'pull/docker.io/library/x@' + d; // any string is a ref
      const w = await cs.openIngest(ref, { expected: d });
      assert.equal(w.offset, 0);
      await w.write(data.subarray(0, 600_000));
      await w.write(data.subarray(600_000, 700_001));
      assert.equal(w.digest(), sha256(data.subarray(0, 700_001)));
      await w.close();
      assert.equal(await cs.exists(d), false);

      const again = await h.open(); // a restart
      assert.equal(await again.exists(d), false);
      const st = await again.ingestStatus(ref);
      assert.equal(st.ref, ref);
      assert.equal(st.offset, 700_001);
      assert.equal(st.expected, d);
      assert.deepEqual((await again.listIngests()).map((i) => i.ref), [ref]);
      const r = await again.openIngest(ref);
      assert.equal(r.offset, 700_001);
      assert.equal(r.expected, d);
      assert.equal(r.digest(), sha256(data.subarray(0, 700_001)), 'the hash state is rebuilt');
      await r.write(data.subarray(r.offset, 1_000_000));
      // a resumed source that cannot start at the offset: cut back and write from there
      await r.truncate(900_000);
      assert.equal(r.offset, 900_000);
      await r.write(data.subarray(900_000));
      assert.deepEqual(await r.commit(data.length, d), { digest: d, size: data.length });
      assert.ok((await again.readBlob(d)).equals(data));
      assert.deepEqual(await again.listIngests(), []);
      await assert.rejects(again.ingestStatus(ref), kind('NotFound'));
      // once committed, opening the ingest for that digest says so
      await assert.rejects(again.openIngest(ref, { expected: d }), (e) => e instanceof ContentExistsError && e.digest === d);
    });

    withStore('an ingest keeps its expected digest; abortIngest drops it', async (cs) => {
      const w = await cs.openIngest('up-1', { expected: sha256('a') });
      await w.write(Buffer.from('partial'));
      await w.close();
      await assert.rejects(cs.openIngest('up-1', { expected: sha256('b') }), kind('Conflict'));
      await assert.rejects(w.write(Buffer.from('x')), kind('Conflict'));
      await cs.abortIngest('up-1');
      await assert.rejects(cs.ingestStatus('up-1'), kind('NotFound'));
      await cs.abortIngest('never-was');
      const fresh = await cs.openIngest('up-1');
      assert.equal(fresh.offset, 0);
      await fresh.abort();
      assert.deepEqual(await cs.listIngests(), []);
    });

    withStore('concurrent writers of one digest all succeed and leave one intact blob', async (cs) => {
      const data = pattern(2_000_000, 11);
      const d = sha256(data);
      const results = await allOk<BlobInfo>([
        cs.writeStream(chunked(data, 16_384), { digest: d }),
        cs.writeStream(chunked(data, 65_536), { digest: d, size: data.length }),
        cs.writeStream(chunked(data, 1000)),
        (async () => {
          const w = await cs.openIngest('ref-a', { expected: d });
          for (let i = 0; i < data.length; i += 100_000) await w.write(data.subarray(i, i + 100_000));
          return w.commit(data.length);
        })(),
        (async () => {
          const w = await cs.openIngest('ref-b', { expected: d });
          await w.write(data);
          return w.commit(data.length, d);
        })(),
      ]);
      for (const r of results) assert.deepEqual(r, { digest: d, size: data.length });
      assert.deepEqual(await cs.list(), [d]);
      assert.ok((await cs.readBlob(d)).equals(data));
      assert.deepEqual(await cs.listIngests(), []);
    });

    withStore('two writers of one ref: the second waits for the first, then finds the blob', async (cs) => {
      const data = pattern(50_000, 5);
      const d = sha256(data);
      const events: string[] = [];
      const first = await cs.openIngest('same-ref', { expected: d });
      const second = cs.openIngest('same-ref', { expected: d }).then(
        (w) => { events.push('second opened'); return w; },
        (e: unknown) => { events.push(e instanceof ContentExistsError ? 'second: exists' : `second: ${String(e)}`); },
      );
      await first.write(data.subarray(0, 20_000));
      await new Promise((r) => setImmediate(r));
      events.push('first writing');
      await first.write(data.subarray(20_000));
      await first.commit(data.length, d);
      events.push('first committed');
      await second;
      assert.deepEqual(events, ['first writing', 'first committed', 'second: exists']);
      // without an expected digest the second writer gets the ref after the first let go of it
      const a = await cs.openIngest('shared');
      await a.write(Buffer.from('abc'));
      const b = cs.openIngest('shared');
      await a.close();
      const bw = await b;
      assert.equal(bw.offset, 3);
      await bw.abort();
    });

    withStore('kill -9 mid-write: nothing partial is visible; the named ingest resumes, the anonymous one is dropped', async (cs, h) => {
      const total = 8 * 1024 * 1024;
      const data = pattern(total, 42);
      const d = sha256(data);
      const ref = 'killed-upload';
      const child = h.spawnWriter({ ref, total, seed: 42, reportAfter: 3 * 1024 * 1024 });
      try {
        const written = await new Promise<number>((resolve, reject) => {
          let out = '';
          child.stdout!.on('data', (b: Buffer) => {
            out += b.toString();
            const m = /wrote (\d+)\n/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          child.on('exit', (code) => reject(new Error(`writer exited (${code}) before writing: ${out}`)));
          child.on('error', reject);
        });
        assert.ok(written >= 3 * 1024 * 1024);
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      const after = await h.open(); // the daemon's start after the crash
      assert.equal(await after.exists(d), false);
      assert.deepEqual(await after.list(), []);
      const ingests = await after.listIngests();
      assert.deepEqual(ingests.map((i) => i.ref), [ref], 'the anonymous writer is gone, the named ingest kept');
      const w = await after.openIngest(ref);
      assert.ok(w.offset >= 3 * 1024 * 1024 && w.offset <= total, `resumes at ${w.offset}`);
      assert.equal(w.digest(), sha256(data.subarray(0, w.offset)), 'what is on disk is a prefix of what was written');
      await w.write(data.subarray(w.offset));
      assert.deepEqual(await w.commit(total, d), { digest: d, size: total });
      assert.ok((await after.readBlob(d)).equals(data));
      void cs;
    });
  });
}
