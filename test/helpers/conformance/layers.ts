// The layer store's conformance suite: any LayerStore (over any ContentStore) passes it. The
// commit test makes a real overlay mount, so the suite runs as root.
import { describe } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContentStore } from '../../../src/store/content/types';
import type { LayerStore } from '../../../src/store/layers/types';
import { chainIdOf } from '../../../src/store/layers/chainid';
import { Digest, sha256 } from '../../../src/lib/digest';
import { gzip, makeTar, readTar, streamOf, TEntry } from '../../unit/store-tarutil';
import { allOk, collect, kind, harnessTest } from './util';
import { ChildCreatorArgs, killedLayerTar } from './layers-child';

export interface LayerStores {
  content: ContentStore;
  layers: LayerStore;
}

export interface LayerHarness {
  /** New store instances on the same state, reconciled: a daemon (re)start. */
  open(): Promise<LayerStores>;
  /** Starts a process that runs runChildCreator (./layers-child.ts) on this implementation's stores. */
  spawnCreator(args: ChildCreatorArgs): ChildProcess;
  /** Unmounts and removes everything the harness made. */
  cleanup(): Promise<void>;
}

export type LayerHarnessFactory = () => Promise<LayerHarness>;

const files = (prefix: string, n: number): TEntry[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}/f${i}`, body: `${prefix} ${i} `.repeat(50 + i) }));

export function layerStoreConformance(name: string, factory: LayerHarnessFactory): void {
  describe(`layer store conformance: ${name}`, () => {
    const withStores = harnessTest<LayerStores, LayerHarness>(factory);

    withStores('a layer from a tar stream: its diff ID, chain ID and exact tar, kept across a restart', async ({ layers }, h) => {
      const t = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/os-release', body: 'ID=test\n' }, ...files('usr', 20)]);
      const diffId = sha256(t);
      const base = await layers.createLayer(null, streamOf(gzip(t)), { expectDiffId: diffId });
      assert.equal(base.diffId, diffId);
      assert.equal(base.chainId, diffId);
      assert.equal(base.parent, null);
      assert.equal(base.tarSize, t.length);
      assert.ok(base.blob);
      assert.equal(sha256(await collect(await layers.exportLayer(base.chainId))), diffId);
      const t2 = await makeTar(files('opt', 3));
      const child = await layers.createLayer(base.chainId, streamOf(t2));
      assert.equal(child.chainId, chainIdOf(base.chainId, sha256(t2)));
      assert.deepEqual(layers.chain(child.chainId).map((l) => l.chainId), [base.chainId, child.chainId]);

      const again = await h.open();
      assert.deepEqual(again.layers.get(child.chainId), child);
      assert.deepEqual(again.layers.chain(child.chainId).map((l) => l.chainId), [base.chainId, child.chainId]);
      assert.equal(sha256(await collect(await again.layers.exportLayer(child.chainId))), sha256(t2));
      assert.equal(fs.readFileSync(path.join(again.layers.diffDir(base.chainId), 'etc/os-release'), 'utf8'), 'ID=test\n');
    });

    withStores('prepared layers: invisible until committed on a parent (verified first), a chain already there wins, discard leaves nothing', async ({ layers }, h) => {
      const t1 = await makeTar(files('p', 4));
      const t2 = await makeTar(files('q', 4));
      // the child is prepared first, its parent after: the order load meets them in
      const pc = await layers.prepareLayer(streamOf(gzip(t2)));
      const pb = await layers.prepareLayer(streamOf(t1));
      assert.equal(pb.diffId, sha256(t1));
      assert.equal(pc.diffId, sha256(t2));
      assert.ok(!layers.has(sha256(t1)), 'not visible before commit');
      const base = await pb.commit(null, { expectDiffId: sha256(t1) });
      const child = await pc.commit(base.chainId, { expectDiffId: sha256(t2) });
      assert.equal(child.chainId, chainIdOf(base.chainId, sha256(t2)));
      assert.equal(sha256(await collect(await layers.exportLayer(child.chainId))), sha256(t2));
      // the same content prepared again: its commit returns the stored layer
      const again = await layers.prepareLayer(streamOf(t1));
      assert.deepEqual(await again.commit(null), base);
      // a wrong expectation is refused and nothing is made
      const wrong = await layers.prepareLayer(streamOf(await makeTar(files('r', 2))));
      await assert.rejects(wrong.commit(null, { expectDiffId: sha256('other') }), kind('InvalidParameter'));
      assert.ok(!layers.has(wrong.diffId));
      const dropped = await layers.prepareLayer(streamOf(await makeTar(files('s', 2))));
      await dropped.discard();
      await dropped.discard();
      assert.ok(!layers.has(dropped.diffId));
      const reopened = await h.open();
      assert.ok(!reopened.layers.has(wrong.diffId) && !reopened.layers.has(dropped.diffId));
      assert.ok(reopened.layers.has(child.chainId));
    });

    withStores('a layer from a blob already in the content store, on its parent; the blob is kept as it is', async ({ content, layers }) => {
      const t1 = await makeTar(files('a', 10));
      const t2 = await makeTar([...files('b', 5), { name: 'a/.wh.f3', body: '' }]);
      const b1 = await content.writeBlob(gzip(t1));
      const b2 = await content.writeBlob(t2); // uncompressed blobs are layers too
      const l1 = await layers.createLayerFromBlob(b1.digest, null, { expectDiffId: sha256(t1) });
      const l2 = await layers.createLayerFromBlob(b2.digest, l1.chainId);
      assert.equal(l1.chainId, sha256(t1));
      assert.equal(l2.diffId, sha256(t2));
      assert.equal(l2.chainId, chainIdOf(l1.chainId, sha256(t2)));
      assert.equal(l2.parent, l1.chainId);
      assert.deepEqual({ digest: l1.blob?.digest, size: l1.blob?.size }, b1);
      assert.deepEqual({ digest: l2.blob?.digest, size: l2.blob?.size }, b2);
      assert.ok(fs.lstatSync(path.join(layers.diffDir(l2.chainId), 'a/f3')).isCharacterDevice(), 'whiteout in overlay form');
      assert.equal(sha256(await collect(await layers.exportLayer(l1.chainId))), sha256(t1));
      assert.equal(sha256(await collect(await layers.exportLayer(l2.chainId))), sha256(t2));
      await assert.rejects(layers.createLayerFromBlob(sha256('not stored'), null), kind('NotFound'));
      await assert.rejects(layers.createLayerFromBlob(b2.digest, null, { expectDiffId: sha256('other') }), kind('InvalidParameter'));
    });

    withStores('layers created at the same time, each naming its parent (a parallel pull)', async ({ content, layers }) => {
      const tars = await Promise.all([0, 1, 2, 3].map((i) => makeTar(files(`l${i}`, 30))));
      const blobs = await allOk(tars.map((t, i) => content.writeBlob(i % 2 ? t : gzip(t))));
      const diffIds = tars.map((t) => sha256(t));
      const chain: Digest[] = [];
      diffIds.forEach((d, i) => chain.push(chainIdOf(i ? chain[i - 1] : null, d)));
      // started in one turn, top layers before their parents exist
      const made = await allOk(blobs.map((b, i) =>
        layers.createLayerFromBlob(b.digest, i ? chain[i - 1] : null, { expectDiffId: diffIds[i] })));
      assert.deepEqual(made.map((m) => m.chainId), chain);
      assert.deepEqual(layers.chain(chain[3]).map((l) => l.diffId), diffIds);
      for (let i = 0; i < 4; i++) assert.ok(fs.existsSync(path.join(layers.diffDir(chain[i]), `l${i}/f29`)));

      // a child whose parent fails fails too, and neither becomes visible
      const bad = await makeTar(files('bad', 5));
      const kid = await makeTar(files('kid', 5));
      const [bb, kb] = await allOk([content.writeBlob(bad), content.writeBlob(kid)]);
      const wrongDiffId = sha256('what the config promised');
      const badChain = chainIdOf(chain[3], wrongDiffId);
      const results = await Promise.allSettled([
        layers.createLayerFromBlob(bb.digest, chain[3], { expectDiffId: wrongDiffId }),
        layers.createLayerFromBlob(kb.digest, badChain, { expectDiffId: sha256(kid) }),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      assert.ok(kind('InvalidParameter')((results[0] as PromiseRejectedResult).reason));
      assert.ok(kind('NotFound')((results[1] as PromiseRejectedResult).reason));
      assert.equal(layers.list().length, 4);
      await assert.rejects(layers.createLayer(sha256('no such parent'), streamOf(kid)), kind('NotFound'));
    });

    withStores('nothing partial is visible: a broken stream, a wrong diff ID or blob digest, an unsafe tar', async ({ content, layers }) => {
      const t = await makeTar(files('x', 40));
      const gz = gzip(t);
      const broken = streamOf(gz.subarray(0, Math.floor(gz.length / 2)));
      await assert.rejects(layers.createLayer(null, broken));
      await assert.rejects(layers.createLayer(null, streamOf(t), { expectDiffId: sha256('nope') }), kind('InvalidParameter'));
      await assert.rejects(layers.createLayer(null, streamOf(gz), { expectBlob: { digest: sha256('nope') } }), kind('InvalidParameter'));
      await assert.rejects(layers.createLayer(null, streamOf(await makeTar([{ name: '../escape', body: 'x' }]))), kind('InvalidParameter'));
      assert.deepEqual(layers.list(), []);
      assert.deepEqual(await content.list(), [], 'no blob of a failed layer is left');
    });

    withStores('concurrent creators of one layer get one record', async ({ content, layers }) => {
      const t = await makeTar(files('same', 60));
      const b = await content.writeBlob(gzip(t));
      const all = await allOk([
        layers.createLayer(null, streamOf(t)),
        layers.createLayer(null, streamOf(gzip(t)), { expectDiffId: sha256(t) }),
        layers.createLayer(null, streamOf(t), { expectDiffId: sha256(t) }),
        layers.createLayerFromBlob(b.digest, null, { expectDiffId: sha256(t) }),
        layers.createLayerFromBlob(b.digest, null),
      ]);
      assert.equal(new Set(all.map((m) => m.chainId)).size, 1);
      assert.equal(layers.list().length, 1);
      assert.equal(fs.readdirSync(path.join(layers.diffDir(all[0].chainId), 'same')).length, 60);
      // pinned once per caller: removable only after as many unpins
      assert.deepEqual(await layers.removeUnused([all[0].chainId], new Set()), []);
      for (let i = 0; i < all.length; i++) layers.unpin([all[i].chainId]);
      assert.equal((await layers.removeUnused([all[0].chainId], new Set())).length, 1);
      assert.deepEqual(layers.list(), []);
    });

    withStores("committing a container's writable layer: its changes, whiteouts and opaque dirs become a layer", async ({ layers }) => {
      const base = await layers.createLayer(null, streamOf(await makeTar([
        { name: 'keep', body: 'unchanged' },
        { name: 'edit', body: 'before' },
        { name: 'gone', body: 'deleted in the container' },
        { name: 'dir/', type: 'directory' },
        { name: 'dir/old1', body: '1' },
        { name: 'dir/old2', body: '2' },
      ])));
      const id = 'commit' + '0'.repeat(58);
      const id2 = 'check' + '0'.repeat(59);
      try {
        await layers.createMount(id, base.chainId);
        const merged = await layers.mount(id);
        fs.writeFileSync(path.join(merged, 'new'), 'written in the container');
        fs.writeFileSync(path.join(merged, 'edit'), 'after');
        fs.rmSync(path.join(merged, 'gone'));
        fs.rmSync(path.join(merged, 'dir'), { recursive: true });
        fs.mkdirSync(path.join(merged, 'dir'));
        fs.writeFileSync(path.join(merged, 'dir/fresh'), 'f');

        const layer = await layers.commitMount(id);
        assert.equal(layer.parent, base.chainId);
        const tarBytes = await collect(await layers.exportLayer(layer.chainId));
        assert.equal(layer.diffId, sha256(tarBytes));
        assert.equal(layer.chainId, chainIdOf(base.chainId, layer.diffId));
        assert.equal(layer.tarSize, tarBytes.length);
        assert.ok(layer.blob);
        const entries = await readTar(tarBytes);
        assert.equal(entries.get('new')?.body.toString(), 'written in the container');
        assert.equal(entries.get('edit')?.body.toString(), 'after');
        assert.ok(entries.has('.wh.gone'), 'a deleted file is a whiteout');
        assert.ok(entries.has('dir/.wh..wh..opq'), 'a recreated dir is opaque');
        assert.equal(entries.get('dir/fresh')?.body.toString(), 'f');
        assert.ok(!entries.has('keep') && !entries.has('dir/old1'), 'unchanged files are not in the diff');

        // a container on the committed layer sees what the first one left
        await layers.createMount(id2, layer.chainId);
        const view = await layers.mount(id2);
        assert.deepEqual(fs.readdirSync(view).sort(), ['dir', 'edit', 'keep', 'new']);
        assert.deepEqual(fs.readdirSync(path.join(view, 'dir')), ['fresh']);
        assert.equal(fs.readFileSync(path.join(view, 'edit'), 'utf8'), 'after');
        await assert.rejects(layers.commitMount('no-such-mount'), kind('NotFound'));
      } finally {
        await layers.removeMount(id2);
        await layers.removeMount(id);
      }
      assert.deepEqual(await layers.listMounts(), []);
    });

    withStores('kill -9 mid-extraction: after a restart no layer and no blob of it exist, and it can be made again', async (_s, h) => {
      const files = 400;
      const child = h.spawnCreator({ files, reportAfter: 1024 * 1024 });
      try {
        await new Promise<void>((resolve, reject) => {
          let out = '';
          child.stdout!.on('data', (b: Buffer) => {
            out += b.toString();
            if (/extracting \d+\n/.test(out)) resolve();
          });
          child.on('exit', (code) => reject(new Error(`creator exited (${code}) before extracting: ${out}`)));
          child.on('error', reject);
        });
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      const { content, layers } = await h.open();
      const tar = await killedLayerTar(files);
      assert.deepEqual(layers.list(), []);
      assert.equal(layers.has(sha256(tar)), false);
      assert.deepEqual(await content.list(), []);
      const m = await layers.createLayer(null, streamOf(tar), { expectDiffId: sha256(tar) });
      assert.equal(m.chainId, sha256(tar));
      assert.equal(fs.readdirSync(path.join(layers.diffDir(m.chainId), 'big')).length, files);
    });
  });
}
