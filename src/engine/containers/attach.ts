// Attach sessions: a client's view of a container's stdio. Sessions opened before the
// container starts are held (with any stdin they sent) and connected right after the
// task is created and before it starts, so no output is missed.
import type { AttachStream, Runtime } from '../../runtime/types';
import { log } from '../../lib/log';
import { DeferredStdio } from '../../runtime/deferredStdio';

export interface AttachOptions { stdin: boolean; stdout: boolean; stderr: boolean }

/** Events: 'data' (stream: 'stdout'|'stderr', chunk: Buffer), 'end' (). */
export class AttachSession extends DeferredStdio {
  private stream?: AttachStream;
  private closed = false;
  private ended = false;

  constructor(readonly containerId: string, readonly opts: AttachOptions) {
    super(opts.stdin);
  }

  /** Client went away: detach from the container without touching it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.close();
    this.finish();
  }

  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }

  get isClosed(): boolean {
    return this.closed || this.ended;
  }

  async connect(runtime: Runtime): Promise<void> {
    if (this.isClosed) return;
    const stream = await runtime.attach(this.containerId, { stdin: this.opts.stdin });
    this.stream = stream;
    if (this.opts.stdout) stream.on('stdout', (b: Buffer) => this.emit('data', 'stdout', b));
    if (this.opts.stderr) stream.on('stderr', (b: Buffer) => this.emit('data', 'stderr', b));
    stream.on('end', () => this.finish());
    stream.on('error', (e: Error) => {
      log.debug('attach stream error', { id: this.containerId, error: e.message });
      this.finish();
    });
    this.connectStdio(stream);
    if (this.closed) stream.close();
  }
}

export class AttachRegistry {
  private readonly pending = new Map<string, Set<AttachSession>>();

  hold(s: AttachSession): void {
    let set = this.pending.get(s.containerId);
    if (!set) this.pending.set(s.containerId, (set = new Set()));
    set.add(s);
    s.once('end', () => set!.delete(s));
  }

  /** Connects the held sessions of a container whose task now exists. */
  async connectPending(id: string, runtime: Runtime): Promise<void> {
    const set = this.pending.get(id);
    this.pending.delete(id);
    await Promise.all([...(set ?? [])].map((s) => s.connect(runtime).catch((e) => {
      log.warn('attach failed', { id, error: String(e) });
      s.finish();
    })));
  }

  /** Ends held sessions of a container that failed to start or was removed. */
  endPending(id: string): void {
    const set = this.pending.get(id);
    this.pending.delete(id);
    for (const s of set ?? []) s.finish();
  }
}
