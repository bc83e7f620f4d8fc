// Crash-safe record writes: temp file in the same directory, fsync, rename, fsync dir.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { batchesAvailable, writeFileAtomically } from './sys/fsbatch';

/**
 * What a record write must survive. A crash of the process never tears a record at any level:
 * the rename is atomic, so readers see the old file or the new one. A power loss is another
 * matter, and each fsync buys one thing:
 *
 * - `full`: fsync the temp file, rename, fsync the directory. The file fsync makes the data
 *   durable before the name points at it (never an empty or torn record); the directory fsync
 *   makes the rename itself durable (the new record is there after the power comes back). For
 *   what the user was told exists: a created container, an image, a layer, a tag.
 * - `record`: fsync the temp file, rename, no directory fsync. Never an empty or torn file; a
 *   power loss may undo the rename and bring back the previous record. For state changes
 *   (start, exit, restart count): the start-up reconcile corrects a stale state from what
 *   really runs, and an old record is a whole one.
 * - `none`: rename only. The rename can reach the disk before the data, so a power loss may
 *   leave an empty file (ext4 without auto_da_alloc, xfs). Only for measuring what the fsyncs
 *   cost (BERTH_STATE_FSYNC=0, the bench).
 */
export type Durability = 'full' | 'record' | 'none';

// Temp names: this process's PID and a count (as npm's write-file-atomic), unique among the
// writers of one directory without a random draw per write.
let tmpSeq = 0;

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, durability: Durability = 'full'): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++tmpSeq}.tmp`);
  // open, write, fsync, close, rename and the directory's fsync in one pool job, not six
  if (batchesAvailable()) return writeFileAtomically(tmp, file, data, mode, { file: durability !== 'none', dir: durability === 'full' });
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    if (durability !== 'none') await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  if (durability === 'full') await fsyncDir(dir);
}

export async function writeJsonAtomic(file: string, value: unknown, mode = 0o600, durability: Durability = 'full'): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value), mode, durability);
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

/** A record that exists but cannot be used: not JSON (truncated, empty), or not the shape it must have. */
export class UnreadableRecordError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'UnreadableRecordError';
  }
}

/**
 * Reads a JSON record: undefined when the file does not exist, UnreadableRecordError when it
 * cannot be read, parsed, or fails `check` (which returns what is wrong, or undefined).
 */
export async function readRecord<T>(file: string, check?: (v: unknown) => string | undefined): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    return unreadRecord(file, e);
  }
  return parseRecord<T>(file, text, check);
}

/**
 * readRecord without the promise machinery: for reading every record at daemon start, where a
 * synchronous read costs a fraction of fs/promises' four thread-pool round trips.
 */
export function readRecordSync<T>(file: string, check?: (v: unknown) => string | undefined): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return unreadRecord(file, e);
  }
  return parseRecord<T>(file, text, check);
}

function unreadRecord(file: string, e: unknown): undefined {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw new UnreadableRecordError(file, (e as Error).message);
}

function parseRecord<T>(file: string, text: string, check?: (v: unknown) => string | undefined): T {
  if (text.length === 0) throw new UnreadableRecordError(file, 'empty file');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UnreadableRecordError(file, `not JSON (${(e as Error).message})`);
  }
  const wrong = check?.(value);
  if (wrong !== undefined) throw new UnreadableRecordError(file, wrong);
  return value as T;
}

const isStaleTemp = (n: string) => n.startsWith('.') && n.endsWith('.tmp');

/** Removes `.*.tmp` leftovers of writes interrupted by a crash. */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try { names = await fsp.readdir(dir); } catch { return; }
  await Promise.all(names.filter(isStaleTemp).map((n) => fsp.rm(path.join(dir, n), { force: true, recursive: true })));
}

/** removeStaleTemps for the daemon start's walk over every record (see readRecordSync). */
export function removeStaleTempsSync(dir: string): void {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names) if (isStaleTemp(n)) fs.rmSync(path.join(dir, n), { force: true, recursive: true });
}
