// Nothing lost at boot: a record that cannot be read (torn, empty, wrong JSON) is moved to the
// quarantine with what it owns kept, reported by `docker info`, and can be repaired by hand;
// a kill -9 at each crash point the code marks (src/lib/crashpoint.ts) leaves stores where the
// operation either happened or did not, and everything still listed works.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
});
after(async () => {
  // A test that failed between a crash and the next start leaves berthd dead: start it so that
  // stop() removes its containers (TestDaemon waits for an exit that a SIGKILLed process has had).
  if (d && d.exited) await d.start().catch(() => undefined);
  await d?.stop();
});

// ---- helpers

const sha256File = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const dataPath = (...p: string[]) => path.join(d.dataRoot, ...p);
/** A directory's entries; names starting with '.' are removals finishing in the background. */
const ls = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort() : []);

const restart = (env: Record<string, string> = {}) => d.restart(env);

/** Starts berthd with BERTH_CRASH_AT=point, runs `op` (which the crash interrupts), then starts it normally. */
async function crashAt(point: string, op: () => Promise<unknown>, env: Record<string, string> = {}): Promise<void> {
  await restart({ BERTH_CRASH_AT: point, ...env });
  const proc = d.proc!;
  const died = new Promise<void>((r) => { if (d.exited) r(); else proc.once('exit', () => r()); });
  await op();
  const dead = await Promise.race([died.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  assert.ok(dead, `berthd did not reach crash point ${point}`);
  assert.equal(proc.signalCode, 'SIGKILL');
  assert.match(d.stderr, new RegExp(`crash point ${point.replace(/\./g, '\\.')}`));
  await restart();
}

const dockerOk = (args: string[]) => d.dockerOk(args);

async function containerIds(): Promise<string[]> {
  return (await dockerOk(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean).sort();
}

async function imageIds(): Promise<string[]> {
  return [...new Set((await dockerOk(['images', '-aq', '--no-trunc'])).split('\n').filter(Boolean))].sort();
}

async function warnings(): Promise<string[]> {
  const r = await d.request('GET', '/v1.44/info');
  assert.equal(r.status, 200);
  return (r.json<{ Warnings: string[] | null }>().Warnings ?? []);
}

/** The on-disk state of the stores that operations change. */
function snapshot(): Record<string, string[]> {
  return {
    containers: ls(dataPath('containers')),
    mounts: ls(dataPath('layers', 'mounts')),
    layers: ls(dataPath('layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)),
    blobs: ls(dataPath('content', 'blobs', 'sha256')),
    images: ls(dataPath('images', 'meta')),
  };
}

/**
 * What every start must leave: no half-made thing anywhere, every listed container and image
 * whole on disk, and each listed container's writable layer present.
 */
async function assertConsistent(): Promise<void> {
  const ids = await containerIds();
  const quarantined = ls(dataPath('quarantine', 'container')).map((n) => n.slice(0, 64));
  assert.deepEqual(ls(dataPath('containers')), ids, 'a container directory per listed container, nothing else');
  for (const id of ids) {
    JSON.parse(fs.readFileSync(dataPath('containers', id, 'config.v2.json'), 'utf8'));
    assert.ok(fs.existsSync(dataPath('layers', 'mounts', id, 'meta.json')), `writable layer of ${id}`);
  }
  for (const m of ls(dataPath('layers', 'mounts'))) {
    assert.ok(ids.includes(m) || quarantined.includes(m), `writable layer ${m} belongs to a container`);
  }
  assert.deepEqual(ls(dataPath('layers', 'tmp')), [], 'no half-made layer');
  assert.deepEqual(ls(dataPath('images', 'tmp')), [], 'no load staging left');
  assert.deepEqual(ls(dataPath('content', 'ingest')), [], 'no partial blob');
  for (const n of ls(dataPath('layers')).filter((x) => /^[a-f0-9]{64}$/.test(x))) {
    const meta = JSON.parse(fs.readFileSync(dataPath('layers', n, 'meta.json'), 'utf8'));
    assert.equal(meta.chainId, `sha256:${n}`);
  }
  for (const id of await imageIds()) await dockerOk(['image', 'inspect', id]);
}

function tarWith(name: string, files: Record<string, string>, base?: string): string {
  const dir = path.join(d.root, `${name}.d`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), body);
  const out = path.join(d.root, `${name}.tar`);
  if (base) {
    fs.copyFileSync(base, out);
    execFileSync('tar', ['-rf', out, '-C', dir, ...Object.keys(files)]);
  } else {
    execFileSync('tar', ['-cf', out, '-C', dir, ...Object.keys(files)]);
  }
  return out;
}

/** A `docker save` archive of a two-layer image (busybox plus a file, then another file). */
function twoLayerArchive(tag: string): string {
  const l1 = tarWith('two-l1', { 'one.txt': 'one\n' }, path.join(d.root, 'busybox.tar'));
  const l2 = tarWith('two-l2', { 'two.txt': 'two\n' });
  const dir = path.join(d.root, 'two.d');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  fs.copyFileSync(l1, path.join(dir, 'l1.tar'));
  fs.copyFileSync(l2, path.join(dir, 'l2.tar'));
  const config = JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256File(l1)}`, `sha256:${sha256File(l2)}`] },
  });
  const configHex = createHash('sha256').update(config).digest('hex');
  fs.writeFileSync(path.join(dir, `${configHex}.json`), config);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [tag], Layers: ['l1.tar', 'l2.tar'] }]));
  const out = path.join(d.root, 'two.tar');
  execFileSync('tar', ['-cf', out, '-C', dir, 'manifest.json', `${configHex}.json`, 'l1.tar', 'l2.tar']);
  return out;
}

function quarantinedAs(kind: string, name: string): string {
  const hits = ls(dataPath('quarantine', kind)).filter((n) => n.startsWith(`${name}-`));
  assert.equal(hits.length, 1, `one quarantined ${kind} ${name}: ${ls(dataPath('quarantine', kind))}`);
  return dataPath('quarantine', kind, hits[0]);
}

async function assertWarned(kind: string, name: string): Promise<void> {
  const w = await warnings();
  assert.ok(w.some((l) => l.includes(`${kind} record ${name}`) && l.includes(dataPath('quarantine', kind))), `warning for ${kind} ${name}: ${w.join(' | ')}`);
  // The docker CLI shows them at the end of `docker info`.
  const r = await d.docker(['info']);
  assert.equal(r.code, 0);
  assert.match(r.stdout + r.stderr, new RegExp(`WARNING: ${kind} record ${name}`));
}

/** Moves a quarantined record back where it was, repaired with `content` (a file) or as it is (a directory). */
function repair(from: string, to: string, file?: { name: string; content: string }): void {
  if (file) fs.writeFileSync(path.join(from, file.name), file.content);
  fs.renameSync(from, to);
}

// ---- unreadable records

test('unreadable container records: quarantined whole with their writable layers; the rest works; repairable', async () => {
  await dockerOk(['run', '--name', 'q-keep', 'busybox', 'echo', 'kept']);
  const keep = (await dockerOk(['inspect', '-f', '{{.Id}}', 'q-keep'])).trim();
  const bad: Record<string, string> = {};
  const original: Record<string, string> = {};
  for (const [name, corrupt] of [['q-torn', 'torn'], ['q-empty', 'empty'], ['q-wrong', 'wrong'], ['q-gone', 'gone']] as const) {
    await dockerOk(['run', '--name', name, 'busybox', 'sh', '-c', `echo ${name}-data > /made.txt; echo ${name}-log`]);
    const id = (await dockerOk(['inspect', '-f', '{{.Id}}', name])).trim();
    bad[corrupt] = id;
    const file = dataPath('containers', id, 'config.v2.json');
    original[id] = fs.readFileSync(file, 'utf8');
    if (corrupt === 'gone') fs.rmSync(file);
    else fs.writeFileSync(file, corrupt === 'torn' ? original[id].slice(0, original[id].length / 2) : corrupt === 'empty' ? '' : '["not", "a", "record"]');
  }
  await restart();

  const listed = await containerIds();
  assert.ok(listed.includes(keep));
  for (const id of Object.values(bad)) {
    assert.ok(!listed.includes(id), 'an unreadable record is not listed');
    const q = quarantinedAs('container', id);
    assert.match(fs.readFileSync(path.join(q, 'container.log'), 'utf8'), /-log/, 'its logs are kept');
    if (id !== bad.gone) assert.ok(fs.existsSync(path.join(q, 'config.v2.json')), 'the bad record itself is kept for repair');
    assert.match(fs.readFileSync(dataPath('layers', 'mounts', id, 'diff', 'made.txt'), 'utf8'), /-data/, 'its writable layer is not collected');
    assert.match(d.stderr, new RegExp(`level=error msg="unreadable record moved to quarantine" kind="container" name="${id}"`));
    await assertWarned('container', id);
  }
  await assertConsistent();
  assert.equal(await dockerOk(['start', '-a', 'q-keep']), 'kept\n');
  assert.equal(await dockerOk(['run', '--rm', 'busybox', 'echo', 'ok']), 'ok\n');
  // The name of a quarantined container is free; another start keeps the quarantine as it is.
  await dockerOk(['create', '--name', 'q-torn', 'busybox']);
  await dockerOk(['rm', 'q-torn']);
  await restart();
  for (const id of Object.values(bad)) {
    assert.ok(fs.existsSync(dataPath('layers', 'mounts', id, 'diff', 'made.txt')), 'still kept at the next start');
    quarantinedAs('container', id);
  }

  // A human repairs one: moved back with a good record, it is whole again.
  const torn = bad.torn;
  repair(quarantinedAs('container', torn), dataPath('containers', torn), { name: 'config.v2.json', content: original[torn] });
  await restart();
  assert.ok((await containerIds()).includes(torn));
  assert.equal(await dockerOk(['start', '-a', torn]), 'q-torn-log\n');
  assert.ok(!(await warnings()).some((l) => l.includes(torn)));
  await dockerOk(['rm', '-f', 'q-keep', torn]);
  // What is left in the quarantine is the user's to delete; the writable layers go with it.
  for (const id of [bad.empty, bad.wrong, bad.gone]) {
    fs.rmSync(quarantinedAs('container', id), { recursive: true });
  }
  await restart();
  assert.ok(!fs.existsSync(dataPath('layers', 'mounts', bad.empty)), 'no record claims it any more: an orphan');
  await assertConsistent();
});

test('an unreadable image record: quarantined; its layers, tags and containers are kept; repairable', async () => {
  // Two images that share one layer nothing else has.
  const solo = tarWith('solo', { 'solo.txt': 'solo\n' }, path.join(d.root, 'busybox.tar'));
  await dockerOk(['import', '--change', 'CMD ["sh"]', solo, 'solo:a']);
  await dockerOk(['import', '--change', 'CMD ["cat", "/solo.txt"]', solo, 'solo:b']);
  const a = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'solo:a'])).trim();
  const b = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'solo:b'])).trim();
  const layer = JSON.parse(await dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'solo:b']))[0] as string;
  await dockerOk(['create', '--name', 'q-from-b', 'solo:b']);
  const layerDir = dataPath('layers', layer.slice(7));
  const metaFile = dataPath('images', 'meta', `${b.slice(7)}.json`);
  const original = fs.readFileSync(metaFile, 'utf8');
  fs.writeFileSync(metaFile, original.slice(0, 10));
  await restart();

  assert.ok(!(await imageIds()).includes(b));
  assert.ok((await imageIds()).includes(a));
  quarantinedAs('image', b.slice(7));
  await assertWarned('image', b.slice(7));
  await assertConsistent();
  // A container made from it still works.
  assert.equal(await dockerOk(['start', '-a', 'q-from-b']), 'solo\n');
  assert.equal(await dockerOk(['run', '--rm', 'busybox', 'echo', 'ok']), 'ok\n');
  // With that container gone, the layer both images use survives the removal of the other
  // image: the quarantined one needs it.
  await dockerOk(['rm', 'q-from-b']);
  await dockerOk(['rmi', 'solo:a']);
  assert.ok(fs.existsSync(path.join(layerDir, 'diff', 'solo.txt')), 'layer kept for the quarantined image');

  repair(quarantinedAs('image', b.slice(7)), metaFile);
  fs.writeFileSync(metaFile, original);
  await restart();
  assert.equal((await dockerOk(['image', 'inspect', '-f', '{{.Id}} {{json .RepoTags}}', b])).trim(), `${b} ["solo:b"]`, 'back with its tag');
  assert.equal(await dockerOk(['run', '--rm', 'solo:b']), 'solo\n');
  await dockerOk(['rmi', 'solo:b']);
  assert.ok(!fs.existsSync(layerDir), 'collected once nothing needs it');
  await assertConsistent();
});

test('an unreadable layer record: the layer is quarantined whole; images on it are held, not dropped; repairable', async () => {
  const solo = tarWith('solo2', { 'solo2.txt': 'solo2\n' }, path.join(d.root, 'busybox.tar'));
  await dockerOk(['import', '--change', 'CMD ["cat", "/solo2.txt"]', solo, 'solo2:x']);
  const img = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'solo2:x'])).trim();
  const layer = (JSON.parse(await dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', img]))[0] as string).slice(7);
  const metaFile = dataPath('layers', layer, 'meta.json');
  const original = fs.readFileSync(metaFile, 'utf8');
  fs.writeFileSync(metaFile, '{"chainId": "sha256:');
  await restart();

  const q = quarantinedAs('layer', layer);
  assert.ok(fs.existsSync(path.join(q, 'diff', 'solo2.txt')), 'the layer is kept whole');
  await assertWarned('layer', layer);
  const w = await warnings();
  assert.ok(w.some((l) => l.includes(`image ${img} cannot be used`)), `the image on it is reported: ${w.join(' | ')}`);
  assert.ok(!(await imageIds()).includes(img), 'an image that cannot run is not listed');
  assert.ok(fs.existsSync(dataPath('images', 'meta', `${img.slice(7)}.json`)), 'its record is kept');
  assert.match(fs.readFileSync(dataPath('images', 'repositories.json'), 'utf8'), /solo2:x/, 'its tag is kept');
  await assertConsistent();
  assert.equal(await dockerOk(['run', '--rm', 'busybox', 'echo', 'ok']), 'ok\n');
  // Tagging something else meanwhile keeps the held tag on disk.
  await dockerOk(['tag', 'busybox', 'q-other:1']);
  assert.match(fs.readFileSync(dataPath('images', 'repositories.json'), 'utf8'), /solo2:x/);

  repair(q, dataPath('layers', layer), { name: 'meta.json', content: original });
  await restart();
  assert.equal(await dockerOk(['run', '--rm', 'solo2:x']), 'solo2\n');
  assert.ok(!(await warnings()).some((l) => l.includes(img)));
  await dockerOk(['rmi', 'solo2:x', 'q-other:1']);
  await assertConsistent();
});

test('an unreadable reference record: quarantined; images stay, untagged, and work', async () => {
  const bb = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
  await dockerOk(['create', '--name', 'q-ref', 'busybox', 'echo', 'ref']);
  // A tagged image that no container uses: what a prune would take.
  await dockerOk(['import', '--change', 'CMD ["sh"]', tarWith('pruneme', { 'p.txt': 'p\n' }, path.join(d.root, 'busybox.tar')), 'q-pruneme:1']);
  const pruneMe = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'q-pruneme:1'])).trim();
  const file = dataPath('images', 'repositories.json');
  const original = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, original.slice(0, original.length - 5));
  await restart();

  const q = quarantinedAs('reference', 'repositories.json');
  assert.equal(fs.readFileSync(q, 'utf8'), original.slice(0, original.length - 5));
  await assertWarned('reference', 'repositories.json');
  assert.ok((await imageIds()).includes(bb), 'the image is still there');
  assert.ok((await imageIds()).includes(pruneMe), 'the image no container uses is still there');
  // Every image looks untagged now: a prune would delete what the user tagged. Refused.
  for (const args of [['image', 'prune', '-f'], ['image', 'prune', '-a', '-f']]) {
    const r = await d.docker(args);
    assert.equal(r.code, 1, `docker ${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /Error response from daemon: images cannot be pruned while image records are unreadable/);
    assert.ok(r.stderr.includes(q), `the message names ${q}: ${r.stderr}`);
  }
  const api = await d.request('POST', '/v1.44/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D');
  assert.equal(api.status, 409);
  assert.ok(api.json<{ message: string }>().message.includes(q));
  assert.ok((await imageIds()).includes(pruneMe), 'nothing was pruned');
  await assertConsistent();
  assert.equal(await dockerOk(['run', '--rm', bb, 'echo', 'ok']), 'ok\n');
  assert.equal(await dockerOk(['start', '-a', 'q-ref']), 'ref\n');

  // Repaired: the tags are back.
  fs.rmSync(q);
  fs.writeFileSync(file, original);
  await restart();
  assert.equal((await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim(), bb);
  assert.ok(!(await warnings()).some((l) => l.includes('reference record')));
  // Tagged again, nothing is dangling: a prune runs and keeps it.
  await dockerOk(['image', 'prune', '-f']);
  assert.equal((await dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'q-pruneme:1'])).trim(), pruneMe);
  await dockerOk(['rm', 'q-ref']);
  await dockerOk(['rmi', 'q-pruneme:1']);
});

test('an unreadable writable-layer record: rebuilt from the container record; one nothing claims is quarantined', async () => {
  const ids: Record<string, string> = {};
  for (const [name, corrupt] of [['m-torn', 'torn'], ['m-empty', 'empty'], ['m-wrong', 'wrong'], ['m-gone', 'gone']] as const) {
    await dockerOk(['run', '--name', name, 'busybox', 'sh', '-c', `test -e /made.txt && cat /made.txt || echo ${name}-data > /made.txt`]);
    const id = (await dockerOk(['inspect', '-f', '{{.Id}}', name])).trim();
    ids[name] = id;
    const file = dataPath('layers', 'mounts', id, 'meta.json');
    const original = fs.readFileSync(file, 'utf8');
    if (corrupt === 'gone') fs.rmSync(file);
    else fs.writeFileSync(file, corrupt === 'torn' ? original.slice(0, original.length / 2) : corrupt === 'empty' ? '' : '{"id": "other"}');
  }
  // A writable layer with a torn record and no container: someone's data, but whose is unknown.
  const stray = 'f'.repeat(64);
  fs.mkdirSync(dataPath('layers', 'mounts', stray, 'diff'), { recursive: true });
  fs.writeFileSync(dataPath('layers', 'mounts', stray, 'diff', 'stray.txt'), 'stray\n');
  fs.writeFileSync(dataPath('layers', 'mounts', stray, 'meta.json'), '{"id": "ffff');
  await restart();

  for (const [name, id] of Object.entries(ids)) {
    assert.equal(await dockerOk(['start', '-a', name]), `${name}-data\n`, `${name}: starts, with what it wrote`);
    const meta = JSON.parse(fs.readFileSync(dataPath('layers', 'mounts', id, 'meta.json'), 'utf8'));
    assert.equal(meta.parent, JSON.parse(fs.readFileSync(dataPath('containers', id, 'config.v2.json'), 'utf8')).ImageChainId, 'the parent chain the container record names');
    assert.ok(meta.parent, 'busybox has a layer');
    assert.equal(meta.id, id);
  }
  assert.match(d.stderr, /unreadable writable-layer record rebuilt from the container record/);
  assert.deepEqual(ls(dataPath('quarantine', 'mount')).map((n) => n.slice(0, 64)), [stray], 'only the one nothing claims is quarantined');
  assert.equal(fs.readFileSync(path.join(quarantinedAs('mount', stray), 'diff', 'stray.txt'), 'utf8'), 'stray\n');
  await assertWarned('mount', stray);
  await assertConsistent();
  await dockerOk(['rm', ...Object.keys(ids)]);
  fs.rmSync(quarantinedAs('mount', stray), { recursive: true });
  await restart();
  assert.ok(!(await warnings()).some((l) => l.includes(stray)));
  await assertConsistent();
});

// ---- kill -9 at each crash point

test('crash points in container create and remove: it happened or it did not', async () => {
  const before = snapshot();
  // The layer is made beside the record: held before the record's write, a crash after the
  // layer leaves the layer alone.
  const noRecordYet = { BERTH_PAUSE_AT: 'container.create.before-record:5000' };
  for (const point of ['layer.mount.after-create', 'container.create.after-layer']) {
    await crashAt(point, () => d.docker(['create', '--name', 'c-create', 'busybox', 'echo', 'made']), noRecordYet);
    assert.deepEqual(snapshot(), before, `${point}: no container, no writable layer left`);
    await assertConsistent();
    await dockerOk(['create', '--name', 'c-create', 'busybox', 'echo', 'made']);
    assert.equal(await dockerOk(['start', '-a', 'c-create']), 'made\n');
    await dockerOk(['rm', 'c-create']);
  }

  // The record written, the layer made or not (either order), not yet made, or its directories
  // made without their meta.json: the next start makes the layer whole and the container works.
  const torn: [string, Record<string, string>, RegExp | undefined][] = [
    ['either', {}, undefined],
    ['no layer', { BERTH_PAUSE_AT: 'container.create.before-layer:5000' }, /writable layer of a create cut short made again/],
    ['no layer meta', { BERTH_PAUSE_AT: 'layer.mount.before-meta:5000' }, /writable-layer record rebuilt/],
  ];
  for (const [what, env, repaired] of torn) {
    await crashAt('container.create.after-record', () => d.docker(['create', '--name', 'c-made', 'busybox', 'echo', 'made']), env);
    if (repaired) assert.match(d.stderr, repaired, `${what}: repaired at the start`);
    await assertConsistent();
    assert.deepEqual(ls(dataPath('quarantine', 'mount')), [], `${what}: nothing quarantined`);
    assert.equal(await dockerOk(['start', '-a', 'c-made']), 'made\n', `${what}: the container was made and works`);
    await dockerOk(['rm', 'c-made']);
    assert.deepEqual(snapshot(), before, `${what}: nothing of it left`);
  }

  for (const point of ['container.remove.after-state', 'container.remove.after-rename']) {
    await dockerOk(['run', '--name', 'c-rm', 'busybox', 'echo', 'x']);
    await crashAt(point, () => d.docker(['rm', 'c-rm']));
    assert.ok(!(await d.docker(['inspect', 'c-rm'])).stdout.includes('"Id"'), `${point}: the removal is finished`);
    assert.deepEqual(snapshot(), before, `${point}: nothing of it left`);
    await assertConsistent();
  }
  assert.equal(await dockerOk(['run', '--rm', 'busybox', 'echo', 'ok']), 'ok\n');
});

test('crash points in rm -f of a running container (its exit and removal one stage): the removal is finished at the next start', async () => {
  const before = snapshot();
  const volumes = async () => (await dockerOk(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort();
  const volumesBefore = await volumes();
  for (const point of ['container.exit.after-removing', 'container.remove.after-state', 'container.remove.after-rename']) {
    const id = (await dockerOk(['run', '-d', '--name', 'c-rmf', '-v', '/anon', 'busybox', 'sleep', '600'])).trim();
    await crashAt(point, () => d.docker(['rm', '-f', '-v', 'c-rmf']));
    assert.ok(!(await d.docker(['inspect', 'c-rmf'])).stdout.includes('"Id"'), `${point}: the removal is finished`);
    assert.deepEqual(snapshot(), before, `${point}: nothing of it left`);
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(id), `${point}: no mount of it left`);
    assert.deepEqual(await volumes(), volumesBefore, `${point}: its anonymous volume went with it (-v)`);
    await assertConsistent();
  }
});
/** The PIDs of the conmon of `id` still there; the shim of a deleted task exits once it has seen its container go: given a moment. */
async function conmons(id: string): Promise<string> {
  let left = '';
  for (let i = 0; i < 50; i++) {
    try { left = execFileSync('pgrep', ['-f', '--', `--cid ${id}`], { encoding: 'utf8' }).trim(); } catch { left = ''; }
    if (!left) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return left;
}

test('crash points in start: the running record and the runtime\'s start go side by side; each order is repaired', async () => {
  const before = snapshot();
  const state = async (name: string) => (await dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', name])).trim();
  // The record written, the start done or not: running (adopted) or exited, never a task nobody owns.
  const id = (await dockerOk(['create', '--name', 'c-start', 'busybox', 'sleep', '600'])).trim();
  await crashAt('container.start.after-save', () => d.docker(['start', 'c-start']));
  await assertConsistent();
  const [status] = (await state('c-start')).split(' ');
  assert.ok(['running', 'exited'].includes(status), `after-save: ${status}`);
  if (status === 'exited') assert.equal(await conmons(id), '', 'after-save: the created task was deleted');
  await dockerOk(['rm', '-f', 'c-start']);
  // The start done, the record not yet written (its write held back): the record says created
  // over a running task. The next start deletes the task; the container starts again as new.
  const id2 = (await dockerOk(['create', '--name', 'c-orphan', 'busybox', 'sleep', '600'])).trim();
  await crashAt('container.start.after-start', () => d.docker(['start', 'c-orphan']), { BERTH_PAUSE_AT: 'container.start.before-save:3000' });
  await assertConsistent();
  assert.equal(await state('c-orphan'), 'created 0');
  assert.equal(await conmons(id2), '', `after-start: the orphan task was deleted with its shim: ${d.stderr.split('\n').filter((l) => /orphan|task/.test(l)).join('\n')}`);
  await dockerOk(['start', 'c-orphan']);
  assert.match(await state('c-orphan'), /^running [1-9]/);
  await dockerOk(['rm', '-f', 'c-orphan']);
  assert.deepEqual(snapshot(), before);
});

test('crash points with the shim waiting on its start pipe: no task is left, the container starts again', async () => {
  const before = snapshot();
  // after-stage: conmon waits, the bundle may or may not be written yet; after-bundle: it is.
  // Either way conmon reads the pipe's end when berthd dies and goes on: without a bundle the
  // runtime fails, over a whole one it makes a task that reconcile deletes.
  for (const point of ['container.start.after-stage', 'container.start.after-bundle']) {
    const name = `c-${point.split('.').pop()}`;
    const id = (await dockerOk(['create', '--name', name, 'busybox', 'sleep', '600'])).trim();
    await crashAt(point, () => d.docker(['start', name]));
    await assertConsistent();
    assert.equal((await dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', name])).trim(), 'created 0', point);
    assert.equal(await conmons(id), '', `${point}: no shim left`);
    await dockerOk(['start', name]);
    assert.match((await dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', name])).trim(), /^running [1-9]/, point);
    await dockerOk(['rm', '-f', name]);
    assert.equal(await conmons(id), '', `${point}: the new task's shim is gone after rm`);
  }
  assert.deepEqual(snapshot(), before);
});

test('crash points in import and in the layer store: no half-made layer or image; the retry works', async () => {
  const before = snapshot();
  for (const point of ['layer.create.after-blob', 'layer.create.before-rename', 'layer.create.after-rename', 'image.import.after-layer', 'image.add.after-config']) {
    const tar = tarWith('imp', { 'imp.txt': `${point}\n` }, path.join(d.root, 'busybox.tar'));
    await crashAt(point, () => d.docker(['import', '--change', 'CMD ["cat", "/imp.txt"]', tar, 'c-imp:1']));
    assert.ok(!(await d.docker(['image', 'inspect', 'c-imp:1'])).stdout.includes('"Id"'), `${point}: no image`);
    await assertConsistent();
    await dockerOk(['import', '--change', 'CMD ["cat", "/imp.txt"]', tar, 'c-imp:1']);
    assert.equal(await dockerOk(['run', '--rm', 'c-imp:1']), `${point}\n`);
    await dockerOk(['rmi', 'c-imp:1']);
    // Also after image.add.after-config: the config blob of the image never made (the retry's
    // config has another creation time) is deleted at the next start.
    assert.deepEqual(snapshot(), before, `${point}: the stores are as before`);
  }
});

test('crash points in load and tag', async () => {
  const before = snapshot();
  const archive = twoLayerArchive('c-two:1');
  for (const point of ['image.load.after-staging', 'image.load.after-layer', 'image.load.before-record']) {
    await crashAt(point, () => d.docker(['load', '-i', archive]));
    assert.ok(!(await d.docker(['image', 'inspect', 'c-two:1'])).stdout.includes('"Id"'), `${point}: no image`);
    await assertConsistent();
    assert.match(await dockerOk(['load', '-i', archive]), /Loaded image: c-two:1/);
    assert.equal(await dockerOk(['run', '--rm', 'c-two:1', 'cat', '/one.txt', '/two.txt']), 'one\ntwo\n');
    await dockerOk(['rmi', 'c-two:1']);
    assert.deepEqual(snapshot(), before, `${point}: the stores are as before`);
  }

  await crashAt('image.tag.after-refs', () => d.docker(['tag', 'busybox', 'c-tag:1']));
  await assertConsistent();
  assert.equal(await dockerOk(['run', '--rm', 'c-tag:1', 'echo', 'tagged']), 'tagged\n', 'the tag was made');
  await dockerOk(['rmi', 'c-tag:1']);
  assert.deepEqual(snapshot(), before);
});
