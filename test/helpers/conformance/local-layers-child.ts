// Child process entry of the kill -9 test for LocalLayerStore: argv = data root, JSON args.
import { LocalContentStore } from '../../../src/store/content/ContentStore';
import { LocalLayerStore } from '../../../src/store/layers/LayerStore';
import { runChildCreator } from './layers-child';

const [root, json] = process.argv.slice(2);
const content = new LocalContentStore(root);
const layers = new LocalLayerStore(root, content);
content.init().then(() => layers.init()).then(() => runChildCreator(layers, JSON.parse(json))).catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
