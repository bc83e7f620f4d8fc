// Response helpers: JSON bodies, empty replies, and the chunked streams the CLI reads
// (JSON-message streams end each object with \r\n; events/stats/wait with \n).
import type * as http from 'node:http';

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendEmpty(res: http.ServerResponse, status: number): void {
  if (status === 204 || status === 304) res.writeHead(status);
  else res.writeHead(status, { 'Content-Length': '0' });
  res.end();
}

export function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export interface JsonStream {
  write(obj: unknown): void;
  end(): void;
  /** Resolves once the client has taken what was written (or went away): for paced sources. */
  drained(): Promise<void>;
  readonly closed: boolean;
}

/** Resolves once the client has taken what was written to `w`, or went away. */
export function untilDrained(w: NodeJS.WritableStream & { writableNeedDrain: boolean; destroyed: boolean }): Promise<void> {
  if (!w.writableNeedDrain || w.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => { w.off('drain', done); w.off('close', done); resolve(); };
    w.on('drain', done);
    w.on('close', done);
  });
}

/**
 * What a stream holds for a client that does not read. Over the soft limit, progress bars
 * (an `id` and `progressDetail.current`) are coalesced to the latest per id, written at the
 * next drain: a pull is never slowed by its watcher, and its backlog is one message per layer.
 * Over the hard limit the client is cut off (events, build output: not progress, no pause).
 */
export const STREAM_BACKLOG = { softBytes: 256 * 1024, hardBytes: 8 * 1024 * 1024 };

function progressId(obj: unknown): string | undefined {
  const o = obj as { id?: unknown; progressDetail?: { current?: unknown } } | null;
  return o && typeof o.id === 'string' && typeof o.progressDetail?.current === 'number' ? o.id : undefined;
}

/**
 * Starts a chunked JSON stream and flushes the headers at once (the CLI blocks on them).
 * `eol` is '\r\n' for JSON-message streams (pull, load, build), '\n' for events/stats/wait.
 */
export function startJsonStream(res: http.ServerResponse, eol: '\n' | '\r\n' = '\r\n', status = 200): JsonStream {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  let closed = false;
  res.on('close', () => { closed = true; });
  const held = new Map<string, unknown>();
  const open = () => !closed && !res.writableEnded && !res.destroyed;
  const put = (obj: unknown) => {
    res.write(JSON.stringify(obj) + eol);
    if (res.writableLength > STREAM_BACKLOG.hardBytes) res.destroy();
  };
  const flushHeld = () => {
    const items = [...held.values()];
    held.clear();
    for (const o of items) if (open()) put(o);
  };
  res.on('drain', flushHeld);
  return {
    write(obj) {
      if (!open()) return;
      const id = progressId(obj);
      if (id !== undefined && (held.size > 0 || res.writableLength > STREAM_BACKLOG.softBytes)) {
        held.delete(id); // re-inserted last: held bars keep the order of their latest update
        held.set(id, obj);
        return;
      }
      flushHeld(); // order: a held bar goes out before the message that follows it
      put(obj);
    },
    end() {
      if (open()) flushHeld();
      if (!res.writableEnded) res.end();
    },
    drained: () => untilDrained(res),
    get closed() { return closed || res.writableEnded; },
  };
}

/** A JSON-message stream error item: the CLI prints it and exits 1 although the status was 200. */
export function streamError(message: string): { errorDetail: { message: string }; error: string } {
  return { errorDetail: { message }, error: message };
}
