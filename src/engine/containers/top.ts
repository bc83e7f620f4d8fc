// `docker top`: run ps on the host and keep the rows of the container's processes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidParameterError } from '../../lib/errors';

const run = promisify(execFile);

export async function topProcesses(pids: number[], psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
  const args = psArgs.trim() === '' ? ['-ef'] : psArgs.trim().split(/\s+/);
  let stdout: string;
  try {
    ({ stdout } = await run('ps', args, { maxBuffer: 16 * 1024 * 1024 }));
  } catch (e) {
    throw new InvalidParameterError(`Error running ps: ${(e as Error).message}`);
  }
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return { Titles: [], Processes: [] };
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new InvalidParameterError(`Couldn't find PID field in ps output`);
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    // The last column (the command) may contain spaces: keep it whole.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (wanted.has(Number(row[pidCol]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
