// `docker export`: the container's root filesystem (its image layers and writable layer, no
// volumes or daemon-mounted files, as Docker) as one tar, names relative to the root. A
// stopped container's layer is mounted for the export and unmounted after.
import type { Readable } from 'node:stream';
import { TarWriter } from '../../lib/tar/writer';
import { writeTree } from '../../lib/tar/tree';
import { openContainerFs, type FsContext } from './archive/view';
import { ownerMapsOf } from '../usernsRemap';

export async function exportContainer(ctx: FsContext, ref: string): Promise<Readable> {
  const c = ctx.store.get(ref);
  const fsv = await openContainerFs(ctx, c, { layer: true });
  const out = new TarWriter();
  void writeTree(out, fsv, { path: '/', name: '', follow: false, contents: true, mapOwner: ownerMapsOf(c, ctx.config?.remap)?.toContainer })
    // released before the stream ends: a client that has the whole archive finds the layer unmounted
    .then(async () => { await fsv.close(); await out.finish(); }, async (e: Error) => { await fsv.close(); out.destroy(e); })
    .catch((e: Error) => out.destroy(e));
  return out.stream;
}
