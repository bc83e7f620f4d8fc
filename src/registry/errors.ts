// The distribution spec's errors: a code from its table, an HTTP status, and the JSON body
// `{"errors":[{code,message,detail}]}`. Thrown by storage and handlers, written by server.ts.
export type RegistryErrorCode =
  | 'BLOB_UNKNOWN' | 'BLOB_UPLOAD_INVALID' | 'BLOB_UPLOAD_UNKNOWN' | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN' | 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' | 'NAME_INVALID'
  | 'NAME_UNKNOWN' | 'SIZE_INVALID' | 'UNAUTHORIZED' | 'DENIED' | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS' | 'RANGE_INVALID';

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: RegistryErrorCode,
    message: string,
    readonly detail?: unknown,
    /** Extra response headers (WWW-Authenticate, Retry-After, Range). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  body(): string {
    // A blob GET's unsatisfiable Range (416) has no code in the spec's table, and a 4XX body may
    // be of any form: it gets none (its Content-Range header says what the blob has).
    if (this.code === 'RANGE_INVALID') return '';
    return JSON.stringify({ errors: [{ code: this.code, message: this.message, ...(this.detail !== undefined ? { detail: this.detail } : {}) }] });
  }
}

export const blobUnknown = (digest: string) => new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
export const manifestUnknown = (reference: string) => new RegistryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference });
export const nameUnknown = (name: string) => new RegistryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
export const uploadUnknown = () => new RegistryError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
export const digestInvalid = (message: string, detail?: unknown) => new RegistryError(400, 'DIGEST_INVALID', message, detail);
export const manifestInvalid = (message: string) => new RegistryError(400, 'MANIFEST_INVALID', message);
