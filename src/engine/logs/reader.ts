// Reading a container's log as conmon writes it (k8s-file: `TIME STREAM P|F TEXT`), across
// its generations (runtime/logfiles.ts) oldest first, streaming from disk so a large log never
// sits in memory whole.
//
// Records come out as Docker's json-file gives them: a line conmon split into P records only
// because a pipe read ended mid-line is joined again (Docker's copier buffers up to 16 KiB before
// it writes a partial message); longer lines come out as 16 KiB partial records without a
// newline, and a last line without a newline as one partial record.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { currentGeneration, earlierLayout, generationPath, listGenerations } from '../../runtime/logfiles';
import { LogPin } from './pins';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, in UTC (Docker's `--timestamps` form). */
  time: string;
  /** Unix time in nanoseconds, for since/until. */
  timeNs: bigint;
  /** The text of the record; full lines keep their newline, partial ones have none. */
  message: Buffer;
  /** A piece of a line (conmon's P). */
  partial?: boolean;
}

const LINE_RE = /^(\S+) (stdout|stderr) ([PF]) /;
/** Docker's copier buffer: a line longer than this is logged in partial messages. */
export const MAX_RECORD = 16 * 1024;

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
  const partial = m[3] === 'P';
  const message = partial ? Buffer.from(body) : Buffer.concat([body, Buffer.from('\n')]);
  return { stream: m[2] as 'stdout' | 'stderr', time: formatTimeNs(timeNs), timeNs, message, partial };
}

/** Joins conmon's P pieces per stream into Docker-shaped records. */
export class PartialJoiner {
  private pending: Record<'stdout' | 'stderr', { first: LogRecord; parts: Buffer[]; size: number } | undefined> = { stdout: undefined, stderr: undefined };

  constructor(private readonly out: (r: LogRecord) => void) {}

  push(r: LogRecord): void {
    const p = this.pending[r.stream];
    if (!r.partial) {
      if (!p) return this.out(r);
      this.pending[r.stream] = undefined;
      this.emitJoined(p.first, [...p.parts, r.message], p.size + r.message.length, false);
      return;
    }
    if (!p) this.pending[r.stream] = { first: r, parts: [r.message], size: r.message.length };
    else { p.parts.push(r.message); p.size += r.message.length; }
    const q = this.pending[r.stream]!;
    if (q.size >= MAX_RECORD) {
      // Docker logs a full buffer as partial messages; the remainder waits for the line's end.
      const all = Buffer.concat(q.parts);
      let off = 0;
      for (; all.length - off >= MAX_RECORD; off += MAX_RECORD) this.out({ ...q.first, message: all.subarray(off, off + MAX_RECORD), partial: true });
      const rest = all.subarray(off);
      this.pending[r.stream] = rest.length ? { first: { ...r }, parts: [Buffer.from(rest)], size: rest.length } : undefined;
    }
  }

  private emitJoined(first: LogRecord, parts: Buffer[], size: number, partial: boolean): void {
    const all = Buffer.concat(parts, size);
    if (all.length <= MAX_RECORD + 1) return this.out({ ...first, message: all, partial });
    let off = 0;
    for (; all.length - off > MAX_RECORD + 1; off += MAX_RECORD) this.out({ ...first, message: all.subarray(off, off + MAX_RECORD), partial: true });
    this.out({ ...first, message: all.subarray(off), partial });
  }

  /** The end of the log: pieces still waiting come out as partial records. */
  flush(): void {
    for (const s of ['stdout', 'stderr'] as const) {
      const p = this.pending[s];
      this.pending[s] = undefined;
      if (p) this.emitJoined(p.first, p.parts, p.size, true);
    }
  }
}

/**
 * Reads complete lines of an open file from `offset` to its current end. Returns the offset
 * after the last complete line (a line still being written is left for later).
 */
async function readFrom(fh: fsp.FileHandle, offset: number, onRecord: (r: LogRecord) => void, pace?: () => Promise<void>): Promise<number> {
  const size = (await fh.stat()).size;
  if (size < offset) offset = 0; // truncated: start over
  const buf = Buffer.allocUnsafe(256 * 1024);
  let pos = offset;
  let carry = Buffer.alloc(0);
  let consumed = offset;
  while (pos < size) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      const rec = parseLogLine(data.subarray(start, nl));
      if (rec) onRecord(rec);
      consumed += nl - start + 1;
      start = nl + 1;
    }
    carry = Buffer.from(data.subarray(start));
    // Let a slow reader catch up before the next chunk: memory stays bounded for any log size.
    if (pace) await pace();
  }
  return consumed;
}

/** Reads one file by path from `offset` (kept for callers that know a single file). */
export async function readLogFrom(file: string, offset: number, onRecord: (r: LogRecord) => void): Promise<number> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return offset;
    throw e;
  }
  try {
    return await readFrom(fh, offset, onRecord);
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

async function openIfExists(file: string): Promise<fsp.FileHandle | undefined> {
  try {
    return await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

interface Generation { gen: number; fh: fsp.FileHandle }

/**
 * Opens every generation on disk, oldest first. Only the oldest are ever deleted, so one that
 * vanished between the listing and its open ends what came before it: the chain stays gapless.
 */
async function openChain(file: string): Promise<Generation[]> {
  const chain: Generation[] = [];
  // A container running since before berthd was upgraded: conmon still appends to <log>.
  const earlier = await earlierLayout(file);
  if (earlier) {
    for (const f of earlier) { const fh = await openIfExists(f); if (fh) chain.push({ gen: 0, fh }); }
    return chain;
  }
  for (const gen of await listGenerations(file)) {
    const fh = await openIfExists(generationPath(file, gen));
    if (fh) { chain.push({ gen, fh }); continue; }
    for (const g of chain.splice(0)) await g.fh.close();
  }
  return chain;
}

/** The generation after `after` (normally after+1; past a gap, the oldest left), if it exists yet. */
async function openNext(file: string, after: number | undefined): Promise<Generation | undefined> {
  if (after !== undefined) {
    const fh = await openIfExists(generationPath(file, after + 1));
    if (fh) return { gen: after + 1, fh };
    const newest = await currentGeneration(file);
    if (newest === undefined || newest <= after + 1) return undefined;
  }
  // Nothing yet, or a gap (this follower fell further behind than its pin lets it: pins.ts).
  for (const gen of await listGenerations(file)) {
    if (after !== undefined && gen <= after) continue;
    const fh = await openIfExists(generationPath(file, gen));
    if (fh) return { gen, fh };
  }
  return undefined;
}

export interface ReadOptions {
  /** Keep reading new records until `stopped` settles (the container stopped) or `cancel`. */
  follow?: { stopped: Promise<unknown>; cancelled: () => boolean; onCancel: (fn: () => void) => void };
  /** Awaited between chunks read from disk: resolves when the consumer can take more. */
  pace?: () => Promise<void>;
}

/**
 * Emits the log's records (tail/since/until honoured) across rotated files; with `follow`,
 * goes on across rotations until the container stops.
 */
export async function readLogs(file: string, q: LogQuery, emit: (r: LogRecord) => void, opts: ReadOptions = {}): Promise<void> {
  const ring: LogRecord[] = [];
  let sink: (r: LogRecord) => void;
  if (q.tail === undefined) sink = (r) => { if (wanted(q, r)) emit(r); };
  else if (q.tail <= 0) sink = () => undefined;
  else {
    sink = (r) => {
      if (!wanted(q, r)) return;
      ring.push(r);
      if (ring.length > q.tail!) ring.shift();
    };
  }
  const joiner = new PartialJoiner((r) => sink(r));
  const push = (r: LogRecord) => joiner.push(r);
  // Pinned before it is listed: nothing goes that this reader has not opened (then it holds the
  // files open). A snapshot needs the pin only while it opens them, a follower while it follows.
  const pin = await LogPin.hold(file);
  let live: Generation | undefined;
  let offset = 0;
  try {
    const chain = await openChain(file);
    if (!opts.follow) await pin.release();
    live = chain.pop();
    for (const g of chain) {
      try { await readFrom(g.fh, 0, push, opts.pace); } finally { await g.fh.close(); }
    }
    if (live) offset = await readFrom(live.fh, 0, push, opts.pace);
    if (!opts.follow) {
      joiner.flush();
      ring.forEach(emit);
      return;
    }
    if (live) await pin.need(live.gen + 1);
    // From here on every record is new: emitted as it comes (tail applies to the snapshot only).
    ring.forEach(emit);
    ring.length = 0;
    sink = (r) => { if (wanted(q, r)) emit(r); };
    const f = opts.follow;
    let wake: (() => void) | undefined;
    const poke = () => wake?.();
    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = fs.watch(path.dirname(file), poke);
      watcher.on('error', () => undefined);
    } catch { /* the poll covers it */ }
    f.onCancel(poke);
    let finished = false;
    void f.stopped.then(() => { finished = true; poke(); }, () => { finished = true; poke(); });
    try {
      for (;;) {
        // Taken before the reads: the runtime reports a stop only once the log is all written.
        const done = finished;
        if (live) offset = await readFrom(live.fh, offset, push, opts.pace);
        if (f.cancelled()) return;
        const next = await openNext(file, live?.gen);
        if (next) {
          // The writer made `next` only after it had written all of `live`: drain it, move on.
          let full = 0;
          if (live) { full = await readFrom(live.fh, offset, push, opts.pace); await live.fh.close(); }
          live = next;
          offset = 0;
          await pin.need(next.gen + 1, await currentGeneration(file), full);
          continue;
        }
        if (done) {
          joiner.flush();
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
  } finally {
    await pin.release().catch(() => undefined);
    await live?.fh.close().catch(() => undefined);
  }
}

/** The records of the log as it is now, honouring tail/since/until. */
export async function readLogSnapshot(file: string, q: LogQuery, emit: (r: LogRecord) => void): Promise<void> {
  await readLogs(file, q, emit);
}
