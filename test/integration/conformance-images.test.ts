// LocalImageStore (over LocalContentStore and LocalLayerStore) against the image store conformance suite.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalContentStore } from '../../src/store/content/ContentStore';
import { LocalLayerStore } from '../../src/store/layers/LayerStore';
import { LocalImageStore } from '../../src/store/images/ImageStore';
import { imageStoreConformance, ImageHarness } from '../helpers/conformance/images';

async function localHarness(): Promise<ImageHarness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-'));
  return {
    async open() {
      const content = new LocalContentStore(root);
      const layers = new LocalLayerStore(root, content);
      const images = new LocalImageStore(root, content, layers);
      await content.reconcile();
      await layers.reconcile();
      await images.reconcile();
      return { content, layers, images };
    },
    async cleanup() { fs.rmSync(root, { recursive: true, force: true }); },
  };
}

imageStoreConformance('LocalImageStore', localHarness);
