// Reading request bodies, with a size cap for JSON and Docker-like errors for bad JSON.
import type { IncomingMessage } from 'node:http';
import { InvalidParameterError } from '../lib/errors';

const MAX_JSON = 8 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_JSON): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new InvalidParameterError(`request body too large (limit ${limit} bytes)`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
