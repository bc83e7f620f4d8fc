import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { ImageService } from '../../src/engine/images/ImageService';
import { EventBus } from '../../src/engine/events/EventBus';
import { applyChanges } from '../../src/engine/images/changes';
import { imageInspectFor, imageSummaryFor } from '../../src/api/views/images';
import { sha256 } from '../../src/lib/digest';
import { collect, makeTar, readTar, rmRoot, streamOf, tempRoot } from './store-tarutil';

async function newService(root: string, events = new EventBus()): Promise<ImageService> {
  const s = new ImageService({ root, events });
  await s.reconcile();
  return s;
}

const rootfs = () => makeTar([
  { name: 'bin/', type: 'directory' },
  { name: 'bin/sh', body: 'shell', mode: 0o755 },
  { name: 'etc/hostname', body: 'x\n' },
]);

test('changes: Dockerfile instructions, JSON and shell forms', () => {
  const c = applyChanges({}, [
    'CMD ["sh"]', 'ENV A=b C="d e"', 'ENV LEGACY some value', 'WORKDIR /app', 'WORKDIR sub',
    'USER 1000:1000', 'LABEL x=1 "y z"=2', 'EXPOSE 80 53/udp 8000-8001', 'VOLUME ["/data"]', 'VOLUME /v1 /v2',
    'STOPSIGNAL SIGTERM', 'ENV P=$A/x', 'HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://x/',
  ]);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Env, ['A=b', 'C=d e', 'LEGACY=some value', 'P=b/x']);
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.Labels, { x: '1', 'y z': '2' });
  assert.deepEqual(Object.keys(c.ExposedPorts!).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(Object.keys(c.Volumes!).sort(), ['/data', '/v1', '/v2']);
  assert.equal(c.StopSignal, 'SIGTERM');
  assert.deepEqual(c.Healthcheck, { Interval: 5e9, Retries: 2, Test: ['CMD-SHELL', 'curl -f http://x/'] });
  const e = applyChanges({}, ['ENTRYPOINT /bin/run --x']);
  assert.deepEqual(e.Entrypoint, ['/bin/sh', '-c', '/bin/run --x']);
  assert.equal(e.Cmd, null);
  assert.throws(() => applyChanges({}, ['RUN echo']), /run is not a valid change command/);
});

test('images: import with changes, inspect, list, history, tag, events', async () => {
  const root = tempRoot();
  try {
    const events = new EventBus();
    const seen: string[] = [];
    events.subscribe((e) => seen.push(`${e.Action}:${e.Actor.Attributes.name}`));
    const svc = await newService(root, events);
    const t = await rootfs();
    const img = await svc.importImage(streamOf(t), { repo: 'tr-imported:1', changes: ['CMD ["sh"]', 'ENV A=b'], message: 'tr import' });
    assert.match(img.id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(img.id, sha256(await svc.content.readBlob(img.id)));
    assert.deepEqual(img.repoTags, ['tr-imported:1']);
    assert.deepEqual(img.config.rootfs.diff_ids, [sha256(t)]);
    assert.ok(img.topChainId);
    const ins = svc.inspect('tr-imported:1');
    assert.deepEqual((ins.Config as { Cmd: string[] }).Cmd, ['sh']);
    assert.deepEqual((ins.Config as { Env: string[] }).Env, ['A=b']);
    assert.equal(ins.Comment, 'tr import');
    assert.equal(ins.VirtualSize, undefined);
    assert.deepEqual(ins.RootFS, { Type: 'layers', Layers: [sha256(t)] });
    assert.equal((ins.GraphDriver as { Name: string }).Name, 'overlay2');
    assert.equal(svc.inspect(img.id.slice(7, 19)).Id, img.id);
    assert.equal(svc.inspect(img.id).Id, img.id);
    assert.equal(svc.inspect(img.id.slice(7)).Id, img.id);
    assert.throws(() => svc.inspect('tr-missing'), /^NotFoundError: no such image: tr-missing: No such image: tr-missing:latest$/);
    await assert.rejects(svc.resolve('nope'), /No such image: nope:latest/);
    // tag with a fully qualified repo, shown familiar
    await svc.tag('tr-imported:1', 'docker.io/library/tr-busybox', '1');
    const list = svc.list();
    assert.equal(list.length, 1);
    assert.deepEqual((list[0].RepoTags as string[]).sort(), ['tr-busybox:1', 'tr-imported:1']);
    assert.equal(list[0].Containers, -1);
    assert.equal(list[0].SharedSize, -1);
    assert.equal(list[0].VirtualSize, undefined);
    assert.equal(imageSummaryFor('1.41', list[0]).VirtualSize, list[0].Size);
    assert.equal(imageInspectFor('1.43', ins).VirtualSize, ins.Size);
    assert.equal(imageInspectFor('1.44', ins).VirtualSize, undefined);
    assert.equal(svc.list({ filters: new Map([['reference', ['tr-busybox']]]) }).length, 1);
    assert.deepEqual(svc.list({ filters: new Map([['reference', ['tr-busybox']]]) })[0].RepoTags, ['tr-busybox:1']);
    assert.equal(svc.list({ filters: new Map([['reference', ['other*']]]) }).length, 0);
    assert.equal(svc.list({ filters: new Map([['dangling', ['true']]]) }).length, 0);
    const hist = svc.history('tr-busybox:1');
    assert.equal(hist.length, 1);
    assert.equal(hist[0].Id, img.id);
    assert.equal(hist[0].Comment, 'tr import');
    assert.ok(seen.includes('tag:tr-imported:1'));
    assert.ok(seen.includes(`import:${img.id}`));
    assert.ok(seen.includes('tag:tr-busybox:1'));
    // records survive a restart
    const svc2 = await newService(root);
    assert.deepEqual((await svc2.resolve('tr-busybox:1')).id, img.id);
  } finally { rmRoot(root); }
});

test('images: rmi untag vs delete vs conflict', async () => {
  const root = tempRoot();
  try {
    const svc = await newService(root);
    const t = await rootfs();
    const a = await svc.importImage(streamOf(t), { repo: 'tr-a:1' });
    await svc.tag('tr-a:1', 'docker.io/library/tr-a', '2');
    // another image sharing the same layer
    const b = await svc.importImage(streamOf(t), { repo: 'tr-b', changes: ['CMD ["x"]'] });
    assert.notEqual(a.id, b.id);
    assert.equal(svc.layers.list().length, 1);
    // ID with several tags
    await assert.rejects(svc.remove(a.id.slice(7, 19)), new RegExp(`^ConflictError: conflict: unable to delete ${a.id.slice(7, 19)} \\(must be forced\\) - image is referenced in multiple repositories$`));
    // one of two tags: untag only
    assert.deepEqual(await svc.remove('tr-a:2'), [{ Untagged: 'tr-a:2' }]);
    // used by a container
    svc.setContainersUsingImage((id) => (id === a.id ? [{ id: 'ab'.repeat(32), running: false }] : []));
    await assert.rejects(svc.remove('tr-a:1'), new RegExp(`conflict: unable to remove repository reference "tr-a:1" \\(must force\\) - container abababababab is using its referenced image ${a.id.slice(7, 19)}`));
    svc.setContainersUsingImage(() => []);
    // last tag: untag + delete; the shared layer stays
    assert.deepEqual(await svc.remove('tr-a:1'), [{ Untagged: 'tr-a:1' }, { Deleted: a.id }]);
    assert.equal(svc.layers.list().length, 1);
    // last image using the layer: the layer goes too
    const layer = svc.layers.list()[0].chainId;
    assert.deepEqual(await svc.remove('tr-b'), [{ Untagged: 'tr-b:latest' }, { Deleted: b.id }, { Deleted: layer }]);
    assert.equal(svc.layers.list().length, 0);
    assert.equal(fs.readdirSync(path.join(root, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)).length, 0);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'blobs', 'sha256')), []);
    await assert.rejects(svc.remove('tr-missing:1'), /^NotFoundError: No such image: tr-missing:1$/);
    // force with a running container: untag only, image stays dangling
    const c = await svc.importImage(streamOf(t), { repo: 'tr-c:1' });
    svc.setContainersUsingImage((id) => (id === c.id ? ['cd'.repeat(32)] : []));
    assert.deepEqual(await svc.remove('tr-c:1', { force: true }), [{ Untagged: 'tr-c:1' }]);
    assert.deepEqual((await svc.resolve(c.id)).repoTags, []);
    assert.equal(svc.list({ filters: new Map([['dangling', ['true']]]) }).length, 1);
    // prune skips images in use; then removes them when free
    assert.deepEqual(await svc.prune(new Map([['dangling', ['true']]])), { ImagesDeleted: null, SpaceReclaimed: 0 });
    svc.setContainersUsingImage(() => []);
    const pr = await svc.prune(new Map([['dangling', ['true']]]));
    assert.equal(pr.ImagesDeleted![0].Deleted, c.id);
    assert.ok(pr.SpaceReclaimed > 0);
    // prune -a removes tagged unused images
    await svc.importImage(streamOf(t), { repo: 'tr-d:1' });
    assert.equal((await svc.prune(new Map([['dangling', ['true']]]))).ImagesDeleted, null);
    const all = await svc.prune(new Map([['dangling', ['false']]]));
    assert.equal(all.ImagesDeleted![0].Untagged, 'tr-d:1');
    assert.equal(svc.list().length, 0);
  } finally { rmRoot(root); }
});

async function tarEntries(r: Readable): Promise<Map<string, Buffer>> {
  const m = await readTar(await collect(r));
  return new Map([...m].map(([k, v]) => [k, v.body]));
}

test('images: save -> load round trip (legacy and OCI views)', async () => {
  const src = tempRoot();
  const dst = tempRoot();
  try {
    const svc = await newService(src);
    const t = await rootfs();
    const a = await svc.importImage(streamOf(t), { repo: 'tr-imported:1', changes: ['CMD ["sh"]'] });
    // a two-layer image via load of a hand-made legacy archive
    const l2 = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/.wh.hostname', body: '' }, { name: 'two', body: '2' }]);
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['two'] }, rootfs: { type: 'layers', diff_ids: [sha256(t), sha256(l2)] }, history: [{ created_by: 'a' }, { created_by: 'b' }] }));
    const legacy = await makeTar([
      { name: 'cfg.json', body: cfg },
      { name: 'l1/layer.tar', body: t },
      { name: 'l2/layer.tar', body: l2 },
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['tr-two:1'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]) },
    ]);
    const msgs: unknown[] = [];
    await svc.load(streamOf(legacy), { quiet: true, onMessage: (m) => msgs.push(m) });
    assert.deepEqual(msgs, [{ stream: 'Loaded image: tr-two:1\n' }]);
    const two = await svc.resolve('tr-two:1');
    assert.equal(two.chainIds.length, 2);
    assert.equal(svc.layers.list().length, 2); // first layer shared with tr-imported:1
    assert.equal(svc.history('tr-two:1').length, 2);
    assert.equal(svc.history('tr-two:1')[1].Id, '<missing>');

    const archive = await collect(svc.save(['tr-imported:1', 'tr-two:1']));
    const files = await tarEntries(Readable.from([archive]));
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    assert.equal(manifest.length, 2);
    assert.deepEqual(manifest[0].RepoTags, ['tr-imported:1']);
    for (const m of manifest) for (const l of m.Layers) assert.equal(sha256(files.get(l)!), `sha256:${path.basename(l)}`);
    assert.ok(files.has('index.json'));
    assert.ok(files.has('oci-layout'));
    const index = JSON.parse(files.get('index.json')!.toString());
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/tr-imported:1');
    assert.ok(files.has('repositories'));

    // load into a fresh daemon: legacy path (manifest.json present)
    const svc2 = await newService(dst);
    const out: unknown[] = [];
    await svc2.load(streamOf(archive), { quiet: false, onMessage: (m) => out.push(m) });
    assert.ok(out.some((m) => (m as { stream?: string }).stream === 'Loaded image: tr-imported:1\n'));
    assert.ok(out.some((m) => (m as { stream?: string }).stream === 'Loaded image: tr-two:1\n'));
    assert.ok(out.some((m) => (m as { status?: string }).status === 'Loading layer'));
    assert.equal((await svc2.resolve('tr-imported:1')).id, a.id);
    assert.equal((await svc2.resolve('tr-two:1')).id, two.id);
    const merged = svc2.layers.diffDir((await svc2.resolve('tr-two:1')).topChainId!);
    assert.ok(fs.lstatSync(path.join(merged, 'etc/hostname')).isCharacterDevice());

    // OCI-only view of the same archive (drop manifest.json and repositories), gzip-compressed
    const dst2 = tempRoot();
    try {
      const pack = tar.pack();
      const ociOnly = collect(pack);
      for (const [name, body] of files) {
        if (name === 'manifest.json' || name === 'repositories' || !name.startsWith('blobs/') && name !== 'index.json' && name !== 'oci-layout') continue;
        if (name.endsWith('/')) continue;
        await new Promise<void>((res, rej) => pack.entry({ name }, body, (e) => (e ? rej(e) : res())));
      }
      pack.finalize();
      const zlib = await import('node:zlib');
      const svc3 = await newService(dst2);
      const got: unknown[] = [];
      await svc3.load(streamOf(zlib.gzipSync(await ociOnly)), { quiet: true, onMessage: (m) => got.push(m) });
      assert.deepEqual(got, [{ stream: 'Loaded image: tr-imported:1\n' }, { stream: 'Loaded image: tr-two:1\n' }]);
      assert.equal((await svc3.resolve('tr-two:1')).id, two.id);
    } finally { rmRoot(dst2); }

    // untagged save by ID -> Loaded image ID
    const byId = await collect(svc.save([two.id.slice(7, 19)]));
    const dst3 = tempRoot();
    try {
      const svc4 = await newService(dst3);
      const got: unknown[] = [];
      await svc4.load(streamOf(byId), { quiet: true, onMessage: (m) => got.push(m) });
      assert.deepEqual(got, [{ stream: `Loaded image ID: ${two.id}\n` }]);
    } finally { rmRoot(dst3); }

    // a corrupted layer is refused and leaves nothing behind
    const bad = await makeTar([
      { name: 'cfg.json', body: cfg },
      { name: 'l1/layer.tar', body: t },
      { name: 'l2/layer.tar', body: await makeTar([{ name: 'other', body: 'x' }]) },
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['tr-bad:1'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]) },
    ]);
    const dst4 = tempRoot();
    try {
      const svc5 = await newService(dst4);
      await assert.rejects(svc5.load(streamOf(bad)), /diff ID mismatch/);
      await assert.rejects(svc5.resolve('tr-bad:1'), /No such image/);
      assert.deepEqual(fs.readdirSync(path.join(dst4, 'layers', 'tmp')), []);
      assert.deepEqual(fs.readdirSync(path.join(dst4, 'images', 'tmp')), []);
    } finally { rmRoot(dst4); }
    assert.throws(() => svc.save(['tr-missing:1']), /No such image: tr-missing:1/);
  } finally { rmRoot(src); rmRoot(dst); }
});
