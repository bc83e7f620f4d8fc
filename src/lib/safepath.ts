// Resolves a path inside a root as if the root were `/`: symlinks are followed but can
// never lead outside it (the class of CVEs where a container's /etc/passwd -> /host/file).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from './errors';

const MAX_LINKS = 40;

export async function resolveInRoot(root: string, p: string): Promise<string> {
  const pending = p.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const candidate = path.join(root, ...done, part);
    let target: string | undefined;
    try {
      const st = await fsp.lstat(candidate);
      if (st.isSymbolicLink()) target = await fsp.readlink(candidate);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (target === undefined) { done.push(part); continue; }
    if (++links > MAX_LINKS) throw new InvalidParameterError(`too many levels of symbolic links: ${p}`);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return path.join(root, ...done);
}

/** Reads a file inside a root, or returns undefined when it does not exist. */
export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(await resolveInRoot(root, p), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw e;
  }
}
