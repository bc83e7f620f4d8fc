// Crash-safe record writes: temp file in the same directory, fsync, rename, fsync dir.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * `durable: false` skips the fsyncs: the rename is still atomic, so a crash of the process
 * never leaves a torn record; only a power loss may roll the record back to its last version.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, durable = true): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dir);
}

export async function writeJsonAtomic(file: string, value: unknown, mode = 0o600, durable = true): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value), mode, durable);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try { await fh.sync(); } finally { await fh.close(); }
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
}

/** Reads a JSON file, or returns undefined when it does not exist. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return await readJson<T>(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Removes `.*.tmp` leftovers of writes interrupted by a crash. */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try { names = await fsp.readdir(dir); } catch { return; }
  await Promise.all(names.filter((n) => n.startsWith('.') && n.endsWith('.tmp'))
    .map((n) => fsp.rm(path.join(dir, n), { force: true, recursive: true })));
}
