// The build context: the request body's tar (plain or compressed) extracted into a private
// directory under <data-root>/builder/tmp/ by the layer store's safe extractor (paths never
// leave it), streamed, then the .dockerignore rules applied as Docker's daemon does (the
// Dockerfile and .dockerignore themselves always stay).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import ignore from '@balena/dockerignore';
import { decompressed } from '../../store/layers/compression';
import { extractTar } from '../../store/layers/extract';

export interface BuildContext {
  dir: string;
  /** The .dockerignore matcher (also used to skip sources in COPY). */
  ignores(rel: string): boolean;
}

/** Reads .dockerignore text into Docker's patterns (comments and blank lines dropped). */
export function ignorePatterns(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export function ignoreMatcher(patterns: string[]): (rel: string) => boolean {
  if (!patterns.length) return () => false;
  const ig = ignore().add(patterns);
  return (rel) => rel !== '' && ig.ignores(rel);
}

/** Removes what the rules exclude; a directory goes when it is excluded and nothing in it was kept. */
async function prune(dir: string, rel: string, ignores: (rel: string) => boolean, keep: Set<string>): Promise<boolean> {
  const ents = await fsp.readdir(rel === '' ? dir : path.join(dir, rel), { withFileTypes: true });
  let kept = 0;
  for (const e of ents) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (await prune(dir, r, ignores, keep)) kept++;
      continue;
    }
    if (!keep.has(r) && ignores(r)) await fsp.rm(path.join(dir, r), { force: true });
    else kept++;
  }
  if (rel !== '' && kept === 0 && ignores(rel)) {
    await fsp.rmdir(path.join(dir, rel)).catch(() => undefined);
    return false;
  }
  return true;
}

export async function receiveContext(body: Readable, dir: string, dockerfileName: string): Promise<BuildContext> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const { stream } = await decompressed(body);
  await extractTar(stream, dir);
  const text = await fsp.readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
  const ignores = ignoreMatcher(ignorePatterns(text));
  await prune(dir, '', ignores, new Set(['.dockerignore', dockerfileName.replace(/^\.?\/+/, '')]));
  return { dir, ignores };
}
