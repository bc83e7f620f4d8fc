import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { LocalContentStore as ContentStore } from '../../src/store/content/ContentStore';
import { sha256 } from '../../src/lib/digest';
import { rmRoot, tempRoot } from './store-tarutil';

test('content store: write, verify, read', async () => {
  const root = tempRoot();
  try {
    const cs = new ContentStore(root);
    await cs.init();
    const data = Buffer.from('hello blob');
    const d = sha256(data);
    const info = await cs.writeBlob(data, { digest: d, size: data.length });
    assert.equal(info.digest, d);
    assert.equal(info.size, data.length);
    assert.ok(await cs.exists(d));
    assert.deepEqual(await cs.readBlob(d), data);
    assert.equal(fs.readdirSync(path.join(root, 'content', 'ingest')).length, 0);
    // idempotent
    await cs.writeBlob(data);
    assert.deepEqual(await cs.list(), [d]);
  } finally { rmRoot(root); }
});

test('content store: bad digest or size is rejected and nothing becomes visible', async () => {
  const root = tempRoot();
  try {
    const cs = new ContentStore(root);
    await cs.init();
    const data = Buffer.from('some content');
    const wrong = sha256('other');
    await assert.rejects(cs.writeBlob(data, { digest: wrong }), /digest mismatch/);
    assert.equal(await cs.exists(wrong), false);
    assert.equal(await cs.exists(sha256(data)), false);
    await assert.rejects(cs.writeStream(Readable.from([data]), { digest: sha256(data), size: 3 }), /size/);
    assert.equal(await cs.exists(sha256(data)), false);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'ingest')), []);
  } finally { rmRoot(root); }
});

test('content store: a failing source leaves nothing; reconcile drops stale ingests', async () => {
  const root = tempRoot();
  try {
    const cs = new ContentStore(root);
    await cs.init();
    const src = new Readable({ read() { this.push(Buffer.from('abc')); this.destroy(new Error('boom')); } });
    await assert.rejects(cs.writeStream(src), /boom/);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'ingest')), []);
    fs.writeFileSync(path.join(root, 'content', 'ingest', 'partial'), 'x');
    await cs.reconcile();
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'ingest')), []);
  } finally { rmRoot(root); }
});
