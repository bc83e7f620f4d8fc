// Errors raised by the Engine API client.
//
// ApiError carries the HTTP status and the daemon's message; its `kind` follows the
// status code (404 NotFound, 409 Conflict, ...), the way the docker CLI classifies errors
// by status rather than by text.
import { BerthError, ErrorKind } from '../lib/errors';

export function kindForStatus(status: number): ErrorKind {
  switch (status) {
    case 304: return 'NotModified';
    case 400: return 'InvalidParameter';
    case 401: case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 409: return 'Conflict';
    case 503: return 'Unavailable';
    default: return status >= 400 && status < 500 ? 'InvalidParameter' : 'System';
  }
}

/** An error response from the daemon. `message` is the text the CLI prints after "Error response from daemon: ". */
export class ApiError extends BerthError {
  readonly status: number;
  /** true when the message came from the body (JSON message or verbatim text), false when synthesised. */
  readonly fromDaemon: boolean;
  constructor(status: number, message: string, fromDaemon = true) {
    super(kindForStatus(status), message);
    this.name = 'ApiError';
    this.status = status;
    this.fromDaemon = fromDaemon;
  }
  /** The line the docker CLI prints. */
  display(): string {
    return this.fromDaemon ? `Error response from daemon: ${this.message}` : this.message;
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  readonly host: string;
  readonly code?: string;
  constructor(host: string, cause: unknown) {
    super(`Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`, { cause });
    this.name = 'ConnectionError';
    this.host = host;
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** A JSON-message stream (pull, load, import, push, build) reported an error inside a 200 response. */
export class StreamError extends Error {
  readonly code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'StreamError';
    this.code = code;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}
