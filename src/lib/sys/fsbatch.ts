// Small filesystem calls in batches, one libuv pool job per batch (native/fsbatch.c). A
// container's removal is some forty unlinks, rmdirs and reads: through node:fs each is a pool
// round trip, a promise and, on a busy machine, a pool thread's wake-up that preempts the event
// loop; rm's recursive walk adds an lstat per entry. Relative paths are resolved here, against
// the cwd of the call (the pool job must not depend on it).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { loadNative } from './native';

/** rm -rf of each path (a missing one is fine, symlinks are removed, never followed). */
export async function removeTrees(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  try {
    await loadNative().removeTreesAsync(paths.map((p) => path.resolve(p)));
  } catch {
    // what the batch could not remove (too deep, an odd file type), node:fs tries once more and reports
    await Promise.all(paths.map((p) => fsp.rm(p, { recursive: true, force: true })));
  }
}

/** rmdir of each path: true for each that is gone (removed, or not there). */
export async function rmdirs(paths: readonly string[]): Promise<boolean[]> {
  if (paths.length === 0) return [];
  const ENOENT = 2;
  return (await loadNative().rmdirsAsync(paths.map((p) => path.resolve(p)))).map((e) => e === 0 || e === ENOENT);
}

/**
 * Unmounts `target` (umount2 with `flags`) holding a handle to it across the call, so that the
 * last reference and the filesystem's teardown are dropped on the pool thread, not in the
 * event loop. false: nothing is there, or nothing is mounted there.
 */
export function unmountHeld(target: string, flags: number): Promise<boolean> {
  return loadNative().unmountHeldAsync(path.resolve(target), flags);
}

export interface SmallFile { text: string; mtimeMs: number }

/** Each file's first `maxBytes` (UTF-8) and mtime; undefined where the file is missing. */
export async function readSmallFiles(paths: readonly string[], maxBytes = 1 << 20): Promise<(SmallFile | undefined)[]> {
  return (await loadNative().readFilesAsync(paths.map((p) => path.resolve(p)), maxBytes)).map((f) => f ?? undefined);
}

let available: boolean | undefined;

/** Whether the addon loads here (berthd always has it; the CLI may run without a built native/). */
export function batchesAvailable(): boolean {
  if (available === undefined) {
    try {
      loadNative();
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/**
 * A record write as one pool job: `tmp` made with `mode`, written, fsynced (`syncFile`), renamed
 * over `file` (tmp unlinked when a step fails), then `file`'s directory fsynced (`syncDir`).
 */
export function writeFileAtomically(tmp: string, file: string, data: string | Uint8Array, mode: number, sync: { file: boolean; dir: boolean }): Promise<void> {
  return loadNative().writeFileAtomicAsync([path.resolve(tmp), path.resolve(file)], bytesOf(data), mode, durabilityOf(sync));
}

/** Several such writes, in turn, as one pool job (stops at the first failure). */
export function writeFilesAtomically(files: readonly { tmp: string; file: string; data: string | Uint8Array }[], mode: number, sync: { file: boolean; dir: boolean }): Promise<void> {
  if (files.length === 0) return Promise.resolve();
  return loadNative().writeFileAtomicAsync(files.flatMap((f) => [path.resolve(f.tmp), path.resolve(f.file)]), files.map((f) => bytesOf(f.data)), mode, durabilityOf(sync));
}

const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' || Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
const durabilityOf = (sync: { file: boolean; dir: boolean }) => (sync.dir ? 2 : sync.file ? 1 : 0);
