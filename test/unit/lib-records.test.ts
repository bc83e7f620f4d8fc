// Record reading (absent vs unreadable), the durability levels of atomic writes, and the
// quarantine (names, listing, warnings), on real files.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecord, UnreadableRecordError, writeJsonAtomic } from '../../src/lib/atomic';
import { Quarantine } from '../../src/lib/quarantine';

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rec-'));
}

test('readRecord: absent is undefined; empty, torn, wrong-shaped and unreadable files are UnreadableRecordError', async () => {
  const root = tempRoot();
  try {
    const f = path.join(root, 'r.json');
    assert.equal(await readRecord(f), undefined);
    const shaped = (v: unknown) => (v && typeof v === 'object' && 'id' in v ? undefined : 'no id');
    for (const [text, why] of [['', /empty file/], ['{"id": "a", "x"', /not JSON/], ['[1]', /no id/]] as const) {
      fs.writeFileSync(f, text);
      await assert.rejects(readRecord(f, shaped), (e: unknown) => e instanceof UnreadableRecordError && why.test(e.message) && e.message.startsWith(f));
    }
    fs.mkdirSync(path.join(root, 'dir.json'));
    await assert.rejects(readRecord(path.join(root, 'dir.json')), UnreadableRecordError);
    fs.writeFileSync(f, '{"id": "a"}');
    assert.deepEqual(await readRecord(f, shaped), { id: 'a' });
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('writeJsonAtomic: every durability level replaces the record whole and leaves no temp file', async () => {
  const root = tempRoot();
  try {
    const f = path.join(root, 'r.json');
    for (const level of ['full', 'record', 'none'] as const) {
      await writeJsonAtomic(f, { level }, 0o640, level);
      assert.deepEqual(JSON.parse(fs.readFileSync(f, 'utf8')), { level });
      assert.equal(fs.statSync(f).mode & 0o777, 0o640);
    }
    assert.deepEqual(fs.readdirSync(root), ['r.json']);
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('quarantine: files and directories moved aside unchanged, never over each other; listed and warned', async () => {
  const root = tempRoot();
  try {
    const q = new Quarantine(root);
    const dir = path.join(root, 'containers', 'abc');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.v2.json'), '{"Id"');
    fs.writeFileSync(path.join(dir, 'container.log'), 'precious\n');
    const moved = await q.move('container', 'abc', dir, 'torn');
    assert.ok(!fs.existsSync(dir));
    assert.equal(fs.readFileSync(path.join(moved, 'container.log'), 'utf8'), 'precious\n');
    assert.equal(path.dirname(moved), path.join(root, 'quarantine', 'container'));
    assert.match(fs.readFileSync(path.join(root, 'quarantine', 'README'), 'utf8'), /move it back/);

    // The same name twice (even in the same millisecond) gives two entries.
    const paths: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = path.join(root, 'repositories.json');
      fs.writeFileSync(f, `bad ${i}`);
      paths.push(await q.move('reference', 'repositories.json', f, 'not JSON'));
    }
    assert.equal(new Set(paths).size, 3);
    assert.deepEqual(paths.map((p) => fs.readFileSync(p, 'utf8')).sort(), ['bad 0', 'bad 1', 'bad 2']);

    const listed = await q.list();
    assert.deepEqual(listed.map((e) => `${e.kind}:${e.name}`), ['container:abc', 'reference:repositories.json', 'reference:repositories.json', 'reference:repositories.json']);
    assert.deepEqual((await q.list('container')).map((e) => e.path), [moved]);

    // A record that cannot be moved is left where it is, and said so.
    assert.equal(await q.moveOrLeave('image', 'gone', path.join(root, 'nothing-here'), 'torn'), undefined);
    q.notice('image:x', 'WARNING: image x cannot be used');
    const w = await q.warnings();
    assert.equal(w.length, 6);
    assert.ok(w[0].startsWith(`WARNING: container record abc could not be read and was moved to ${moved}`));
    assert.ok(w.some((l) => l.includes('nothing-here') && l.includes('could not be moved')));
    q.clearNotice('image:x');
    assert.equal((await q.warnings()).length, 5);
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('quarantine: many entries make a bounded list of warnings', async () => {
  const root = tempRoot();
  try {
    const q = new Quarantine(root);
    for (let i = 0; i < 30; i++) {
      const f = path.join(root, `${i}.json`);
      fs.writeFileSync(f, '');
      await q.move('image', `img${i}`, f, 'empty');
    }
    const w = await q.warnings();
    assert.equal(w.length, 20);
    assert.match(w[19], /^WARNING: 11 more unreadable or unusable records, see /);
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});
