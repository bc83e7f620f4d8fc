// SOCK_SEQPACKET unix sockets (Node's net module only does SOCK_STREAM). Reads are driven by a
// uv_poll handle inside the addon, on the main loop: no thread, no blocking call.
import { EventEmitter } from 'node:events';
import { log } from '../log';
import {
  loadNative, NativeSeqpacketHandle, SP_EV_DATA, SP_EV_EOF, SP_EV_ERROR, SP_EV_WRITABLE,
} from './native';

const EAGAIN = 11;
const EPIPE = 32;
const ECONNRESET = 104;
const ENOTCONN = 107;

/** How long whenAccepted waits for the listener (a shim that never accepts is hung). */
const ACCEPT_TIMEOUT_MS = 30_000;
/** Polling for accept(): first at once, then 1, 2, 4 ... up to this many ms apart. */
const ACCEPT_POLL_MAX_MS = 50;
let warnedNoDiag = false;

function errnoError(errno: number, op: string): NodeJS.ErrnoException {
  const names: Record<number, string> = {
    32: 'EPIPE', 104: 'ECONNRESET', 9: 'EBADF', 111: 'ECONNREFUSED', 107: 'ENOTCONN', 110: 'ETIMEDOUT',
  };
  const code = names[errno] ?? `E${errno}`;
  const e = new Error(`seqpacket ${op}: ${code}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = -errno;
  e.syscall = op;
  return e;
}

/**
 * A connected SOCK_SEQPACKET socket.
 * Events: 'packet' (Buffer: one packet), 'end' (peer closed its side), 'error' (Error),
 * 'drain' (write queue empty), 'close'.
 */
export class SeqpacketSocket extends EventEmitter {
  private handle: NativeSeqpacketHandle | undefined;
  private queue: Buffer[] = [];
  private wantWrite = false;
  private pendingShutdown = false;
  private ended = false;

  private constructor(fd: number) {
    super();
    const n = loadNative();
    this.handle = n.seqpacketOpen(fd, (type, payload) => this.onEvent(type, payload));
  }

  /** Connects to the socket at `path` (any length: long paths go through /proc/self/fd). */
  static connect(path: string): SeqpacketSocket {
    const fd = loadNative().seqpacketConnect(path);
    return new SeqpacketSocket(fd);
  }

  get closed(): boolean { return this.handle === undefined; }

  /**
   * Resolves once the listening side has accept()ed this connection. connect() returns as soon
   * as the connection is queued in the listener's backlog, and a server that writes only to the
   * connections it has accepted (conmon: one accept per turn of its main loop, output read in
   * the same turn goes to the clients accepted so far) sends us nothing of what comes before.
   * Rejects with ECONNRESET if the listener goes away first, ETIMEDOUT after timeoutMs.
   */
  whenAccepted(timeoutMs = ACCEPT_TIMEOUT_MS): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      let delay = 1;
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error) => {
        if (timer) clearTimeout(timer);
        this.off('end', onGone);
        this.off('close', onGone);
        this.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onGone = () => done(errnoError(ECONNRESET, 'accept'));
      const onError = (e: Error) => done(e);
      this.on('end', onGone);
      this.on('close', onGone);
      this.on('error', onError);
      const check = () => {
        timer = undefined;
        if (!this.handle) return onGone();
        const r = loadNative().seqpacketPeerAccepted(this.handle);
        if (r === 1) return done();
        if (r === -ENOTCONN) return onGone();
        if (r < 0) {
          // No unix_diag in this kernel: we cannot know; go on as connect() alone would.
          if (!warnedNoDiag) {
            warnedNoDiag = true;
            log.warn('seqpacket: cannot tell whether a connection was accepted; output sent before the accept may be missed', { sockDiag: errnoError(-r, 'diag').code });
          }
          return done();
        }
        if (Date.now() >= deadline) return done(errnoError(110, 'accept'));
        timer = setTimeout(check, delay);
        delay = Math.min(delay * 2, ACCEPT_POLL_MAX_MS);
      };
      check();
    });
  }

  /** Queues one packet. Packets are sent in order; never split or merged. */
  write(packet: Buffer): void {
    if (!this.handle) throw errnoError(9, 'send');
    if (this.pendingShutdown) throw new Error('seqpacket: write after shutdown');
    if (packet.length === 0) return; // a zero-length packet reads as EOF on the other side
    this.queue.push(packet);
    this.flush();
  }

  /** Stops delivering packets until resume(): the peer then blocks on a full socket buffer. */
  pause(): void {
    if (this.handle) loadNative().seqpacketSetReading(this.handle, false);
  }

  resume(): void {
    if (this.handle) loadNative().seqpacketSetReading(this.handle, true);
  }

  /** Half-close after everything queued is sent. */
  shutdownWrite(): void {
    if (!this.handle || this.pendingShutdown) return;
    this.pendingShutdown = true;
    this.flush();
  }

  close(): void {
    if (!this.handle) return;
    const h = this.handle;
    this.handle = undefined;
    this.queue = [];
    loadNative().seqpacketClose(h);
    this.emit('close');
  }

  private flush(): void {
    const n = loadNative();
    while (this.handle && this.queue.length > 0) {
      const r = n.seqpacketSend(this.handle, this.queue[0]);
      if (r === -EAGAIN) {
        this.setWantWrite(true);
        return;
      }
      if (r < 0) {
        this.queue = [];
        this.fail(errnoError(-r, 'send'));
        return;
      }
      this.queue.shift();
    }
    if (!this.handle) return;
    this.setWantWrite(false);
    if (this.pendingShutdown) {
      try { n.seqpacketShutdown(this.handle, 1); } catch (e) { this.fail(e as Error); return; }
    }
    this.emit('drain');
  }

  private setWantWrite(want: boolean): void {
    if (!this.handle || this.wantWrite === want) return;
    this.wantWrite = want;
    loadNative().seqpacketWantWrite(this.handle, want);
  }

  private fail(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    // A peer that went away is an end, not an error, for the reader.
    if (code === 'EPIPE' || code === 'ECONNRESET') {
      this.onEnd();
      return;
    }
    this.emit('error', err);
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }

  private onEvent(type: number, payload: Buffer | number | undefined): void {
    switch (type) {
      case SP_EV_DATA:
        this.emit('packet', payload as Buffer);
        break;
      case SP_EV_EOF:
        this.onEnd();
        break;
      case SP_EV_WRITABLE:
        this.flush();
        break;
      case SP_EV_ERROR: {
        const errno = payload as number;
        if (errno === ECONNRESET || errno === EPIPE) this.onEnd();
        else this.emit('error', errnoError(errno, 'recv'));
        break;
      }
    }
  }
}
