// LocalContentStore against the content store conformance suite, plus what is its own: the
// layout on disk and the ingest lifetime at reconcile.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalContentStore } from '../../src/store/content/ContentStore';
import { sha256 } from '../../src/lib/digest';
import { contentStoreConformance, ContentHarness } from '../helpers/conformance/content';

const CHILD = path.join(__dirname, '../helpers/conformance/local-content-child.js');

async function localHarness(opts: { ingestLifetimeMs?: number } = {}): Promise<ContentHarness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-content-'));
  return {
    async open() {
      const cs = new LocalContentStore(root, opts);
      await cs.reconcile();
      return cs;
    },
    spawnWriter(args) {
      return spawn(process.execPath, [CHILD, root, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    },
    async cleanup() { fs.rmSync(root, { recursive: true, force: true }); },
  };
}

contentStoreConformance('LocalContentStore', () => localHarness());

test('LocalContentStore: ingests live under content/ingest until committed; blobs/ holds only committed blobs', async () => {
  const h = await localHarness();
  try {
    const cs = (await h.open()) as LocalContentStore;
    const w = await cs.openIngest('some upload');
    await w.write(Buffer.from('abc'));
    await w.close();
    const ingest = path.join(cs.root, 'ingest');
    const dirs = fs.readdirSync(ingest);
    assert.deepEqual(dirs, [sha256('some upload').slice(7)]);
    assert.deepEqual(fs.readdirSync(path.join(ingest, dirs[0])).sort(), ['data', 'meta.json']);
    assert.deepEqual(fs.readdirSync(path.join(cs.root, 'blobs', 'sha256')), []);
    // leftovers a crash could leave: an anonymous ingest, a file of the old layout, junk in blobs/
    fs.mkdirSync(path.join(ingest, 'anon-0123'));
    fs.writeFileSync(path.join(ingest, 'anon-0123', 'data'), 'x');
    fs.writeFileSync(path.join(ingest, '9f8e7d6c5b4a39281706f5e4'), 'old');
    fs.writeFileSync(path.join(cs.root, 'blobs', 'sha256', '.tmp-half'), 'half');
    await h.open();
    assert.deepEqual(fs.readdirSync(ingest), dirs);
    assert.deepEqual(fs.readdirSync(path.join(cs.root, 'blobs', 'sha256')), []);
  } finally { await h.cleanup(); }
});

test('LocalContentStore: reconcile drops named ingests older than the ingest lifetime', async () => {
  const h = await localHarness({ ingestLifetimeMs: 60_000 });
  try {
    const cs = await h.open();
    for (const ref of ['fresh', 'stale']) {
      const w = await cs.openIngest(ref);
      await w.write(Buffer.from(ref));
      await w.close();
    }
    const data = path.join((cs as LocalContentStore).root, 'ingest', sha256('stale').slice(7), 'data');
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(data, old, old);
    const after = await h.open();
    assert.deepEqual((await after.listIngests()).map((i) => i.ref), ['fresh']);
  } finally { await h.cleanup(); }
});
