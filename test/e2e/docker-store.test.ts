// The image store with images that share layers, through the real docker CLI: save/load of
// several images (each layer once in the archive and in the store), history of a loaded
// multi-layer image, system df shared vs unique sizes, image prune -a with label/until filters,
// images --digests and --filter dangling/reference/before/since/label.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tar from 'tar-stream';
import { useDaemon, type TestDaemon } from '../helpers/daemon';
import { packTar, saveArchive as archive, sha } from '../helpers/archive';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const docker = (...args: string[]) => d.docker(args);
let base: Buffer;
let top1: Buffer;
let top2: Buffer;
let made: { tar: Buffer; ids: Record<string, string> };

async function setUp(): Promise<void> {
  if (made) return;
  base = fs.readFileSync(path.join(d.root, 'busybox.tar'));
  top1 = await packTar([{ name: 'top1.txt', data: Buffer.alloc(200_000, 1) }]);
  top2 = await packTar([{ name: 'top2.txt', data: Buffer.alloc(300_000, 2) }]);
  made = await archive([
    { tag: 'st-one:1', layers: [base, top1], labels: { tier: 'one' }, created: '2026-01-01T00:00:00Z',
      history: [{ created_by: 'ADD busybox /' }, { created_by: 'ENV X=1', empty_layer: true }, { created_by: 'COPY top1.txt /' }] },
    { tag: 'st-two:1', layers: [base, top2], labels: { tier: 'two' }, created: '2026-02-01T00:00:00Z',
      history: [{ created_by: 'ADD busybox /' }, { created_by: 'COPY top2.txt /' }] },
    { tag: 'st-three:1', layers: [base], created: '2026-03-01T00:00:00Z', history: [{ created_by: 'ADD busybox /' }] },
  ]);
}

async function load(buf: Buffer): Promise<void> {
  const f = path.join(d.root, `load-${Date.now()}.tar`);
  fs.writeFileSync(f, buf);
  const r = await docker('load', '-i', f);
  fs.rmSync(f);
  assert.equal(r.code, 0, r.stderr);
}

async function saveEntries(file: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => { counts.set(h.name, (counts.get(h.name) ?? 0) + 1); s.on('end', next); s.resume(); });
  const done = new Promise((r) => ex.on('finish', r));
  fs.createReadStream(file).pipe(ex);
  await done;
  return counts;
}

test('save/load round-trips three images over one shared base: each layer once in the archive and in the store', async () => {
  await setUp();
  await load(made.tar);
  for (const [t, id] of Object.entries(made.ids)) {
    const ins = JSON.parse((await docker('image', 'inspect', t)).stdout)[0];
    assert.equal(ins.Id, id, `${t} keeps its config digest`);
  }
  assert.equal((await docker('run', '--rm', 'st-one:1', 'wc', '-c', '/top1.txt')).stdout.trim(), '200000 /top1.txt');
  assert.equal((await docker('run', '--rm', 'st-two:1', 'sh', '-c', 'wc -c < /top2.txt; ls /top1.txt 2>&1 | grep -c "No such"')).stdout, '300000\n1\n');
  const du = (await d.request('GET', '/v1.44/system/df')).json();
  const baseLayer = du.Images.find((i: { RepoTags: string[] }) => i.RepoTags.includes('st-three:1')).Size as number;

  const out = path.join(d.root, 'three.tar');
  const s = await docker('save', '-o', out, 'st-one:1', 'st-two:1', 'st-three:1');
  assert.equal(s.code, 0, s.stderr);
  const entries = await saveEntries(out);
  const blob = (b: Buffer) => `blobs/sha256/${sha(b).slice(7)}`;
  for (const l of [base, top1, top2]) assert.equal(entries.get(blob(l)), 1, 'each layer is in the archive once');
  assert.ok(fs.statSync(out).size < base.length + top1.length + top2.length + 200_000, 'the base is not written three times');
  const manifest = JSON.parse(execTarCat(out, 'manifest.json'));
  assert.deepEqual(manifest.map((m: { RepoTags: string[] }) => m.RepoTags[0]).sort(), ['st-one:1', 'st-three:1', 'st-two:1']);

  // Remove all three: the layers go; load the saved archive: the same images, the base once.
  for (const t of ['st-one:1', 'st-two:1', 'st-three:1']) assert.equal((await docker('rmi', t)).code, 0);
  const before = (await d.request('GET', '/v1.44/system/df')).json().LayersSize as number;
  const l = await docker('load', '-i', out);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: st-one:1/);
  for (const [t, id] of Object.entries(made.ids)) assert.equal(JSON.parse((await docker('image', 'inspect', t)).stdout)[0].Id, id);
  const after = (await d.request('GET', '/v1.44/system/df')).json().LayersSize as number;
  // busybox:latest (imported from the same tar: the same diff ID) kept the base layer. A layer
  // takes its diff (the files' bytes) and its blob (a load keeps the tar as it came).
  const tops = 500_000 + top1.length + top2.length;
  assert.equal(after - before, tops, 'the load added the two top layers only, diffs and blobs');
  const sizes = (await d.request('GET', '/v1.44/system/df')).json().Images as Array<{ RepoTags: string[]; Size: number; SharedSize: number }>;
  const one = sizes.find((i) => i.RepoTags.includes('st-one:1'))!;
  const two = sizes.find((i) => i.RepoTags.includes('st-two:1'))!;
  assert.equal(one.SharedSize, baseLayer, 'st-one shares the base layer');
  assert.equal(two.SharedSize, baseLayer);
  assert.equal(one.Size - one.SharedSize, 200_000 + top1.length, 'st-one unique: its top layer');
  assert.equal(two.Size - two.SharedSize, 300_000 + top2.length);
  assert.equal(after, baseLayer + tops, 'the store holds base + top1 + top2, the base once');
  const v = await docker('system', 'df', '-v');
  assert.match(v.stdout, /^st-one\s+1\s+\w{12}\s+.+?\s+4\.\d+MB\s+4\.\d+MB\s+40\d(\.\d)?kB\s+0$/m);
  assert.match(v.stdout, /^st-two\s+1\s+\w{12}\s+.+?\s+4\.\d+MB\s+4\.\d+MB\s+60\d(\.\d)?kB\s+0$/m);
  // berth renders the same reply as docker does
  await d.assertSameRendering(['system', 'df', '-v']);
  await d.assertSameRendering(['system', 'df']);
});

function execTarCat(file: string, member: string): string {
  return require('node:child_process').execFileSync('tar', ['-xOf', file, member]).toString();
}

test('load reads the archive as it streams: manifest and config first, a symlinked layer name, a junk entry; a layer that is not what its config says is refused, nothing left over', async () => {
  await setUp();
  const la = await packTar([{ name: 'la.txt', data: Buffer.from('A\n') }]);
  const lb = await packTar([{ name: 'lb.txt', data: Buffer.from('B\n') }]);
  const archiveOf = async (tag: string, layers: Buffer[], claimed: string[]) => {
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [sha(base), ...claimed] },
      history: [{ created_by: 'base' }, ...claimed.map(() => ({ created_by: 'x' }))],
    }));
    const manifest = [{ Config: 'cfg.json', RepoTags: [tag], Layers: ['base/layer.tar', 'aaa/layer.tar', 'bbb/layer.tar'] }];
    return { id: sha(config), tar: await packTar([
      { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
      { name: 'cfg.json', data: config },
      { name: 'base/layer.tar', data: base },
      { name: 'aaa/layer.tar', data: layers[0] },
      { name: 'bbb/layer.tar', type: 'symlink', linkname: '../ccc/layer.tar' },
      { name: 'ccc/layer.tar', data: layers[1] },
      { name: 'junk.bin', data: Buffer.alloc(3 << 20, 9) },
    ]) };
  };
  const good = await archiveOf('st-stream:1', [la, lb], [sha(la), sha(lb)]);
  await load(good.tar);
  assert.equal(JSON.parse((await docker('image', 'inspect', 'st-stream:1')).stdout)[0].Id, good.id);
  assert.equal((await docker('run', '--rm', 'st-stream:1', 'cat', '/la.txt', '/lb.txt')).stdout, 'A\nB\n');

  const lc = await packTar([{ name: 'lc.txt', data: Buffer.from('C\n') }]);
  const ld = await packTar([{ name: 'ld.txt', data: Buffer.from('D\n') }]);
  const bad = await archiveOf('st-stream:bad', [lc, ld], [sha(lc), sha(lb)]);
  const f = path.join(d.root, 'bad.tar');
  fs.writeFileSync(f, bad.tar);
  const r = await docker('load', '-i', f);
  fs.rmSync(f);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /diff ID mismatch/);
  assert.notEqual((await docker('image', 'inspect', 'st-stream:bad')).code, 0, 'no image');
  const layersDir = path.join(d.dataRoot, 'layers');
  const metas = fs.readdirSync(layersDir).filter((n) => /^[a-f0-9]{64}$/.test(n))
    .map((n) => JSON.parse(fs.readFileSync(path.join(layersDir, n, 'meta.json'), 'utf8')).diffId as string);
  assert.ok(!metas.includes(sha(ld)), 'the refused layer is not in the store');
  assert.deepEqual(fs.readdirSync(path.join(layersDir, 'tmp')), [], 'no extraction left behind');
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'images', 'tmp')), [], 'no staging left behind');
  await docker('rmi', 'st-stream:1');
});

test('history of a loaded multi-layer image: newest first, <missing> below the top, sizes per layer', async () => {
  await setUp();
  const h = await docker('history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'st-one:1');
  assert.equal(h.code, 0, h.stderr);
  const rows = h.stdout.trim().split('\n').map((l) => l.split('|'));
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => r[1]), ['COPY top1.txt /', 'ENV X=1', 'ADD busybox /']);
  assert.equal(rows[0][0], made.ids['st-one:1']);
  assert.deepEqual(rows.slice(1).map((r) => r[0]), ['<missing>', '<missing>']);
  assert.equal(rows[0][2], '200kB');
  assert.equal(rows[1][2], '0B');
  assert.match(rows[2][2], /^1\.9\d+MB$/);
});

test('images --filter dangling/reference/before/since/label, --digests', async () => {
  await setUp();
  const f = async (...args: string[]) => (await docker('images', '--format', '{{.Repository}}:{{.Tag}}', ...args)).stdout.trim().split('\n').filter(Boolean).sort();
  assert.deepEqual(await f('--filter', 'reference=st-*'), ['st-one:1', 'st-three:1', 'st-two:1']);
  assert.deepEqual(await f('--filter', 'label=tier=two'), ['st-two:1']);
  assert.deepEqual(await f('--filter', 'label=tier', '--filter', 'reference=st-*'), ['st-one:1', 'st-two:1']);
  assert.deepEqual(await f('--filter', 'before=st-two:1', '--filter', 'reference=st-*'), ['st-one:1']);
  assert.deepEqual(await f('--filter', 'since=st-one:1', '--filter', 'reference=st-*'), ['st-three:1', 'st-two:1']);
  assert.deepEqual(await f('--filter', 'dangling=true'), []);
  // a newer st-three:1 loaded over the old one leaves the old image dangling
  const newer = await archive([{ tag: 'st-three:1', layers: [base], created: '2026-03-02T00:00:00Z', history: [{ created_by: 'ADD busybox /' }] }]);
  await load(newer.tar);
  const dangling = (await docker('images', '--filter', 'dangling=true', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}')).stdout.trim();
  assert.equal(dangling, `<none>:<none> ${made.ids['st-three:1'].slice(7, 19)}`);
  assert.deepEqual(await f('--filter', 'dangling=false', '--filter', 'reference=st-three'), ['st-three:1']);
  const p = await docker('image', 'prune', '-f');
  assert.match(p.stdout, new RegExp(`deleted: ${made.ids['st-three:1']}`));
  assert.match(p.stdout, /Total reclaimed space: 0B/, 'its layer is busybox\'s, still used');
  assert.equal((await docker('rmi', 'st-three:1')).code, 0);
  assert.equal((await docker('images', '--filter', 'bogus=1')).code, 1);
  const dg = await docker('images', '--digests', 'st-one');
  assert.match(dg.stdout, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/m);
  assert.match(dg.stdout, /^st-one\s+1\s+<none>\s+\w{12}/m, 'a loaded image has no repo digest');
  await load(made.tar); // st-three back for the next test
});

test('image prune -a with label and until filters removes only the unused images they select', async () => {
  await setUp();
  // until: images created before 2026-01-15 (st-one only); label narrows further
  const none = await docker('image', 'prune', '-a', '-f', '--filter', 'until=2026-01-15T00:00:00Z', '--filter', 'label=tier=two');
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /Total reclaimed space: 0B/);
  await docker('create', '--name', 'st-user', 'st-two:1', 'true');
  try {
    const r = await docker('image', 'prune', '-a', '-f', '--filter', 'label=tier');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /untagged: st-one:1/);
    assert.doesNotMatch(r.stdout, /st-two/, 'st-two is used by a container');
    assert.match(r.stdout, /Total reclaimed space: 200kB/, 'only st-one\'s own layer is freed');
    assert.equal((await docker('image', 'inspect', 'st-one:1')).code, 1);
    assert.equal((await docker('image', 'inspect', 'st-two:1')).code, 0);
    assert.equal((await docker('image', 'inspect', 'st-three:1')).code, 0, 'no label: kept');
  } finally {
    await docker('rm', '-f', 'st-user');
  }
  const u = await docker('image', 'prune', '-a', '-f', '--filter', 'until=2026-02-15T00:00:00Z');
  assert.match(u.stdout, /untagged: st-two:1/);
  assert.doesNotMatch(u.stdout, /st-three|busybox/);
  for (const t of ['st-three:1']) await docker('rmi', t);
});
