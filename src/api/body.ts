// Reading request bodies: JSON bodies are held in memory, so they have a size cap and a
// client that stops sending half-way is timed out (the server's own timeouts end with the
// headers, so that uploads and long streams are not cut). Streamed bodies (build context,
// image load and import, put-archive) never come through here.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ClientTimeoutError, InvalidParameterError, TooLargeError } from '../lib/errors';

/** The cap on a JSON body (Docker has none; a create body is a few KiB). */
export const MAX_JSON_BODY = 8 * 1024 * 1024;
/** How long a body may go without a byte before the request is dropped. */
export const BODY_IDLE_TIMEOUT_MS = 30_000;

export function tooLarge(limit: number): TooLargeError {
  return new TooLargeError(`request body is too large: the limit is ${limit} bytes`);
}

/**
 * Reads `source` (a request, or a hijacked socket past its headers) until it ends or
 * `want` bytes are in: fails at `limit` bytes, and when no byte came for the idle timeout.
 */
export function collect(source: IncomingMessage | Duplex, opts: { limit: number; want?: number; initial?: Buffer }): Promise<Buffer> {
  const chunks: Buffer[] = opts.initial?.length ? [opts.initial] : [];
  let size = opts.initial?.length ?? 0;
  const want = opts.want ?? Infinity;
  if (size >= want) return Promise.resolve(Buffer.concat(chunks));
  return new Promise<Buffer>((resolve, reject) => {
    let timer = setTimeout(onIdle, BODY_IDLE_TIMEOUT_MS);
    const done = (err?: Error) => {
      clearTimeout(timer);
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
      source.pause();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    function onData(chunk: Buffer) {
      size += chunk.length;
      if (size > opts.limit) return done(tooLarge(opts.limit));
      chunks.push(chunk);
      clearTimeout(timer);
      timer = setTimeout(onIdle, BODY_IDLE_TIMEOUT_MS);
      if (size >= want) done();
    }
    function onEnd() {
      if (opts.want === undefined) done();
      else done(new InvalidParameterError('request body cut short'));
    }
    function onError(e: Error) { done(new InvalidParameterError(`request body: ${e.message}`)); }
    function onClose() { done(new InvalidParameterError('request body cut short')); }
    function onIdle() { done(new ClientTimeoutError(`request body: no data for ${BODY_IDLE_TIMEOUT_MS / 1000}s`)); }
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
    source.resume();
  });
}

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (req.readableEnded) return Buffer.alloc(0);
  return collect(req, { limit });
}

export function parseJson<T>(buf: Buffer, { allowEmpty = true } = {}): T {
  const text = buf.toString('utf8').trim();
  if (text === '') {
    if (allowEmpty) return {} as T;
    throw new InvalidParameterError('bad parameter: request body is empty');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InvalidParameterError(`invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidParameterError('invalid JSON: expected an object');
  }
  return v as T;
}

export async function readJson<T>(req: IncomingMessage, opts?: { allowEmpty?: boolean }): Promise<T> {
  return parseJson<T>(await readBody(req), opts);
}
