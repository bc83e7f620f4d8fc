// What the runtimes' fast paths (runc.ts, crun.ts; chosen in fastpaths.ts) share: a container
// init told apart from a reused PID by its start time, a signal to it, the removal of a stopped
// container's cgroups and state directory.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

/** A runtime's JSON state file, or undefined when it cannot be read. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** 'alive' | 'zombie' | 'gone' for a PID with the given start time (clock ticks since boot). */
export async function procState(pid: number, start: number): Promise<'alive' | 'zombie' | 'gone'> {
  let stat: string;
  try {
    stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'gone';
  }
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
  // one rmdir per hierarchy (ten here), side by side on the pool
  const removed = await Promise.all(cgroupDirs.map((p) => fsp.rmdir(p).then(() => true, (e: NodeJS.ErrnoException) => e.code === 'ENOENT')));
  if (!removed.every(Boolean)) return false;
  await fsp.rm(stateDir, { recursive: true, force: true });
  return true;
}

/** A state directory that is gone: nothing to delete. */
export function isGone(dir: string): boolean {
  return !fs.existsSync(dir);
}
