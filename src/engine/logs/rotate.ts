// Log rotation for conmon's k8s-file logs.
//
// conmon 2.1.6 cannot rotate: its --log-size-max truncates (it reopens `<log>.tmp` with O_TRUNC
// and renames it over the log, dropping what was there), and counts bytes across reopens. So
// berthd rotates, as Docker's json-file does, and conmon only reopens:
//   1. under the log's lock: <log>.(n-1) -> <log>.n ... <log> -> <log>.1 (renames; conmon keeps
//      appending to the same inode, now <log>.1, so nothing is lost or reordered);
//   2. "2 0 0\n" (REOPEN_LOGS_EVENT) on the bundle's ctl fifo: conmon closes its fd and makes
//      a fresh <log>; every record is written whole to one file (conmon's loop is single-threaded);
//   3. once the fresh <log> exists, the generation is bumped and followers are told: the
//      old inode is final, they drain it and go on with its successor.
// Sizes are watched with inotify on the container's directory (one watcher per running
// container with a rotation policy), so a file overshoots max-size only by what conmon writes
// while berthd reacts. berthd never holds log data in memory beyond one read buffer.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { Mutex } from '../../lib/mutex';
import type { RotationPolicy } from './options';

interface LogState { lock: Mutex; gen: number; events: EventEmitter }

const states = new Map<string, LogState>();

/** Shared by the rotator and the readers of one log file (same berthd process). */
export function logState(file: string): LogState {
  let s = states.get(file);
  if (!s) {
    s = { lock: new Mutex(), gen: 0, events: new EventEmitter() };
    s.events.setMaxListeners(0);
    states.set(file, s);
  }
  return s;
}

export function forgetLogState(file: string): void {
  states.delete(file);
}

/** The rotated files that exist, oldest first, then the live file. */
export async function logFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const rotated = names
    .map((n) => (n.startsWith(base + '.') && /^\d+$/.test(n.slice(base.length + 1)) ? Number(n.slice(base.length + 1)) : 0))
    .filter((n) => n > 0)
    .sort((a, b) => b - a);
  return [...rotated.map((n) => `${file}.${n}`), file];
}

export interface RotatorDeps {
  /** Ask the shim to reopen the log (conmon's ctl message 2). */
  reopen: () => Promise<void>;
}

/** Watches one running container's log and rotates it by its policy. */
export class LogRotator {
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private checking = false;
  private again = false;
  private closed = false;

  constructor(readonly file: string, readonly policy: RotationPolicy, private readonly deps: RotatorDeps) {}

  start(): void {
    const base = path.basename(this.file);
    try {
      this.watcher = fs.watch(path.dirname(this.file), (_ev, name) => { if (name === base) this.check(); });
      this.watcher.on('error', () => undefined);
    } catch { /* the poll below still rotates */ }
    this.poll = setInterval(() => this.check(), 1000);
    this.poll.unref();
    this.check();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
  }

  private check(): void {
    if (this.closed) return;
    if (this.checking) { this.again = true; return; }
    this.checking = true;
    void (async () => {
      try {
        do {
          this.again = false;
          const st = await fsp.stat(this.file).catch(() => undefined);
          if (st && st.size >= this.policy.maxSize && !this.closed) await this.rotate();
        } while (this.again && !this.closed);
      } catch (e) {
        log.warn('log rotation failed', { file: this.file, error: errorMessage(e) });
      } finally {
        this.checking = false;
      }
    })();
  }

  async rotate(): Promise<void> {
    const s = logState(this.file);
    await s.lock.run(async () => {
      const keep = Math.max(1, this.policy.maxFile);
      const last = Math.max(1, keep - 1);
      for (let i = last; i >= 2; i--) await fsp.rename(`${this.file}.${i - 1}`, `${this.file}.${i}`).catch(() => undefined);
      await fsp.rename(this.file, `${this.file}.1`);
      try {
        await this.deps.reopen();
      } catch (e) {
        // The shim is gone (the container exited): nothing writes to the log any more.
        log.debug('log reopen failed', { file: this.file, error: errorMessage(e) });
        s.gen++;
        s.events.emit('rotated', s.gen);
        return;
      }
      const deadline = Date.now() + 2000;
      while (!fs.existsSync(this.file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      s.gen++;
      s.events.emit('rotated', s.gen);
      // max-file 1: the file is truncated (readers that hold it open still read it whole).
      if (keep === 1) await fsp.rm(`${this.file}.1`, { force: true });
    });
  }
}
