// Reading a container's log as conmon writes it (k8s-file: `TIME STREAM P|F TEXT`),
// streaming from disk so a large log never sits in memory whole.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, in UTC (Docker's `--timestamps` form). */
  time: string;
  /** Unix time in nanoseconds, for since/until. */
  timeNs: bigint;
  /** The text of the record; full lines keep their newline, partial ones have none. */
  message: Buffer;
}

const LINE_RE = /^(\S+) (stdout|stderr) ([PF]) /;

/** Parses an RFC 3339 time with an offset and up to 9 fractional digits into UTC nanoseconds. */
export function parseTimeNs(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(ts);
  if (!m) return undefined;
  const zone = m[3] === 'Z' ? 'Z' : m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3];
  const ms = Date.parse(`${m[1]}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export function formatTimeNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? '.' + frac : ''}Z`;
}

export function parseLogLine(line: Buffer): LogRecord | undefined {
  const head = line.subarray(0, 64).toString('latin1');
  const m = LINE_RE.exec(head);
  if (!m) return undefined;
  const timeNs = parseTimeNs(m[1]);
  if (timeNs === undefined) return undefined;
  const body = line.subarray(m[0].length);
  const message = m[3] === 'F' ? Buffer.concat([body, Buffer.from('\n')]) : Buffer.from(body);
  return { stream: m[2] as 'stdout' | 'stderr', time: formatTimeNs(timeNs), timeNs, message };
}

/**
 * Reads complete lines from `offset` to the current end of the file. Returns the records
 * and the offset after the last complete line (a line still being written is left for later).
 */
export async function readLogFrom(file: string, offset: number, onRecord: (r: LogRecord) => void): Promise<number> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return offset;
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    if (size < offset) offset = 0; // truncated or replaced: start over
    const buf = Buffer.allocUnsafe(256 * 1024);
    let pos = offset;
    let carry = Buffer.alloc(0);
    let consumed = offset;
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
        const rec = parseLogLine(data.subarray(start, nl));
        if (rec) onRecord(rec);
        consumed += nl - start + 1;
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
      data = Buffer.alloc(0);
    }
    return consumed;
  } finally {
    await fh.close();
  }
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Unix nanoseconds; records before are skipped. */
  sinceNs?: bigint;
  untilNs?: bigint;
  /** Last N records; undefined = all. */
  tail?: number;
}

function wanted(q: LogQuery, r: LogRecord): boolean {
  if (r.stream === 'stdout' ? !q.stdout : !q.stderr) return false;
  if (q.sinceNs !== undefined && r.timeNs < q.sinceNs) return false;
  if (q.untilNs !== undefined && r.timeNs > q.untilNs) return false;
  return true;
}

/** The records of the log as it is now, honouring tail/since/until. Returns the end offset. */
export async function readLogSnapshot(file: string, q: LogQuery, emit: (r: LogRecord) => void): Promise<number> {
  if (q.tail === undefined) return readLogFrom(file, 0, (r) => { if (wanted(q, r)) emit(r); });
  if (q.tail <= 0) return (await fsp.stat(file).catch(() => ({ size: 0 }))).size;
  const ring: LogRecord[] = [];
  const end = await readLogFrom(file, 0, (r) => {
    if (!wanted(q, r)) return;
    ring.push(r);
    if (ring.length > q.tail!) ring.shift();
  });
  ring.forEach(emit);
  return end;
}

/**
 * Follows the log from `offset` until `stopped` resolves (the container exited) or `cancel`
 * is called; then drains what is left. Uses inotify with a slow poll as a safety net.
 */
export function followLog(file: string, offset: number, q: LogQuery, emit: (r: LogRecord) => void, stopped: Promise<unknown>): { done: Promise<void>; cancel: () => void } {
  let cancelled = false;
  let wake: (() => void) | undefined;
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(file, () => wake?.());
  } catch { /* the file may not exist yet; the poll covers it */ }
  let finished = false;
  void stopped.then(() => { finished = true; wake?.(); }, () => { finished = true; wake?.(); });
  const done = (async () => {
    try {
      for (;;) {
        offset = await readLogFrom(file, offset, (r) => { if (wanted(q, r)) emit(r); });
        if (cancelled) return;
        if (finished) {
          // One last read: conmon may have flushed after the exit was noticed.
          offset = await readLogFrom(file, offset, (r) => { if (wanted(q, r)) emit(r); });
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 500).unref();
        });
        wake = undefined;
      }
    } finally {
      watcher?.close();
    }
  })();
  return { done, cancel: () => { cancelled = true; wake?.(); } };
}
