// A hijacked client's bytes into a session's stdin. On a TTY the detach keys are watched:
// the sequence detaches the client (its connection is closed) and the process runs on.
import type { Duplex } from 'node:stream';
import { DetachKeyScanner } from '../engine/containers/detachKeys';

export interface StdinTarget {
  write(data: Buffer): void;
  endStdin(): void;
}

/** `head`: stdin bytes that came with the request (read past its headers or body), scanned first. */
export function pipeStdin(sock: Duplex, target: StdinTarget, detach?: { keys: Buffer; onDetach: () => void }, head?: Buffer): void {
  const scanner = detach ? new DetachKeyScanner(detach.keys) : undefined;
  const onData = (b: Buffer) => {
    if (!scanner) return target.write(b);
    if (scanner.detached) return;
    const { forward, detach: now } = scanner.push(b);
    if (forward.length) target.write(forward);
    if (now) {
      detach!.onDetach();
      // Docker closes the connection: our FIN first (what was written is delivered), then the rest.
      sock.once('finish', () => sock.destroy());
      sock.end();
    }
  };
  if (head?.length) onData(head);
  sock.on('data', onData);
  // Half-close from the client means "no more stdin", never "detach".
  sock.on('end', () => {
    if (scanner?.detached) return;
    const held = scanner?.flush();
    if (held?.length) target.write(held);
    target.endStdin();
  });
}
