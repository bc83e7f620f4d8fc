// Child process entry of the kill -9 test for LocalContentStore: argv = data root, JSON args.
import { LocalContentStore } from '../../../src/store/content/ContentStore';
import { runChildWriter } from './content-child';

const [root, json] = process.argv.slice(2);
const cs = new LocalContentStore(root);
cs.init().then(() => runChildWriter(cs, JSON.parse(json))).catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
