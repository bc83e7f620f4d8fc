// compose v2's progress: on a terminal one line per resource, redrawn in place (a spinner while
// it works, ✔ when done, the time it took), under a `[+] Running n/m` title; elsewhere (or with
// --progress plain) one plain line per event, as compose's plain writer prints them. Both on stderr.

export type EventStatus = 'working' | 'done' | 'warning' | 'error';

export interface ProgressEvent {
  /** `Container app-web-1`, `Network app_default` */
  id: string;
  status: EventStatus;
  /** `Creating`, `Started`, `Healthy`... */
  text: string;
  statusText?: string;
}

export interface Progress {
  event(e: ProgressEvent): void;
  /** a line outside the resource lines (warnings), printed above them */
  message(line: string): void;
  /** the final redraw; no more events after it */
  stop(): void;
}

export interface Sink { write(s: string): unknown; isTTY?: boolean; columns?: number }

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'quiet';

/** `prefix`: put before each resource's line (compose's " DRY-RUN MODE - " in a dry run). */
export function createProgress(out: Sink, mode: ProgressMode = 'auto', title = 'Running', prefix = ''): Progress {
  if (mode === 'quiet') return { event: () => undefined, message: () => undefined, stop: () => undefined };
  if (mode === 'tty' || (mode === 'auto' && out.isTTY)) return new TtyProgress(out, title, prefix);
  return new PlainProgress(out, prefix);
}

/** Convenience: working / done events of one resource. */
export function working(p: Progress, id: string, text: string): void {
  p.event({ id, status: 'working', text });
}
export function done(p: Progress, id: string, text: string): void {
  p.event({ id, status: 'done', text });
}
export function failed(p: Progress, id: string, text: string, statusText?: string): void {
  p.event({ id, status: 'error', text, statusText });
}

class PlainProgress implements Progress {
  constructor(private readonly out: Sink, private readonly prefix: string) {}
  event(e: ProgressEvent): void {
    // Go's Fprintln(prefix, id, text, statusText): operands joined by spaces
    this.out.write([this.prefix, e.id, e.text, e.statusText ?? ''].join(' ') + '\n');
  }
  message(line: string): void {
    this.out.write(line + '\n');
  }
  stop(): void { /* nothing buffered */ }
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const GREEN = (s: string) => `\x1b[32m${s}\x1b[0m`;
const RED = (s: string) => `\x1b[31m${s}\x1b[0m`;
const YELLOW = (s: string) => `\x1b[33m${s}\x1b[0m`;
const CYAN = (s: string) => `\x1b[36m${s}\x1b[0m`;

interface Line { e: ProgressEvent; started: number; ended?: number }

class TtyProgress implements Progress {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly out: Sink, private readonly title: string, private readonly prefix: string) {}

  event(e: ProgressEvent): void {
    if (this.stopped) return;
    const now = Date.now();
    const l = this.lines.get(e.id);
    if (!l) this.lines.set(e.id, { e, started: now, ended: e.status === 'working' ? undefined : now });
    else {
      if (l.e.status !== 'working' && e.status === 'working') l.started = now;
      l.e = e;
      l.ended = e.status === 'working' ? undefined : now;
    }
    this.timer ??= setInterval(() => this.draw(), 100);
    this.timer.unref?.();
    this.draw();
  }

  message(line: string): void {
    this.clear();
    this.out.write(line + '\n');
    this.drawn = 0;
    this.draw();
  }

  stop(): void {
    if (this.stopped) return;
    this.draw();
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\r\x1b[J`);
  }

  private draw(): void {
    if (this.stopped || !this.lines.size) return;
    const all = [...this.lines.values()];
    const finished = all.filter((l) => l.e.status !== 'working').length;
    const width = this.out.columns ?? 80;
    const idWidth = Math.max(...all.map((l) => l.e.id.length));
    const textWidth = Math.max(...all.map((l) => l.e.text.length + (l.e.statusText ? l.e.statusText.length + 1 : 0)));
    const spin = SPINNER[this.frame++ % SPINNER.length];
    const rows = [`[+] ${this.title} ${finished}/${all.length}`];
    for (const l of all) {
      const icon = l.e.status === 'done' ? GREEN('✔') : l.e.status === 'error' ? RED('✘') : l.e.status === 'warning' ? YELLOW('!') : spin;
      const elapsed = `${(((l.ended ?? Date.now()) - l.started) / 1000).toFixed(1)}s`;
      const text = l.e.statusText ? `${l.e.text} ${l.e.statusText}` : l.e.text;
      const coloured = l.e.status === 'error' ? RED(text) : l.e.status === 'done' ? GREEN(text) : text;
      const left = ` ${icon} ${this.prefix ? CYAN(this.prefix) : ''}${l.e.id.padEnd(idWidth)}  ${coloured}${' '.repeat(textWidth - text.length)}`;
      const visible = 3 + this.prefix.length + idWidth + 2 + textWidth;
      const gap = Math.max(1, width - visible - elapsed.length - 1);
      rows.push(`${left}${' '.repeat(gap)}${elapsed}`);
    }
    this.clear();
    this.out.write(rows.map((r) => `${r}\x1b[K`).join('\n') + '\n');
    this.drawn = rows.length;
  }
}
