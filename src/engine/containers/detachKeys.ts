// Detach keys: the key sequence on a TTY's stdin that detaches the client (attach and exec)
// and leaves the process running. Docker's syntax (moby/term ToBytes): comma separated keys,
// each a single character, `ctrl-@`, `ctrl-a`..`ctrl-z`, `ctrl-[`, `ctrl-\`, `ctrl-]`,
// `ctrl-^`, `ctrl-_`, or `DEL`.
import { InvalidParameterError } from '../../lib/errors';

/** ctrl-p, ctrl-q: Docker's default. */
export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]);

const CTRL_NAMES = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/** The bytes of a detach key spec; throws Error(`Unknown character: '…'`) as ToBytes does. */
export function parseDetachKeys(spec: string): Buffer {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0) & 0xff);
      continue;
    }
    const ctrl = key.startsWith('ctrl-') && key.length === 6 ? CTRL_NAMES.indexOf(key[5]) : -1;
    if (ctrl >= 0) codes.push(ctrl);
    else if (key === 'DEL') codes.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(codes);
}

/** A client's detach keys (empty: the default); a bad spec is a 400 in Docker's words for `what`. */
function detachKeysOf(spec: string | null | undefined, what: 'detach' | 'escape'): Buffer {
  if (!spec) return DEFAULT_DETACH_KEYS;
  try {
    return parseDetachKeys(spec);
  } catch {
    throw new InvalidParameterError(`Invalid ${what} keys (${spec}) provided`);
  }
}

/** The keys of `POST /containers/{id}/attach?detachKeys=` (also start's): empty means the default. */
export const attachDetachKeys = (spec: string | null | undefined): Buffer => detachKeysOf(spec, 'detach');

/** The keys of an exec's `DetachKeys` (its create body), with Docker's message for exec. */
export const execDetachKeys = (spec: string | null | undefined): Buffer => detachKeysOf(spec, 'escape');

/**
 * Watches a TTY's stdin for the sequence. Bytes that may start the sequence are held back until
 * the next byte decides; the sequence itself is never forwarded, and a broken prefix is
 * forwarded as typed. Unlike moby's proxy (which matches only reads of one byte), the sequence
 * is found anywhere in a chunk, so a client that writes both keys at once detaches too.
 */
export class DetachKeyScanner {
  private matched = 0;
  private done = false;

  constructor(private readonly keys: Buffer) {}

  get detached(): boolean {
    return this.done;
  }

  /** At the end of stdin: the held bytes of an unfinished sequence, forwarded as typed. */
  flush(): Buffer {
    const held = this.done ? Buffer.alloc(0) : this.keys.subarray(0, this.matched);
    this.matched = 0;
    return Buffer.from(held);
  }

  /** Returns the bytes to forward now and whether the sequence was completed (later bytes are dropped). */
  push(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.done) return { forward: Buffer.alloc(0), detach: true };
    if (this.keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.done = true;
          return { forward: Buffer.from(out), detach: true };
        }
        continue;
      }
      // A broken prefix: forward what was held, then look at this byte afresh.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
      if (this.matched === this.keys.length) {
        this.done = true;
        return { forward: Buffer.from(out), detach: true };
      }
    }
    return { forward: out.length === chunk.length ? chunk : Buffer.from(out), detach: false };
  }
}
