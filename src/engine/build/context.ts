// The build context: the request body's tar (plain or compressed) extracted into a private
// directory under <data-root>/builder/tmp/ by the layer store's safe extractor (paths never
// leave it), streamed; the Dockerfile is read, then the .dockerignore rules applied as Docker's
// daemon does (an excluded Dockerfile or .dockerignore goes too, after it was read: that is how
// the CLI keeps a Dockerfile from outside the context out of `COPY .`).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import ignore from '@balena/dockerignore';
import { decompressed } from '../../store/layers/compression';
import { extractTar } from '../../store/layers/extract';
import { InvalidParameterError } from '../../lib/errors';
import { InRoot } from '../../lib/sys/inroot';

export interface BuildContext {
  dir: string;
  dockerfile: string;
  /** The .dockerignore matcher. */
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
async function prune(dir: string, rel: string, ignores: (rel: string) => boolean): Promise<boolean> {
  const ents = await fsp.readdir(rel === '' ? dir : path.join(dir, rel), { withFileTypes: true });
  let kept = 0;
  for (const e of ents) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (await prune(dir, r, ignores)) kept++;
      continue;
    }
    if (ignores(r)) await fsp.rm(path.join(dir, r), { force: true });
    else kept++;
  }
  if (rel !== '' && kept === 0 && ignores(rel)) {
    await fsp.rmdir(path.join(dir, rel)).catch(() => undefined);
    return false;
  }
  return true;
}

/** The Dockerfile's text, read inside the context (`Dockerfile` also finds `dockerfile`). */
async function readDockerfile(dir: string, name: string): Promise<string> {
  try {
    return await InRoot.with(dir, async (root) => {
      const p = (await root.exists(name)) ? name : name === 'Dockerfile' && (await root.exists('dockerfile')) ? 'dockerfile' : name;
      return (await root.readFile(p, { maxBytes: 16 << 20 })).toString('utf8');
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${name}`);
    throw e;
  }
}

/**
 * The CLI appends the name of a Dockerfile from outside the context (`.dockerfile.<random>`)
 * to .dockerignore; that line is taken out again once applied, so the context the steps see
 * (and their cache keys) does not change with the random name. A .dockerignore that held only
 * that line was the CLI's own and goes.
 */
async function dropDockerfileLine(dir: string, text: string): Promise<void> {
  const lines = text.split('\n');
  const kept = lines.filter((l) => !/^\.dockerfile\.[0-9a-f]{20}\r?$/.test(l));
  if (kept.length === lines.length) return;
  const file = path.join(dir, '.dockerignore');
  const rest = kept.join('\n');
  if (rest.trim() === '') await fsp.rm(file, { force: true });
  else await fsp.writeFile(file, rest);
}

export async function receiveContext(body: Readable, dir: string, dockerfileName: string): Promise<BuildContext> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const { stream } = await decompressed(body);
  await extractTar(stream, dir);
  const dockerfile = await readDockerfile(dir, dockerfileName);
  const text = await fsp.readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
  const ignores = ignoreMatcher(ignorePatterns(text));
  await prune(dir, '', ignores);
  await dropDockerfileLine(dir, text);
  return { dir, dockerfile, ignores };
}
