// The build context as `docker build` sends it: an uncompressed tar of the directory, entries
// in lexical order, owned by 0:0, without what .dockerignore excludes (the Dockerfile and
// .dockerignore always go). A Dockerfile outside the context is added under a random name.
// Streamed: files are read as the daemon takes the bytes.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import ignore from '@balena/dockerignore';
import { TarWriter } from '../lib/tar/writer';

export interface PackedContext {
  stream: Readable;
  /** The `dockerfile` parameter: the Dockerfile's path inside the tar. */
  dockerfile: string;
}

function patternsOf(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export async function packContext(dir: string, dockerfile?: string): Promise<PackedContext> {
  const root = path.resolve(dir);
  const st = await fsp.stat(root).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`unable to prepare context: path "${dir}" not found`);
  const dfPath = dockerfile ? path.resolve(dockerfile) : path.join(root, 'Dockerfile');
  let dfName = path.relative(root, dfPath);
  const outside = dfName.startsWith('..') || path.isAbsolute(dfName);
  let outsideContent: Buffer | undefined;
  if (outside) {
    outsideContent = await fsp.readFile(dfPath);
    // Named after its content (docker picks a random name): the same Dockerfile gives the same
    // context, so `COPY .` stays cached.
    dfName = `.dockerfile.${createHash('sha256').update(outsideContent).digest('hex').slice(0, 20)}`;
  } else if (!fs.existsSync(dfPath)) {
    throw new Error(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dfPath}: no such file or directory`);
  }
  const patterns = patternsOf(await fsp.readFile(path.join(root, '.dockerignore'), 'utf8').catch(() => ''));
  const ig = patterns.length ? ignore().add(patterns) : undefined;
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  const keep = new Set(['.dockerignore', dfName.split(path.sep).join('/')]);
  // A Dockerfile from outside goes into the tar and into .dockerignore (as docker does): the
  // daemon reads it, then drops it, so `COPY .` does not copy it.
  const ignoreText = (old: string): Buffer => Buffer.from(`${old}${old === '' || old.endsWith('\n') ? '' : '\n'}${dfName}\n`);
  let sawIgnore = false;
  const ignored = (rel: string) => !!ig && !keep.has(rel) && ig.ignores(rel);

  const out = new TarWriter();
  void (async () => {
    const walk = async (relDir: string): Promise<void> => {
      const names = (await fsp.readdir(relDir === '' ? root : path.join(root, relDir))).sort();
      for (const n of names) {
        const rel = relDir === '' ? n : `${relDir}/${n}`;
        const p = path.join(root, rel);
        const s = await fsp.lstat(p);
        const base = { uid: 0, gid: 0, mode: s.mode & 0o7777, mtime: s.mtime };
        if (s.isDirectory()) {
          const skip = ignored(rel);
          // An excluded directory may still hold what a `!` pattern brings back.
          if (skip && !hasExceptions) continue;
          if (!skip) await out.add({ name: `${rel}/`, type: 'directory', ...base });
          await walk(rel);
          continue;
        }
        if (ignored(rel)) continue;
        if (rel === '.dockerignore' && outside && s.isFile()) {
          sawIgnore = true;
          const body = ignoreText(await fsp.readFile(p, 'utf8'));
          await out.add({ name: rel, type: 'file', size: body.length, ...base }, body);
          continue;
        }
        if (s.isFile()) await out.add({ name: rel, type: 'file', size: s.size, ...base }, fs.createReadStream(p));
        else if (s.isSymbolicLink()) await out.add({ name: rel, type: 'symlink', linkname: await fsp.readlink(p), ...base });
      }
    };
    await walk('');
    if (outside && !sawIgnore) {
      const body = ignoreText('');
      await out.add({ name: '.dockerignore', type: 'file', size: body.length, mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, body);
    }
    if (outsideContent) await out.add({ name: dfName, type: 'file', size: outsideContent.length, mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, outsideContent);
    await out.finish();
  })().catch((e) => out.destroy(e as Error));
  return { stream: out.stream, dockerfile: dfName.split(path.sep).join('/') };
}
