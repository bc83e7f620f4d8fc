// Starting berth-logwriter (native/logwriter.c), the writer of a log that rotates: conmon writes
// k8s-file lines into the FIFO it makes, it writes them to generation files and starts the next
// one before a line would take the current one past maxSize. It is detached (its own session)
// and outlives berthd as conmon does; it exits once conmon has exited and the FIFO is drained.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from './errors';
import type { LogRotation } from './types';

/** The built program (native/build/Release), or BERTH_LOGWRITER. */
export function logWriterPath(): string {
  if (process.env.BERTH_LOGWRITER) return process.env.BERTH_LOGWRITER;
  // dist/src/runtime -> the package root; src/runtime when run from source.
  for (const up of ['../../..', '../..']) {
    const p = path.resolve(__dirname, up, 'native', 'build', 'Release', 'berth-logwriter');
    if (fs.existsSync(p)) return p;
  }
  return path.resolve(__dirname, '../../..', 'native', 'build', 'Release', 'berth-logwriter');
}

export interface LogWriter {
  pid: number;
  /** Ends the writer (a start that failed before conmon opened the FIFO). */
  kill(): void;
}

/** Starts the writer; resolves once the FIFO exists and the log is open (conmon may start then). */
export function spawnLogWriter(fifo: string, logPath: string, rotation: LogRotation): Promise<LogWriter> {
  return new Promise((resolve, reject) => {
    const child = spawn(logWriterPath(), [fifo, logPath, String(rotation.maxSize), String(rotation.maxFile)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (err) return reject(err);
      child.unref();
      resolve({ pid: child.pid as number, kill: () => { try { child.kill('SIGTERM'); } catch { /* gone */ } } });
    };
    child.on('error', (e) => done(new RuntimeError(`cannot run the log writer (${logWriterPath()}): ${e.message}`, { cause: e })));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
    child.stdout?.once('data', () => done());
    child.on('exit', (code) => done(new RuntimeError(`the log writer failed (exit ${code})${stderr.trim() ? ': ' + stderr.trim() : ''}`)));
  });
}
