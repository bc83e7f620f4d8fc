// docker's jsonmessage.DisplayJSONMessagesStream: progress of pull, push, load, import.
// On a terminal, each message with an id and a progressDetail owns one line, redrawn in place
// (cursor up to it, erase, write, cursor back down); the bar is drawn here from
// progressDetail, as the docker CLI does, not taken from the daemon's `progress` text.
// Elsewhere, messages that carry numbers are dropped and the rest are printed as plain lines.
import type { JsonMessage } from '../../client/types';
import { StreamError } from '../../client/errors';
import { humanSize } from './units';

export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

/** The terminal's width (0: unknown, taken as 200 like the CLI does without a window size). */
export interface DisplayOptions {
  width?: number;
  /** For tests: the time used for the "time left" estimate, in ms. */
  now?: number;
}

function goDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** JSONProgress.String(): `[====>    ]  12.3MB/45.6MB 3s`, parts dropped on narrow terminals. */
export function progressString(p: ProgressDetail, opts: DisplayOptions = {}): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  const width = opts.width && opts.width > 0 ? opts.width : 200;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p.hidecounts) numbers = '';
  else if (!p.units) numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  else numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  let left = '';
  if (current > 0 && p.start && p.start > 0 && percentage < 50 && width > 50) {
    const elapsed = (opts.now ?? Date.now()) / 1000 - p.start;
    left = ' ' + goDuration(Math.floor((total - current) * (elapsed / current)));
  }
  return bar + numbers + left;
}

const ESC = '\x1b[';
const up = (n: number) => (n > 0 ? `${ESC}${n}A` : '');
const down = (n: number) => (n > 0 ? `${ESC}${n}B` : '');
const CLEAR_LINE = `${ESC}2K`;

/** JSONMessage.Display: one message. Returns false for a message left out (numbers, not a terminal). */
function displayOne(m: JsonMessage & { progressDetail?: ProgressDetail; from?: string }, out: NodeJS.WritableStream, isTerminal: boolean, opts: DisplayOptions): void {
  const progress = m.progressDetail;
  let endl = '';
  if (isTerminal && !m.stream && progress) {
    out.write(CLEAR_LINE);
    endl = '\r';
    out.write(endl);
  } else if (progress && progressString(progress, opts) !== '') {
    return; // no progress bars off a terminal
  }
  let s = '';
  if (m.id) s += `${m.id}: `;
  if (m.from) s += `(from ${m.from}) `;
  if (progress && isTerminal) s += `${m.status ?? ''} ${progressString(progress, opts)}${endl}`;
  else if (m.progress) s += `${m.status ?? ''} ${m.progress}${endl}`;
  else if (m.stream) s += `${m.stream}${endl}`;
  else s += `${m.status ?? ''}${endl}\n`;
  out.write(s);
}

/**
 * Prints a stream of JSON messages as the docker CLI does; throws StreamError at an `error`
 * message. `aux` messages go to `onAux` and are not printed.
 */
export async function displayJsonMessages(stream: AsyncIterable<JsonMessage>, out: NodeJS.WritableStream, isTerminal: boolean,
  onAux?: (m: JsonMessage) => void, opts: DisplayOptions = {}): Promise<void> {
  const width = opts.width ?? (out as NodeJS.WriteStream).columns ?? 0;
  const o = { ...opts, width };
  let ids = new Map<string, number>();
  for await (const m of stream) {
    if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
    if (m.aux) {
      onAux?.(m);
      continue;
    }
    let diff = 0;
    if (m.id && (m.progressDetail !== undefined || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        // A new id gets a new line at the bottom; the lines above are the earlier ids, in order.
        line = ids.size;
        ids.set(m.id, line);
        if (isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (isTerminal) out.write(up(diff));
    } else {
      // Anything else ends the block of progress lines (pull -a: the next tag starts anew).
      ids = new Map();
    }
    displayOne(m, out, isTerminal, o);
    if (m.id && isTerminal) out.write(down(diff));
  }
}
