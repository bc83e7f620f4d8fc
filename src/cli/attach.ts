// Streaming a hijacked attach connection: stdin forwarding with half-close, output demux,
// raw terminal mode, resize on SIGWINCH, detach keys and signal proxying.
import type { HijackedStream } from '../client/client';
import { pipeOutput } from '../client/stream';
import { Cli } from './cli';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Parse docker's detach key spec ("ctrl-p,ctrl-q", "a,ctrl-@") into bytes. */
export function parseDetachKeys(spec: string): number[] {
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const key = k.trim();
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(key);
    if (!m) throw new Error(`Unknown character: '${key}'`);
    const c = m[1];
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if (c >= 'A' && c <= 'Z') out.push(c.charCodeAt(0) - 64);
    else if (c === '@') out.push(0);
    else if (c === '[') out.push(27);
    else if (c === '\\') out.push(28);
    else if (c === ']') out.push(29);
    else if (c === '^') out.push(30);
    else if (c === '_') out.push(31);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return out;
}

/** Watches input for the detach sequence; returns the bytes to forward and whether the sequence completed. */
export class EscapeProxy {
  private matched = 0;
  constructor(private readonly keys: number[]) {}
  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length && b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      if (this.matched) {
        out.push(...this.keys.slice(0, this.matched));
        this.matched = 0;
        if (b === this.keys[0]) { this.matched = 1; continue; }
      }
      out.push(b);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

export interface StreamOptions {
  id: string;
  tty: boolean;
  /** forward our stdin into the container */
  stdin: boolean;
  detachKeys?: string;
  /** forward signals as kill requests (non-TTY only) */
  sigProxy: boolean;
  /** keep stdin's write side open until output ends (docker does this for TTY sessions) */
  holdStdinOpen?: boolean;
}

export interface StreamSession {
  /** resolves when the output side hit EOF, or the user detached (then `detached` is true) */
  done: Promise<{ detached: boolean }>;
  /** without stdin: resolves once the connection's half-close is on the wire (run sends start after it) */
  inputClosed: Promise<void>;
  /** raw terminal mode on (call after start) */
  enterRaw(): void;
  /** start forwarding resizes (call after start) */
  startResize(): Promise<void>;
  restore(): void;
}

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGCONT', 'SIGALRM', 'SIGPROF', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGTRAP', 'SIGABRT', 'SIGSYS'];

export function startStreaming(cli: Cli, conn: HijackedStream, o: StreamOptions): StreamSession {
  // process.stdin is made on first use (~2.5 ms of a run's CPU): only a session that forwards it touches it
  const stdin = o.stdin ? process.stdin : undefined;
  const cleanups: Array<() => void> = [];
  let detachResolve: (() => void) | undefined;
  const detachPromise = new Promise<void>((r) => { detachResolve = r; });
  let rawOn = false;

  // stdin → socket
  if (stdin) {
    const proxy = o.tty ? new EscapeProxy(parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;
    const onData = (chunk: Buffer) => {
      let data = chunk;
      if (proxy) {
        const r = proxy.feed(chunk);
        data = r.forward;
        if (r.detached) {
          if (data.length) conn.socket.write(data);
          stdin.pause();
          detachResolve?.();
          return;
        }
      }
      if (data.length && !conn.socket.destroyed) conn.socket.write(data);
    };
    const onEnd = () => {
      if (!o.holdStdinOpen) conn.closeWrite();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
    cleanups.push(() => { stdin.off('data', onData); stdin.off('end', onEnd); stdin.pause(); });
  } else {
    conn.closeWrite();
  }
  const inputClosed = stdin ? Promise.resolve() : new Promise<void>((resolve) => {
    const s = conn.socket;
    if (s.writableFinished || s.destroyed) return resolve();
    s.once('finish', () => resolve());
    s.once('close', () => resolve());
  });

  // signal proxying (non-TTY)
  if (o.sigProxy && !o.tty) {
    for (const sig of PROXIED_SIGNALS) {
      const h = () => { cli.client.containerKill(o.id, sig.replace(/^SIG/, '')).catch(() => undefined); };
      try {
        process.on(sig, h);
        cleanups.push(() => process.off(sig, h));
      } catch { /* not supported here */ }
    }
  }

  const output = pipeOutput(conn.socket, cli.out as NodeJS.WritableStream & import('node:stream').Writable,
    cli.err as NodeJS.WritableStream & import('node:stream').Writable, o.tty);

  const done = Promise.race([
    output.then(() => ({ detached: false })),
    detachPromise.then(() => ({ detached: true })),
  ]);

  const restore = () => {
    for (const c of cleanups.splice(0)) c();
    if (rawOn && stdin?.isTTY) {
      try { stdin.setRawMode(false); } catch { /* ignore */ }
      rawOn = false;
    }
  };

  return {
    done,
    inputClosed,
    enterRaw: () => {
      if (o.tty && stdin?.isTTY) {
        try {
          stdin.setRawMode(true);
          rawOn = true;
        } catch { /* not a terminal */ }
      }
    },
    startResize: async () => {
      if (!o.tty || !process.stdout.isTTY) return;
      const size = () => [process.stdout.rows, process.stdout.columns] as const;
      const [h, w] = size();
      if (h && w) await cli.client.containerResize(o.id, h, w).catch(() => undefined);
      const onResize = () => {
        const [hh, ww] = size();
        cli.client.containerResize(o.id, hh, ww).catch(() => undefined);
        cli.client.containerKill(o.id, 'WINCH').catch(() => undefined);
      };
      process.stdout.on('resize', onResize);
      cleanups.push(() => process.stdout.off('resize', onResize));
    },
    restore,
  };
}

/** Exit code docker derives from the text of a start error. */
export function exitCodeFromStartError(message: string): number {
  if (message.includes('executable file not found') || message.includes('no such file or directory') || message.includes('system cannot find the file specified')) return 127;
  if (message.includes('permission denied')) return 126;
  return 125;
}
