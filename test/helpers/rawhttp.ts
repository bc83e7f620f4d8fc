// Raw-socket HTTP clients for the limits tests and bench: the misbehaving clients an HTTP
// library will not be (slow headers, silence, streams that are never read), and /_ping timing.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';

export interface RawConn {
  sock: net.Socket;
  /** What the server sent, as text (streams read with `read: false` keep only a count). */
  data: string;
  bytes: number;
  closed: boolean;
  openedAt: number;
}

/** A connection to a unix socket that records what comes back. */
export function openRaw(socketPath: string, opts: { keep?: boolean } = {}): RawConn {
  const sock = net.connect(socketPath);
  const c: RawConn = { sock, data: '', bytes: 0, closed: false, openedAt: Date.now() };
  sock.on('data', (b: Buffer) => {
    c.bytes += b.length;
    if (opts.keep !== false) c.data += b.toString('latin1');
  });
  sock.on('error', () => undefined);
  sock.on('close', () => { c.closed = true; });
  return c;
}

/**
 * Sends a request that opens a stream. `read: false` takes the response headers and then
 * stops reading (the socket is paused: the kernel's buffer fills and the server must hold back).
 */
export function stalledStream(socketPath: string, request: string, opts: { read: boolean; keep?: boolean }): RawConn {
  const c = openRaw(socketPath, { keep: opts.keep ?? opts.read });
  c.sock.write(request);
  if (!opts.read) c.sock.once('data', () => c.sock.pause());
  return c;
}

/** Resolves when the server closed the connection, or after `ms` (closed: false). */
export function waitClosed(c: RawConn, ms: number): Promise<RawConn> {
  if (c.closed) return Promise.resolve(c);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(c), ms);
    c.sock.once('close', () => { clearTimeout(t); resolve(c); });
  });
}

/** One GET /_ping on a fresh connection, in milliseconds (connect included). */
export function pingMs(socketPath: string, timeoutMs = 30_000): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: '/_ping', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`/_ping: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('/_ping timed out')));
    req.on('error', reject);
  });
}

/**
 * Opens `n` connections and holds them: half send nothing, half send a header line and then
 * a byte a second (slow-loris). Resolves once all are connected.
 */
export async function heldConnections(socketPath: string, n: number): Promise<{ open(): number; close(): void }> {
  const conns: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < n; i++) {
    const sock = net.connect(socketPath);
    sock.on('error', () => undefined);
    conns.push(sock);
    await new Promise<void>((resolve) => { sock.once('connect', resolve); sock.once('error', () => resolve()); });
    if (i % 2 === 1) {
      sock.write('GET /v1.44/info HTTP/1.1\r\nHost: berth\r\nX-Slow: ');
      timers.push(setInterval(() => { if (!sock.destroyed) sock.write('a'); }, 1000));
    }
  }
  return {
    open: () => conns.filter((s) => !s.destroyed && s.readyState === 'open').length,
    close: () => { timers.forEach(clearInterval); conns.forEach((s) => s.destroy()); },
  };
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
