// A container's log on disk. The log path given to the runtime (<dir>/<stem>.log) is a symlink
// to the newest generation <dir>/<stem>.<gen>.log; generations are written in order (by conmon,
// or by berth-logwriter when the log rotates), only ever created and deleted, never renamed, so
// a reader that holds generation g knows that g is complete once g+1 exists.
// <dir>/<stem>.log.pin is the followers' pin that berth-logwriter reads (native/logwriter.c).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** <stem>.log -> <stem>; a path without .log is all stem. */
function stemOf(logPath: string): string {
  return path.basename(logPath, '.log');
}

export function generationPath(logPath: string, gen: number): string {
  return path.join(path.dirname(logPath), `${stemOf(logPath)}.${gen}.log`);
}

/** The generation a file name in the log's directory holds, if it is one. */
export function generationOf(logPath: string, name: string): number | undefined {
  const stem = stemOf(logPath);
  if (!name.startsWith(stem + '.') || !name.endsWith('.log')) return undefined;
  const g = name.slice(stem.length + 1, -4);
  return /^[1-9]\d*$/.test(g) ? Number(g) : undefined;
}

/** The generations on disk, oldest first. */
export async function listGenerations(logPath: string): Promise<number[]> {
  const names = await fsp.readdir(path.dirname(logPath)).catch(() => [] as string[]);
  return names.flatMap((n) => { const g = generationOf(logPath, n); return g === undefined ? [] : [g]; }).sort((a, b) => a - b);
}

/** The newest generation, as the symlink says (one readlink); undefined when there is none. */
export async function currentGeneration(logPath: string): Promise<number | undefined> {
  const target = await fsp.readlink(logPath).catch(() => undefined);
  return target === undefined ? undefined : generationOf(logPath, target);
}

export function pinPath(logPath: string): string {
  return `${logPath}.pin`;
}

/** Points <stem>.log at a generation (symlink to a temp name, then rename: never missing). */
export async function linkGeneration(logPath: string, gen: number): Promise<void> {
  const tmp = `${logPath}.tmp`;
  await fsp.rm(tmp, { force: true });
  await fsp.symlink(path.basename(generationPath(logPath, gen)), tmp);
  await fsp.rename(tmp, logPath);
}

/**
 * The files of a log in the layout before generations (a plain <stem>.log that conmon appended
 * to, and <stem>.log.N renamed by berthd, N=1 newest), oldest first; undefined if it is not one.
 */
export async function earlierLayout(logPath: string): Promise<string[] | undefined> {
  if (!(await fsp.lstat(logPath).catch(() => undefined))?.isFile()) return undefined;
  const base = path.basename(logPath);
  const names = await fsp.readdir(path.dirname(logPath)).catch(() => [] as string[]);
  const rotated = names.flatMap((n) => (n.startsWith(base + '.') && /^\d+$/.test(n.slice(base.length + 1)) ? [Number(n.slice(base.length + 1))] : []))
    .sort((a, b) => b - a);
  return [...rotated.map((n) => `${logPath}.${n}`), logPath];
}

/**
 * Makes the log's directory ready for a writer and returns the generation it appends to (the
 * newest, as Docker appends to a restarted container's log). A log of the earlier layout is
 * renamed into generations first.
 */
export async function prepareLog(logPath: string): Promise<number> {
  await fsp.mkdir(path.dirname(logPath), { recursive: true });
  // A log never written (a container's first start): its first generation, linked at once.
  const names = await fsp.readdir(path.dirname(logPath)).catch(() => [] as string[]);
  if (!names.includes(path.basename(logPath)) && !names.some((n) => generationOf(logPath, n) !== undefined)) {
    const linked = await fsp.symlink(path.basename(generationPath(logPath, 1)), logPath).then(() => true, () => false);
    if (linked) return 1;
  }
  const earlier = await earlierLayout(logPath);
  if (earlier) {
    let gen = ((await listGenerations(logPath)).pop() ?? 0) + 1;
    for (const f of earlier) await fsp.rename(f, generationPath(logPath, gen++));
  }
  const gen = (await listGenerations(logPath)).pop() ?? 1;
  await linkGeneration(logPath, gen);
  return gen;
}
