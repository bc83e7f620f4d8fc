// conmon's sync pipe: one JSON object per line, `{"data": <pid or exit code>, "message"?: ...}`.
import type { Readable } from 'node:stream';

export interface SyncMessage { data: number; message?: string }

/** Calls `onMsg` for each well-formed message and `onBad` for a line that is not JSON. */
export function syncMessages(stream: Readable, onMsg: (m: SyncMessage) => void, onBad: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let m: SyncMessage;
      try {
        m = JSON.parse(line) as SyncMessage;
      } catch {
        onBad(line);
        continue;
      }
      if (typeof m.data === 'number') onMsg(m);
    }
  });
  stream.on('error', () => undefined);
}
