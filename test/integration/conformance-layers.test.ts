// LocalLayerStore (over LocalContentStore) against the layer store conformance suite.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalContentStore } from '../../src/store/content/ContentStore';
import { LocalLayerStore } from '../../src/store/layers/LayerStore';
import { parseMountInfo } from '../../src/store/layers/mounts';
import { MNT_DETACH, unmount } from '../../src/lib/sys/mount';
import { layerStoreConformance, LayerHarness } from '../helpers/conformance/layers';

const CHILD = path.join(__dirname, '../helpers/conformance/local-layers-child.js');

async function localHarness(): Promise<LayerHarness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-layers-'));
  return {
    async open() {
      const content = new LocalContentStore(root);
      const layers = new LocalLayerStore(root, content);
      await content.reconcile();
      await layers.reconcile();
      return { content, layers };
    },
    spawnCreator(args) {
      return spawn(process.execPath, [CHILD, root, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    },
    async cleanup() {
      // a failed test may leave overlays mounted: never rm -rf through one
      const mounts = parseMountInfo(await fsp.readFile('/proc/self/mountinfo', 'utf8'));
      for (const m of mounts.reverse()) if (m.mountPoint.startsWith(root + '/')) unmount(m.mountPoint, MNT_DETACH);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

layerStoreConformance('LocalLayerStore', localHarness);
