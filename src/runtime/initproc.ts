// What the runtimes' fast paths (runc.ts, crun.ts; chosen in fastpaths.ts) share: a container
// init told apart from a reused PID by its start time, a signal to it, the removal of a stopped
// container's cgroups and state directory.
import * as fs from 'node:fs';
import { readSmallFiles, removeTrees, rmdirs } from '../lib/sys/fsbatch';

/** A runtime's JSON state file, or undefined when it cannot be read. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  return (await readJsonFiles<[T]>([file]))[0];
}

/** Several JSON files read in one batch; undefined for each that cannot be read or parsed. */
export async function readJsonFiles<T extends unknown[]>(files: string[]): Promise<{ [K in keyof T]: T[K] | undefined }> {
  const texts = await readSmallFiles(files, 16 << 20).catch(() => files.map(() => undefined));
  return texts.map((f) => {
    try {
      return f ? JSON.parse(f.text) : undefined;
    } catch {
      return undefined;
    }
  }) as { [K in keyof T]: T[K] | undefined };
}

/** 'alive' | 'zombie' | 'gone' for a PID with the given start time (clock ticks since boot). */
export async function procState(pid: number, start: number): Promise<'alive' | 'zombie' | 'gone'> {
  const stat = (await readSmallFiles([`/proc/${pid}/stat`], 4096).catch(() => []))[0]?.text;
  if (stat === undefined) return 'gone';
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22 -> rest[19]
  if (Number(rest[19]) !== start) return 'gone';
  return rest[0] === 'Z' || rest[0] === 'X' ? 'zombie' : 'alive';
}

/** kill(2) of a live init (not a zombie, not a reused PID). false: the caller asks the runtime. */
export async function signalInit(pid: number, start: number, signal: number): Promise<boolean> {
  if (!(pid > 0) || (await procState(pid, start)) !== 'alive') return false;
  try {
    process.kill(pid, signal);
  } catch {
    return false;
  }
  return true;
}

/**
 * A stopped container's cgroup directories, then its state directory. false (nothing of the
 * state removed) when a cgroup cannot go: it still holds a process, which the runtime's own
 * delete kills first.
 */
export async function removeStopped(cgroupDirs: readonly string[], stateDir: string): Promise<boolean> {
  // one rmdir per hierarchy (ten here), all in one pool job
  if (!(await rmdirs(cgroupDirs)).every(Boolean)) return false;
  await removeTrees([stateDir]);
  return true;
}

/** A state directory that is gone: nothing to delete. */
export function isGone(dir: string): boolean {
  return !fs.existsSync(dir);
}
