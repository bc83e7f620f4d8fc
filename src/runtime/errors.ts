// Errors of the runtime layer.
import { SystemError } from '../lib/errors';

/** The OCI runtime (or the shim) failed; `message` carries the runtime's own words. */
export class RuntimeError extends SystemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}
