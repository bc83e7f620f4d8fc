// lib/sys/fsbatch.ts: removals, rmdirs, an unmount and small reads as one pool job each
// (native/fsbatch.c), on real files and a real tmpfs mount.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readSmallFiles, removeTrees, rmdirs, unmountHeld, writeFileAtomically, writeFilesAtomically } from '../../src/lib/sys/fsbatch';
import { MNT_DETACH, mount } from '../../src/lib/sys/mount';
import { loadNative } from '../../src/lib/sys/native';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fsbatch-'));
}

test('removeTrees: whole trees and single files go, missing paths are fine, a symlink is removed and never followed', async () => {
  const d = tmp();
  try {
    fs.mkdirSync(path.join(d, 'a/b/c'), { recursive: true });
    fs.writeFileSync(path.join(d, 'a/b/c/f'), 'x');
    fs.writeFileSync(path.join(d, 'a/g'), 'y');
    loadNative().mkfifo(path.join(d, 'a/fifo'), 0o600);
    fs.mkdirSync(path.join(d, 'outside'));
    fs.writeFileSync(path.join(d, 'outside/keep'), 'k');
    fs.symlinkSync(path.join(d, 'outside'), path.join(d, 'a/b/to-outside'));
    fs.writeFileSync(path.join(d, 'file'), 'f');
    // deeper than one readdir buffer
    for (let i = 0; i < 600; i++) fs.writeFileSync(path.join(d, 'a', `n${i}`), '');
    await removeTrees([path.join(d, 'a'), path.join(d, 'file'), path.join(d, 'missing')]);
    assert.ok(!fs.existsSync(path.join(d, 'a')));
    assert.ok(!fs.existsSync(path.join(d, 'file')));
    assert.equal(fs.readFileSync(path.join(d, 'outside/keep'), 'utf8'), 'k', 'the symlink\'s target is untouched');
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('removeTrees: a tree deeper than the native walk goes through node:fs instead', async () => {
  const d = tmp();
  try {
    let p = path.join(d, 'deep');
    for (let i = 0; i < 600; i++) p = path.join(p, 'd');
    fs.mkdirSync(p, { recursive: true });
    await assert.rejects(loadNative().removeTreesAsync([path.join(d, 'deep')]), /ELOOP/);
    await removeTrees([path.join(d, 'deep')]);
    assert.ok(!fs.existsSync(path.join(d, 'deep')));
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('rmdirs: true for removed and missing directories, false for one that is not empty', async () => {
  const d = tmp();
  try {
    fs.mkdirSync(path.join(d, 'empty'));
    fs.mkdirSync(path.join(d, 'full'));
    fs.writeFileSync(path.join(d, 'full/x'), '');
    assert.deepEqual(await rmdirs([path.join(d, 'empty'), path.join(d, 'full'), path.join(d, 'none')]), [true, false, true]);
    assert.ok(fs.existsSync(path.join(d, 'full/x')));
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('readSmallFiles: contents and mtime, undefined for a missing file, procfs files of no size, the limit', async () => {
  const d = tmp();
  try {
    fs.writeFileSync(path.join(d, 'a'), '137');
    const when = new Date('2020-01-02T03:04:05.678Z');
    fs.utimesSync(path.join(d, 'a'), when, when);
    fs.writeFileSync(path.join(d, 'big'), 'x'.repeat(100_000));
    const [a, missing, stat, big] = await readSmallFiles([path.join(d, 'a'), path.join(d, 'missing'), '/proc/self/stat', path.join(d, 'big')]);
    assert.equal(a?.text, '137');
    assert.equal(new Date(Math.round(a!.mtimeMs)).toISOString(), when.toISOString());
    assert.equal(missing, undefined);
    assert.match(stat!.text, new RegExp(`^${process.pid} \\(`));
    assert.equal(big?.text.length, 100_000);
    assert.equal((await readSmallFiles([path.join(d, 'big')], 10))[0]?.text, 'x'.repeat(10));
    await assert.rejects(readSmallFiles([d]), /EISDIR/);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('unmountHeld: unmounts a mount (true), then finds nothing mounted (false); a missing target is false', async () => {
  const d = tmp();
  try {
    mount('tmpfs', d, 'tmpfs', 0, 'size=1m');
    fs.writeFileSync(path.join(d, 'on-tmpfs'), '');
    assert.equal(await unmountHeld(d, MNT_DETACH), true);
    assert.ok(!fs.existsSync(path.join(d, 'on-tmpfs')));
    assert.equal(await unmountHeld(d, MNT_DETACH), false);
    assert.equal(await unmountHeld(path.join(d, 'missing'), MNT_DETACH), false);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('writeFileAtomically: the data under the final name with its mode, the temp gone; a failed rename leaves no temp and the old file', async () => {
  const d = tmp();
  try {
    const file = path.join(d, 'rec.json');
    for (const [data, sync] of [['{"a":1}', { file: true, dir: true }], [new TextEncoder().encode('{"b":2}'), { file: false, dir: false }]] as const) {
      await writeFileAtomically(path.join(d, '.rec.tmp'), file, data, 0o640, sync);
      assert.equal(fs.readFileSync(file, 'utf8'), typeof data === 'string' ? data : '{"b":2}');
      assert.equal(fs.statSync(file).mode & 0o777, 0o640 & ~process.umask());
      assert.deepEqual(fs.readdirSync(d), ['rec.json']);
    }
    fs.mkdirSync(path.join(d, 'dir'));
    fs.writeFileSync(path.join(d, 'dir', 'x'), '');
    await assert.rejects(writeFileAtomically(path.join(d, '.t.tmp'), path.join(d, 'dir'), 'x', 0o600, { file: true, dir: false }), /rename .*(EISDIR|ENOTEMPTY)/);
    assert.deepEqual(fs.readdirSync(d).sort(), ['dir', 'rec.json'], 'the temp file is gone');
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('writeFilesAtomically: several files in one job, each with its own data; a failure stops there and leaves no temp', async () => {
  const d = tmp();
  try {
    const f = (n: string) => path.join(d, n);
    await writeFilesAtomically([
      { tmp: f('a.tmp'), file: f('a'), data: 'one\n' },
      { tmp: f('b.tmp'), file: f('b'), data: new TextEncoder().encode('two\n') },
      { tmp: f('c.tmp'), file: f('c'), data: '' },
    ], 0o644, { file: false, dir: false });
    assert.deepEqual(fs.readdirSync(d).sort(), ['a', 'b', 'c']);
    assert.deepEqual(['a', 'b', 'c'].map((n) => fs.readFileSync(f(n), 'utf8')), ['one\n', 'two\n', '']);
    assert.equal(fs.statSync(f('b')).mode & 0o777, 0o644 & ~process.umask());
    fs.mkdirSync(f('dir'));
    fs.writeFileSync(path.join(f('dir'), 'x'), '');
    await assert.rejects(writeFilesAtomically([
      { tmp: f('a.tmp'), file: f('a'), data: 'again\n' },
      { tmp: f('d.tmp'), file: f('dir'), data: 'x' },
      { tmp: f('e.tmp'), file: f('e'), data: 'never' },
    ], 0o600, { file: true, dir: true }), /rename .*dir/);
    assert.equal(fs.readFileSync(f('a'), 'utf8'), 'again\n', 'the pair before the failure is written');
    assert.deepEqual(fs.readdirSync(d).sort(), ['a', 'b', 'c', 'dir'], 'no temp left, nothing after the failure');
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
