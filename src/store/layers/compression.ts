// Compression sniffing for layer and archive streams (gzip, zstd, none).
import { spawn } from 'node:child_process';
import { Duplex, PassThrough, Readable, Transform, Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { InvalidParameterError } from '../../lib/errors';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Reads the first `n` bytes (or fewer at EOF) and returns them with a stream that replays everything. */
export async function peek(src: Readable, n = 8): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let len = 0;
  const it = src[Symbol.asyncIterator]();
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(b);
    len += b.length;
  }
  const head = Buffer.concat(chunks).subarray(0, n);
  const stream = Readable.from((async function* () {
    for (const c of chunks) yield c;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  })(), { objectMode: false });
  return { head, stream };
}

/** A decompressing transform for `c` (zstd, bzip2 and xz through the system tools). */
export function decompressor(c: Compression): Transform | Duplexish {
  switch (c) {
    case 'none': return new PassThrough();
    case 'gzip': return zlib.createGunzip();
    case 'zstd': return toolDuplex('zstd', ['-dc']);
    case 'bzip2': return toolDuplex('bzip2', ['-dc']);
    case 'xz': return toolDuplex('xz', ['-dc']);
  }
}

export type Duplexish = import('node:stream').Duplex;

function toolDuplex(cmd: string, args: string[]): Duplexish {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += String(d); });
  const out = new PassThrough();
  child.stdout.pipe(out);
  const d = Duplex.from({ writable: child.stdin as Writable, readable: out });
  child.on('error', (e) => d.destroy(new InvalidParameterError(`${cmd} is needed to decompress this stream: ${e.message}`)));
  child.on('close', (code) => {
    if (code !== 0) d.destroy(new InvalidParameterError(`decompressing with ${cmd} failed: ${stderr.trim()}`));
  });
  return d;
}

/** Returns an uncompressed view of `src`, whatever its compression. */
export async function decompressed(src: Readable): Promise<{ stream: Readable; compression: Compression }> {
  const { head, stream } = await peek(src);
  const compression = detectCompression(head);
  if (compression === 'none') return { stream, compression };
  const d = decompressor(compression);
  stream.on('error', (e) => d.destroy(e));
  return { stream: stream.pipe(d), compression };
}

/**
 * As peek, without wrapping: the head is read and pushed back (unshift), so `stream` is `src`
 * itself (piping it costs no extra hop per chunk), unless `src` ended within the head.
 */
export function peekInPlace(src: Readable, n = 8): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    let len = 0;
    const finish = (err: Error | undefined, ended: boolean) => {
      src.off('readable', onReadable);
      src.off('end', onEnd);
      src.off('error', onError);
      if (err) { reject(err); return; }
      const all = Buffer.concat(got);
      if (ended) { resolve({ head: all.subarray(0, n), stream: Readable.from(all.length ? [all] : []) }); return; }
      if (all.length) src.unshift(all);
      resolve({ head: all.subarray(0, n), stream: src });
    };
    const onReadable = () => {
      let c: Buffer | null;
      while (len < n && (c = src.read() as Buffer | null) !== null) { got.push(Buffer.isBuffer(c) ? c : Buffer.from(c)); len += c.length; }
      if (len >= n) finish(undefined, false);
    };
    const onEnd = () => finish(undefined, true);
    const onError = (e: Error) => finish(e, false);
    src.on('readable', onReadable);
    src.once('end', onEnd);
    src.once('error', onError);
  });
}
