// The client's side of a stdio stream that may be connected later (attach before start,
// exec before its process runs): stdin, stdin EOF and pause are held, then replayed in order
// on the real stream when it connects. Sessions extend it and emit their own output events.
import { EventEmitter } from 'node:events';

/** What a connected stream must offer. */
export interface StdioTarget {
  write(data: Buffer): void;
  endStdin(): void;
  pause(): void;
  resume(): void;
}

export class DeferredStdio extends EventEmitter {
  private target?: StdioTarget;
  private pending: Buffer[] = [];
  private stdinEnded = false;
  private paused = false;

  /** `acceptsStdin: false` drops what the client writes (a session without stdin). */
  constructor(private readonly acceptsStdin = true) {
    super();
  }

  write(data: Buffer): void {
    if (!this.acceptsStdin || this.stdinEnded) return;
    if (this.target) this.target.write(data);
    else this.pending.push(data);
  }

  /** The client has no more stdin (a half-close). */
  endStdin(): void {
    if (this.stdinEnded) return;
    this.stdinEnded = true;
    this.target?.endStdin();
  }

  /** Backpressure from the client: stop reading output until resume(). */
  pause(): void {
    this.paused = true;
    this.target?.pause();
  }

  resume(): void {
    this.paused = false;
    this.target?.resume();
  }

  protected connectStdio(target: StdioTarget): void {
    this.target = target;
    if (this.paused) target.pause();
    for (const b of this.pending) target.write(b);
    this.pending = [];
    if (this.stdinEnded) target.endStdin();
  }
}
