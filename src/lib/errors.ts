// Typed errors. Each layer throws these where the failure arises; api/errors.ts maps
// them to HTTP status codes in one place. Nothing below api/ knows about HTTP.

export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidParameter'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Unavailable'
  | 'NotModified'
  | 'TooLarge'
  | 'Timeout'
  | 'System';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = kind + 'Error';
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('NotFound', message, options); }
}
export class ConflictError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('Conflict', message, options); }
}
export class InvalidParameterError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('InvalidParameter', message, options); }
}
export class ForbiddenError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('Forbidden', message, options); }
}
/** Credentials missing or refused (a registry's 401; `docker login`). */
export class UnauthorizedError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('Unauthorized', message, options); }
}
export class UnavailableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('Unavailable', message, options); }
}
/** Not a failure: the operation was a no-op (start of a running container, stop of a stopped one). */
export class NotModifiedError extends BerthError {
  constructor(message = 'not modified') { super('NotModified', message); }
}
/** A request (body) over a size limit: the client must send less. */
export class TooLargeError extends BerthError {
  constructor(message: string) { super('TooLarge', message); }
}
/** The client stopped sending in the middle of a request. */
export class ClientTimeoutError extends BerthError {
  constructor(message: string) { super('Timeout', message); }
}
export class SystemError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) { super('System', message, options); }
}

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
