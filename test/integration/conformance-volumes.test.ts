// LocalVolumeStore against the volume store conformance suite.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalVolumeStore } from '../../src/engine/volumes/LocalVolumeStore';
import { volumeStoreConformance, type VolumeHarness } from '../helpers/conformance/volumes';

async function localHarness(): Promise<VolumeHarness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-volumes-'));
  const dir = path.join(root, 'volumes');
  return {
    async open() {
      const s = new LocalVolumeStore(root);
      await s.reconcile();
      return s;
    },
    // The states LocalVolumeStore's own steps pass through (its crash points name them).
    async crashDuringCreate(name) {
      const staging = path.join(dir, `.${name}.0123456789ab.creating`);
      fs.mkdirSync(path.join(staging, '_data'), { recursive: true });
      fs.writeFileSync(path.join(staging, 'volume.json'), JSON.stringify({ Name: name, Driver: 'local' }));
    },
    async crashDuringRemove(_s, name) {
      fs.renameSync(path.join(dir, name), path.join(dir, `.${name}.0123456789ab.removing`));
    },
    async cleanup() { fs.rmSync(root, { recursive: true, force: true }); },
  };
}

volumeStoreConformance('LocalVolumeStore', localHarness);
