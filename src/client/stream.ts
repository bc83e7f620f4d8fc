// Stream helpers: the 8-byte multiplexed framing of attach/logs/exec, and line-delimited JSON.
import { Readable, Writable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export interface Frame {
  stream: number;
  payload: Buffer;
}

/**
 * Incremental decoder of the multiplexed stream: header = [type, 0, 0, 0, len(uint32 BE)], then payload.
 * Feed it any split of the byte stream; it returns the complete frames.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const len = this.buf.readUInt32BE(off + 4);
      if (this.buf.length - off < 8 + len) break;
      out.push({ stream: this.buf[off], payload: this.buf.subarray(off + 8, off + 8 + len) });
      off += 8 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }

  /** Bytes of an incomplete frame left over (at EOF, a truncated stream). */
  get pending(): number {
    return this.buf.length;
  }
}

/** Encode one frame (used by tests and by anything that fakes a daemon). */
export function encodeFrame(stream: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

/**
 * Copy a stream to stdout/stderr until EOF: demultiplexed when `tty` is false, raw otherwise.
 * Resolves at EOF (or when the source is destroyed / errors with a reset).
 */
export function pipeOutput(src: Readable, stdout: Writable, stderr: Writable, tty: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const dec = new FrameDecoder();
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err && !isBenignStreamError(err)) reject(err);
      else resolve();
    };
    const write = (w: Writable, data: Buffer) => {
      // Writes queue in order inside the Writable even when write() returns false;
      // pausing the source only applies back-pressure.
      if (!w.write(data)) {
        src.pause();
        w.once('drain', () => src.resume());
      }
    };
    src.on('data', (chunk: Buffer) => {
      if (tty) return write(stdout, chunk);
      for (const f of dec.push(chunk)) {
        if (f.stream === STDERR) write(stderr, f.payload);
        else write(stdout, f.payload);
      }
    });
    src.on('end', () => finish());
    src.on('close', () => finish());
    src.on('error', (e) => finish(e));
  });
}

function isBenignStreamError(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || e.message === 'aborted';
}

/** Split a byte stream into lines (\n or \r\n) and parse each non-empty line as JSON. */
export async function* jsonLines<T = unknown>(src: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let rest = '';
  for await (const chunk of src) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i).replace(/\r$/, '').trim();
      rest = rest.slice(i + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  const last = rest.trim();
  if (last) yield JSON.parse(last) as T;
}

/** Like jsonLines, also yielding each raw line. */
export async function* jsonLinesRaw<T = unknown>(src: AsyncIterable<Buffer | string>): AsyncGenerator<{ raw: string; value: T }> {
  let rest = '';
  for await (const chunk of src) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i).replace(/\r$/, '').trim();
      rest = rest.slice(i + 1);
      if (line) yield { raw: line, value: JSON.parse(line) as T };
    }
  }
  const last = rest.trim();
  if (last) yield { raw: last, value: JSON.parse(last) as T };
}

/** Incremental line-delimited JSON decoder for push-style consumers (tests, event handlers). */
export class JsonLineDecoder<T = unknown> {
  private rest = '';
  push(chunk: Buffer | string): T[] {
    this.rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const out: T[] = [];
    let i: number;
    while ((i = this.rest.indexOf('\n')) >= 0) {
      const line = this.rest.slice(0, i).replace(/\r$/, '').trim();
      this.rest = this.rest.slice(i + 1);
      if (line) out.push(JSON.parse(line) as T);
    }
    return out;
  }
  end(): T[] {
    const last = this.rest.trim();
    this.rest = '';
    return last ? [JSON.parse(last) as T] : [];
  }
}
