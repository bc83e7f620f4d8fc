// A fixed set of read buffers shared by every blob GET. Buffers are external memory that V8
// frees only at a collection, and a registry sending blobs allocates little else, so buffers
// of finished requests used to pile up (50 clients: 50 MB) until the heap happened to fill.
// Shared and capped, they cost at most max x size however many clients there are; a request
// waits for one when all are in flight, which the socket would make it do anyway.

export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(b: Buffer) => void> = [];
  private allocated = 0;

  constructor(readonly size: number, readonly max: number) {}

  acquire(): Promise<Buffer> {
    const b = this.free.pop();
    if (b) return Promise.resolve(b);
    if (this.allocated < this.max) {
      this.allocated++;
      return Promise.resolve(Buffer.allocUnsafeSlow(this.size));
    }
    return new Promise((resolve) => { this.waiting.push(resolve); });
  }

  release(b: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }

  /** Buffers allocated so far (never more than max). */
  get count(): number { return this.allocated; }
}
