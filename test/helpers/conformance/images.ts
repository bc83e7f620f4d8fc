// The image store's conformance suite: any ImageStore (over any content and layer store)
// passes it.
import { describe } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ContentStore } from '../../../src/store/content/types';
import type { LayerStore } from '../../../src/store/layers/types';
import type { ImageStore } from '../../../src/store/images/types';
import { chainIdsOf } from '../../../src/store/layers/chainid';
import { Digest, sha256 } from '../../../src/lib/digest';
import { normalizedString, parseNormalizedNamed } from '../../../src/lib/reference';
import { makeTar, streamOf } from '../../unit/store-tarutil';
import { allOk, kind, harnessTest } from './util';

export interface ImageStores {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
}

export interface ImageHarness {
  /** New store instances on the same state, reconciled: a daemon (re)start. */
  open(): Promise<ImageStores>;
  cleanup(): Promise<void>;
}

export type ImageHarnessFactory = () => Promise<ImageHarness>;

function config(diffIds: Digest[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z',
    config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds }, ...extra,
  }));
}

/** Two stacked layers; returns their diff IDs (bottom first). */
async function twoLayers(layers: LayerStore): Promise<Digest[]> {
  const t1 = await makeTar([{ name: 'bin/sh', body: 'shell' }]);
  const t2 = await makeTar([{ name: 'etc/motd', body: 'hi' }]);
  const l1 = await layers.createLayer(null, streamOf(t1));
  const l2 = await layers.createLayer(l1.chainId, streamOf(t2));
  return [l1.diffId, l2.diffId];
}

export function imageStoreConformance(name: string, factory: ImageHarnessFactory): void {
  describe(`image store conformance: ${name}`, () => {
    const withStores = harnessTest<ImageStores, ImageHarness>(factory);

    withStores('an image is its config digest over existing layers; the record survives a restart', async ({ content, layers, images }, h) => {
      const diffIds = await twoLayers(layers);
      const cfg = config(diffIds);
      const img = await images.add(cfg);
      assert.equal(img.id, sha256(cfg));
      assert.deepEqual(img.chainIds, chainIdsOf(diffIds));
      assert.equal(img.topChainId, img.chainIds[1]);
      assert.equal(img.configSize, cfg.length);
      assert.deepEqual(img.config.rootfs.diff_ids, diffIds);
      assert.ok((await content.readBlob(img.id)).equals(cfg), 'the config is in the content store');
      assert.equal(images.has(img.id), true);
      assert.deepEqual(images.get(img.id), img);
      assert.deepEqual(images.list().map((i) => i.id), [img.id]);
      assert.deepEqual(await images.add(cfg), img, 'adding again returns the same record');
      const child = await images.add(config(diffIds, { comment: 'child' }), { parent: img.id });
      assert.equal(child.parent, img.id);
      assert.deepEqual(images.children(img.id), [child.id]);

      const again = await h.open();
      assert.deepEqual(again.images.get(img.id)?.chainIds, img.chainIds);
      assert.deepEqual(again.images.list().map((i) => i.id).sort(), [img.id, child.id].sort());
      assert.deepEqual(again.images.children(img.id), [child.id]);
    });

    withStores('what is not an image, or misses a layer, is refused and leaves nothing', async ({ layers, images }) => {
      await assert.rejects(images.add(Buffer.from('not json')), kind('InvalidParameter'));
      await assert.rejects(images.add(Buffer.from('{"architecture":"amd64","os":"linux"}')), kind('InvalidParameter'));
      await assert.rejects(images.add(config(['sha256:nothex' as Digest])), kind('InvalidParameter'));
      await assert.rejects(images.add(config([sha256('no such layer')])), kind('NotFound'));
      const diffIds = await twoLayers(layers);
      await assert.rejects(images.add(config([diffIds[1]])), kind('NotFound'), 'a layer on the wrong parent is another chain');
      assert.deepEqual(images.list(), []);
    });

    withStores('references: set, move, resolve in every form, remove; kept across a restart', async ({ layers, images }, h) => {
      const diffIds = await twoLayers(layers);
      const a = await images.add(config(diffIds));
      const b = await images.add(config(diffIds, { comment: 'b' }));
      assert.equal(await images.setRef('tr-app:1', a.id), undefined);
      assert.equal(await images.setRef('docker.io/library/tr-app:latest', a.id), undefined);
      assert.equal(await images.setRef(parseNormalizedNamed('example.com/team/tr-app:2'), b.id), undefined);
      assert.equal(await images.setRef('tr-app:1', b.id), a.id, 'moving a tag returns its old image');
      await assert.rejects(images.setRef('tr-app:3', sha256('no such image')), kind('NotFound'));
      assert.deepEqual(images.get(b.id)?.repoTags.sort(), ['example.com/team/tr-app:2', 'tr-app:1']);
      assert.deepEqual(images.get(a.id)?.repoTags, ['tr-app:latest']);
      assert.equal(images.refTarget(parseNormalizedNamed('tr-app:1')), b.id);
      assert.deepEqual(images.refsOf(a.id).map((r) => normalizedString(r)), ['docker.io/library/tr-app:latest']);

      assert.equal(images.resolve('tr-app').id, a.id);
      assert.equal(images.resolve('tr-app:1').id, b.id);
      assert.equal(images.resolve(a.id).id, a.id);
      assert.equal(images.resolve(a.id.slice(7)).id, a.id);
      assert.equal(images.resolve(b.id.slice(7, 19)).id, b.id);
      assert.equal(images.resolveId('tr-app:9'), undefined);
      assert.throws(() => images.resolve('tr-missing'), (e: unknown) => kind('NotFound')(e) && /No such image: tr-missing:latest/.test(String(e)));
      assert.equal(images.isIdReference(a.id.slice(7, 19), a.id), true);
      assert.equal(images.isIdReference('tr-app:1', b.id), false);

      const again = await h.open();
      assert.equal(again.images.resolve('tr-app:1').id, b.id);
      assert.equal(again.images.resolve('example.com/team/tr-app:2').id, b.id);
      assert.equal(await again.images.removeRef('tr-app:1'), b.id);
      assert.equal(await again.images.removeRef('tr-app:1'), undefined);
      assert.equal(again.images.resolveId('tr-app:1'), undefined);
      await again.images.delete(b.id);
      assert.equal(again.images.has(b.id), false);
      assert.equal(again.images.resolveId('example.com/team/tr-app:2'), undefined, 'deleting an image drops its refs');
      const third = await h.open();
      assert.deepEqual(third.images.list().map((i) => i.id), [a.id]);
      assert.equal(third.images.resolve('tr-app').id, a.id);
    });

    withStores('concurrent adds and tags: one record per config, every tag kept', async ({ layers, images }, h) => {
      const diffIds = await twoLayers(layers);
      const cfg = config(diffIds);
      const added = await allOk(Array.from({ length: 5 }, () => images.add(cfg)));
      assert.equal(new Set(added.map((i) => i.id)).size, 1);
      assert.equal(images.list().length, 1);
      await allOk(Array.from({ length: 8 }, (_, i) => images.setRef(`tr-many:${i}`, added[0].id)));
      const again = await h.open();
      assert.equal(again.images.get(added[0].id)?.repoTags.length, 8);
    });

    withStores('reconcile drops an image whose layers are gone, with its references', async ({ layers, images }, h) => {
      const diffIds = await twoLayers(layers);
      const img = await images.add(config(diffIds));
      await images.setRef('tr-orphan:1', img.id);
      layers.unpin(img.chainIds);
      assert.equal((await layers.removeUnused(img.chainIds, new Set())).length, 2);
      const again = await h.open();
      assert.equal(again.images.has(img.id), false);
      assert.equal(again.images.resolveId('tr-orphan:1'), undefined);
    });
  });
}
