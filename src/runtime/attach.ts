// AttachStream over conmon's attach socket (<bundle>/attach, SOCK_SEQPACKET).
//
// conmon's protocol (src/conn_sock.c, src/ctr_stdio.c): every packet conmon sends is one read of
// the container's stdout or stderr (at most 8192 bytes) prefixed by one byte naming the pipe:
// 2 = stdout, 3 = stderr (1 would be stdin, unused). A TTY's output comes as stdout. Packets we
// send are raw stdin bytes; conmon reads each with recvfrom(32767 bytes), so longer packets would
// be truncated: we split writes. When we shut down our write side, conmon closes the
// container's stdin (unless it runs with --leave-stdin-open). At exit conmon drains both pipes,
// sends the rest to every attached socket, closes the sockets, and only then writes the exit file.
//
// conmon sends output only to the connections it has accept()ed, one per turn of its main loop,
// and keeps no backlog of output for later clients. A client that connect()ed is not yet one of
// them: open() returns once conmon has accepted the connection, so that a task started after it
// (or output written after it returns) reaches this client from the first byte.
import { EventEmitter } from 'node:events';
import { SeqpacketSocket } from '../lib/sys/seqpacket';
import type { AttachStream } from './types';

export const STDOUT_PIPE = 2;
export const STDERR_PIPE = 3;
/** conmon's CONN_SOCK_BUF_SIZE - 1: the largest stdin packet conmon reads whole. */
export const MAX_STDIN_PACKET = 32767;

export class ConmonAttachStream extends EventEmitter implements AttachStream {
  private sock: SeqpacketSocket | undefined;
  private ended = false;
  private stdinClosed = false;

  constructor(sock: SeqpacketSocket, private readonly stdin: boolean) {
    super();
    this.sock = sock;
    sock.on('packet', (p: Buffer) => {
      if (p.length < 2) return;
      const payload = p.subarray(1);
      if (p[0] === STDERR_PIPE) this.emit('stderr', payload);
      else this.emit('stdout', payload);
    });
    sock.on('end', () => this.finish());
    sock.on('error', (e: Error) => {
      this.emit('error', e);
      this.finish();
    });
  }

  /** Connects to the attach socket at `socketPath`; conmon may not have accepted it yet (see open). */
  static connect(socketPath: string, opts: { stdin: boolean }): ConmonAttachStream {
    return new ConmonAttachStream(SeqpacketSocket.connect(socketPath), opts.stdin);
  }

  /**
   * Connects and resolves once conmon has accepted the connection: from then on it gets all the
   * container's output. Rejects (ECONNRESET) if conmon closed the socket without accepting it.
   */
  static async open(socketPath: string, opts: { stdin: boolean }): Promise<ConmonAttachStream> {
    const s = ConmonAttachStream.connect(socketPath, opts);
    const sock = s.sock!;
    // Nobody listens yet: read nothing until the caller has the stream (what conmon sends
    // waits in the socket), and an error while waiting is the rejection, not an unhandled event.
    sock.pause();
    const swallow = () => undefined;
    s.on('error', swallow);
    try {
      await sock.whenAccepted();
    } catch (e) {
      s.close();
      throw e;
    } finally {
      s.off('error', swallow);
    }
    // Reading resumes in a later turn of the loop, after the caller's listeners are on.
    sock.resume();
    return s;
  }

  write(data: Buffer): void {
    if (!this.stdin || this.stdinClosed || !this.sock) return;
    for (let off = 0; off < data.length; off += MAX_STDIN_PACKET) {
      this.sock.write(data.subarray(off, Math.min(off + MAX_STDIN_PACKET, data.length)));
    }
  }

  /** Backpressure: stop reading output until resume() (conmon then waits on the socket). */
  pause(): void {
    this.sock?.pause();
  }

  resume(): void {
    this.sock?.resume();
  }

  endStdin(): void {
    if (this.stdinClosed || !this.sock) return;
    this.stdinClosed = true;
    if (this.stdin) this.sock.shutdownWrite();
  }

  close(): void {
    if (!this.sock) return;
    const s = this.sock;
    this.sock = undefined;
    s.close();
    if (!this.ended) {
      this.ended = true;
      this.emit('end');
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
    // Closing right after 'end' listeners ran: no more packets can come after conmon's EOF.
    const s = this.sock;
    this.sock = undefined;
    s?.close();
  }
}
