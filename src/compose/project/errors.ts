// Errors of the compose engine: what the user must change, in compose v2's words where it has them.

/** A key of the file that berth compose does not apply: never dropped in silence. */
export class UnsupportedKeyError extends Error {
  constructor(readonly service: string, readonly key: string, detail = '') {
    super(`service "${service}": "${key}" is not supported by berth compose${detail ? ` (${detail})` : ''}`);
    this.name = 'UnsupportedKeyError';
  }
}

/** A project that cannot be brought up as it is (a missing external resource, a bad flag...). */
export class ComposeError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'ComposeError';
  }
}
