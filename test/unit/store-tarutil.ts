// Helpers for the store tests: build tar archives in memory with tar-stream, temp roots.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';

export interface TEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export async function makeTar(entries: TEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await new Promise<void>((resolve, reject) => {
      const h = {
        name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date(1700000000000),
        linkname: e.linkname, devmajor: e.devmajor, devminor: e.devminor,
        ...(e.pax ? { pax: e.pax } : {}),
      } as tar.Headers;
      if (body) pack.entry(h, body, (err) => (err ? reject(err) : resolve()));
      else pack.entry(h, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function gzip(b: Buffer): Buffer {
  return zlib.gzipSync(b);
}

export function streamOf(b: Buffer, chunk = 7000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += chunk) parts.push(b.subarray(i, i + chunk));
  return Readable.from(parts);
}

export async function readTar(data: Buffer | Readable): Promise<Map<string, { header: tar.Headers; body: Buffer }>> {
  const ex = tar.extract();
  const out = new Map<string, { header: tar.Headers; body: Buffer }>();
  const src = Buffer.isBuffer(data) ? Readable.from([data]) : data;
  src.pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.set(e.header.name, { header: e.header, body: Buffer.concat(chunks) });
  }
  return out;
}

export async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export function tempRoot(prefix = 'berth-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmRoot(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
}
