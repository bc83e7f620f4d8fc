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
  readonly closed: boolean;
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
  return {
    write(obj) {
      if (!closed && !res.writableEnded) res.write(JSON.stringify(obj) + eol);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
    get closed() { return closed || res.writableEnded; },
  };
}

/** A JSON-message stream error item: the CLI prints it and exits 1 although the status was 200. */
export function streamError(message: string): { errorDetail: { message: string }; error: string } {
  return { errorDetail: { message }, error: message };
}
