// LocalNetworkStore against the network store conformance suite.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalNetworkStore } from '../../src/store/networks/LocalNetworkStore';
import { networkStoreConformance, type NetworkHarness } from '../helpers/conformance/networks';

networkStoreConformance('LocalNetworkStore', async (): Promise<NetworkHarness> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  return {
    async open() { return new LocalNetworkStore(root); },
    async tear(kind, id) {
      const dir = kind === 'network' ? path.join(root, 'networks') : path.join(root, 'networks', 'endpoints');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${id}.json`), '{"Id": "trunc');
    },
    async cleanup() { fs.rmSync(root, { recursive: true, force: true }); },
  };
});
