// Hand-made image archives for docker load: layer tars and a docker-save (legacy layout)
// archive of several images, each layer stored once by diff ID.
import { createHash } from 'node:crypto';
import * as tar from 'tar-stream';

export const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function packTar(entries: Array<{ name: string; data?: Buffer; type?: 'file' | 'directory' | 'symlink'; linkname?: string }>): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => { p.on('end', () => resolve(Buffer.concat(chunks))); p.on('error', reject); });
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: e.name, type: 'directory', mode: 0o755, mtime: new Date(0) });
    else if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname, mode: 0o777, mtime: new Date(0) });
    else p.entry({ name: e.name, mode: 0o644, mtime: new Date(0) }, e.data ?? Buffer.alloc(0));
  }
  p.finalize();
  return done;
}

export interface ArchiveImage {
  tag: string;
  /** Uncompressed layer tars, bottom first. */
  layers: Buffer[];
  labels?: Record<string, string>;
  created: string;
  history: Array<{ created_by: string; empty_layer?: boolean }>;
}

/** A docker-save archive of `images`; returns it and each tag's image ID (config digest). */
export async function saveArchive(images: ArchiveImage[]): Promise<{ tar: Buffer; ids: Record<string, string> }> {
  const entries: Array<{ name: string; data: Buffer }> = [];
  const seen = new Set<string>();
  const manifest: unknown[] = [];
  const ids: Record<string, string> = {};
  for (const img of images) {
    const diffIds = img.layers.map(sha);
    for (let i = 0; i < img.layers.length; i++) {
      const hex = diffIds[i].slice(7);
      if (!seen.has(hex)) { entries.push({ name: `${hex}/layer.tar`, data: img.layers[i] }); seen.add(hex); }
    }
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: img.created,
      config: { Cmd: ['sh'], Labels: img.labels ?? null },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: img.history.map((h) => ({ created: img.created, ...h })),
    }));
    const id = sha(config);
    ids[img.tag] = id;
    entries.push({ name: `${id.slice(7)}.json`, data: config });
    manifest.push({ Config: `${id.slice(7)}.json`, RepoTags: [img.tag], Layers: diffIds.map((x) => `${x.slice(7)}/layer.tar`) });
  }
  entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) });
  return { tar: await packTar(entries), ids };
}
