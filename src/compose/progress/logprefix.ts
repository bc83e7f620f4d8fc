// Compose v2's log output: one line per log line, each behind a `name  | ` prefix padded to the
// longest registered name, the prefix in one colour per container (in registration order) when
// the output is a terminal. Used by `compose logs` and by the attached `compose up`.
import { StringDecoder } from 'node:string_decoder';
import { nowNanos, rfc3339NanoFixed } from './gotime';

/** Where the prefixer writes: process.stdout/stderr or any stream with write(). */
export interface TextSink {
  write(s: string): unknown;
}

export interface LogPrefixerOptions {
  out: TextSink;
  err?: TextSink;
  /** colour the prefixes (compose: output is a terminal, no --no-color, no NO_COLOR) */
  color: boolean;
  /** print the `name | ` prefix (compose: no --no-log-prefix) */
  prefix: boolean;
  /** `up --timestamps`: the time each message arrived after the prefix, as compose prints it (no space before the line) */
  timestamps?: boolean;
}

const RESET_LINE = '\r\x1b[K';

/** Compose's rainbow: cyan, yellow, green, magenta, blue, then the same five intense. */
const RAINBOW = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

export function ansiColor(code: string, s: string): string {
  return `\x1b[${code}m${s}\x1b[0m`;
}

/**
 * Whether log prefixes get colours, as compose decides: --no-color or a non-empty NO_COLOR turn
 * them off; --ansi always|never (else COMPOSE_ANSI) forces; otherwise only on a terminal.
 */
export function useColor(stream: { isTTY?: boolean }, o: { noColor?: boolean; ansi?: 'never' | 'always' | 'auto' } = {}, env: NodeJS.ProcessEnv = process.env): boolean {
  if (o.noColor || env.NO_COLOR) return false;
  const ansi = o.ansi && o.ansi !== 'auto' ? o.ansi : env.COMPOSE_ANSI;
  if (ansi === 'never') return false;
  if (ansi === 'always') return true;
  return !!stream.isTTY;
}

interface Presenter {
  name: string;
  color: (s: string) => string;
  prefix: string;
}

export class LogPrefixer {
  private readonly presenters = new Map<string, Presenter>();
  private nextColor = 0;
  private width = 0;

  constructor(private readonly o: LogPrefixerOptions) {}

  /** Give `name` its colour and widen every prefix to fit it; idempotent. */
  register(name: string): void {
    this.presenter(name);
  }

  /** One message from `name` on stdout; a message with newlines prints as several lines. */
  log(name: string, message: string): void {
    this.write(this.o.out, name, message);
  }

  /** One message from `name` on stderr. */
  err(name: string, message: string): void {
    this.write(this.o.err ?? this.o.out, name, message);
  }

  /** A status line about `name` ("exited with code 0"), all in its colour. */
  status(name: string, message: string): void {
    const p = this.presenter(name);
    this.o.out.write(p.color(`${RESET_LINE}${name} ${message}\n`));
  }

  /** A writer that cuts a byte stream from `name` into lines; end() flushes a last partial line. */
  lineWriter(name: string, stream: 'out' | 'err' = 'out'): LineWriter {
    this.register(name);
    return new LineWriter((line) => (stream === 'err' ? this.err(name, line) : this.log(name, line)));
  }

  private write(sink: TextSink, name: string, message: string): void {
    const p = this.presenter(name);
    const stamp = this.o.timestamps ? rfc3339NanoFixed(nowNanos()) : '';
    let text = '';
    for (const line of message.split('\n')) text += p.prefix + stamp + line + '\n';
    sink.write(text);
  }

  private presenter(name: string): Presenter {
    let p = this.presenters.get(name);
    if (p) return p;
    const code = this.o.color ? RAINBOW[this.nextColor++ % RAINBOW.length] : undefined;
    p = { name, color: code ? (s) => ansiColor(code, s) : (s) => s, prefix: '' };
    this.presenters.set(name, p);
    if (this.o.prefix) {
      this.width = Math.max(this.width, name.length + 1);
      for (const q of this.presenters.values()) q.prefix = q.color(q.name.padEnd(this.width) + ' | ');
    }
    return p;
  }
}

/** Joins chunks and hands on each complete line (without its "\n"). */
export class LineWriter {
  private rest = '';
  // a multi-byte character may straddle two chunks
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    this.rest += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let i: number;
    while ((i = this.rest.indexOf('\n')) >= 0) {
      const line = this.rest.slice(0, i);
      this.rest = this.rest.slice(i + 1);
      this.onLine(line);
    }
  }

  end(): void {
    this.rest += this.decoder.end();
    if (this.rest) this.onLine(this.rest);
    this.rest = '';
  }
}
