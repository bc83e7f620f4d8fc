// The berth CLI's spare processes (src/cli/spare.ts) of one spare directory: a test daemon gives
// its CLI runs a directory of their own (TestDaemon.spareDir), and stop() ends the spares in it.
import * as fs from 'node:fs';

/** The pids of the spares waiting on sockets in `dir` (their argv names the socket). */
export function cliSpares(dir: string): number[] {
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[1]?.endsWith('/spare.js') && argv[2]?.startsWith(prefix)) out.push(Number(name));
    } catch { /* gone */ }
  }
  return out;
}

/** Kills the spares of `dir` and waits until they are gone. */
export async function killCliSpares(dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pids = cliSpares(dir);
    if (pids.length === 0) return;
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await new Promise((r) => setTimeout(r, 20));
  }
}
