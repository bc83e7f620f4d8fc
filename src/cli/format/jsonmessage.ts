// docker's jsonmessage.DisplayJSONMessagesStream: progress of pull, load, import, push.
import type { JsonMessage } from '../../client/types';
import { StreamError } from '../../client/errors';

function hasProgress(m: JsonMessage): boolean {
  const d = m.progressDetail;
  return !!d && ((d.current ?? 0) > 0 || (d.total ?? 0) > 0);
}

/** Print a stream of JSON messages like docker (non-terminal: no progress bars; terminal: redraw lines per id). */
export async function displayJsonMessages(stream: AsyncIterable<JsonMessage>, out: NodeJS.WritableStream, isTerminal: boolean,
  onAux?: (m: JsonMessage) => void): Promise<void> {
  let ids = new Map<string, number>();
  for await (const m of stream) {
    if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
    if (m.aux) {
      onAux?.(m);
      continue;
    }
    let diff = 0;
    const progressish = m.progressDetail !== undefined || m.progress !== undefined;
    if (m.id && progressish) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (isTerminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids = new Map();
    }
    let endl = '';
    if (isTerminal && !m.stream && progressish) {
      out.write('\x1b[2K\r');
      endl = '\r';
    } else if (hasProgress(m) && !isTerminal) {
      continue;
    }
    let s = '';
    if (m.id) s += `${m.id}: `;
    if (hasProgress(m) && isTerminal) s += `${m.status ?? ''} ${m.progress ?? ''}${endl}`;
    else if (m.stream) s += `${m.stream}${endl}`;
    else s += `${m.status ?? ''}${endl}\n`;
    out.write(s);
    if (m.id && isTerminal && diff > 0) out.write(`\x1b[${diff}B`);
  }
}
