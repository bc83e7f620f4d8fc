// The client's side of a stdio stream that may be connected later (attach before start,
// exec before its process runs): stdin, stdin EOF and pause are held, then replayed in order
// on the real stream when it connects.

/** What a connected stream must offer. */
export interface StdioTarget {
  write(data: Buffer): void;
  endStdin(): void;
  pause(): void;
  resume(): void;
}

export class DeferredStdio {
  private target?: StdioTarget;
  private pending: Buffer[] = [];
  private stdinEnded = false;
  private paused = false;

  write(data: Buffer): void {
    if (this.stdinEnded) return;
    if (this.target) this.target.write(data);
    else this.pending.push(data);
  }

  endStdin(): void {
    if (this.stdinEnded) return;
    this.stdinEnded = true;
    this.target?.endStdin();
  }

  pause(): void {
    this.paused = true;
    this.target?.pause();
  }

  resume(): void {
    this.paused = false;
    this.target?.resume();
  }

  connect(target: StdioTarget): void {
    this.target = target;
    if (this.paused) target.pause();
    for (const b of this.pending) target.write(b);
    this.pending = [];
    if (this.stdinEnded) target.endStdin();
  }
}
