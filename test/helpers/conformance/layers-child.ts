// The creating side of the layer store's kill -9 test, run in a child process: it feeds a
// layer's tar in slowly, prints `extracting <bytes>` once part of it is in, and never finishes.
import { Readable } from 'node:stream';
import type { LayerStore } from '../../../src/store/layers/types';
import { makeTar, TEntry } from '../../unit/store-tarutil';

export interface ChildCreatorArgs {
  files: number;
  reportAfter: number;
}

/** The tar the child extracts (deterministic: the parent builds the same one). */
export function killedLayerTar(files: number): Promise<Buffer> {
  const entries: TEntry[] = Array.from({ length: files }, (_, i) => ({ name: `big/f${i}`, body: `${i} `.repeat(5000) }));
  return makeTar(entries);
}

export async function runChildCreator(layers: LayerStore, args: ChildCreatorArgs): Promise<never> {
  const tar = await killedLayerTar(args.files);
  let reported = false;
  const chunk = 64 * 1024;
  // All but the last chunk: the child must die mid-extraction, whatever the timing.
  const src = Readable.from((async function* () {
    for (let off = 0; off + chunk < tar.length; off += chunk) {
      yield tar.subarray(off, off + chunk);
      if (reported) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise(() => { setInterval(() => undefined, 1000); });
  })());
  await layers.createLayer(null, src, {
    onProgress: (n) => {
      if (!reported && n >= args.reportAfter) {
        reported = true;
        process.stdout.write(`extracting ${n}\n`);
      }
    },
  });
  throw new Error('the layer was created: the source was meant never to end');
}
