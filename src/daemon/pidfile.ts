// The PID file doubles as a lock: a second daemon on the same roots refuses to start.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Whether a process of this PID exists (EPERM: it does, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function claimPidfile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (pid && pid !== process.pid && processAlive(pid) && fs.existsSync(`/proc/${pid}/cmdline`)
      && /berthd|daemon\/main\.js/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) {
      throw new Error(`pid file found, ensure berthd is not running or delete ${file}`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.writeFileSync(file, `${process.pid}\n`, { mode: 0o644 });
}

export function releasePidfile(file: string): void {
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
  } catch { /* already gone */ }
}
