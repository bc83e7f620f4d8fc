// The one place where typed errors become HTTP statuses.
import type * as http from 'node:http';
import { BerthError, type ErrorKind } from '../lib/errors';
import { log } from '../lib/log';
import { sendEmpty, sendJson } from './respond';

const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidParameter: 400,
  Forbidden: 403,
  Unauthorized: 401,
  Unavailable: 503,
  NotModified: 304,
  TooLarge: 413,
  Timeout: 408,
  System: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? STATUS[err.kind] : 500;
}

export function sendError(res: http.ServerResponse, err: unknown): void {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status === 500) log.error('request failed', { error: message, stack: err instanceof Error ? err.stack : undefined });
  if (res.headersSent) {
    // Too late for a status: the stream is cut, which the client sees as an error.
    res.destroy();
    return;
  }
  if (status === 304) return sendEmpty(res, 304);
  sendJson(res, status, { message });
}
