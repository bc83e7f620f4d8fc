// The attached `up`: every container's output behind its `name  | ` prefix, and its exit.
// Attached before the start so nothing is lost; the printer is compose-cmds' LogPrefixer.
import { FrameDecoder, STDERR } from '../../client/stream';
import type { Client } from '../../client/client';
import type { LogPrefixer } from '../progress/logprefix';

export interface AttachedContainer {
  name: string;
  service: string;
  /** resolves with the exit code once the container stopped and its output is drained */
  exited: Promise<number>;
  detach(): void;
}

export async function attachContainer(client: Client, printer: LogPrefixer, c: { id: string; name: string; service: string; running: boolean }, label: string): Promise<AttachedContainer> {
  const inspect = await client.containerInspect(c.id);
  const tty = inspect.Config.Tty;
  const wait = await client.containerWait(c.id, c.running ? 'not-running' : 'next-exit');
  const stream = await client.containerAttach(c.id, { stream: true, stdout: true, stderr: true });
  const out = printer.lineWriter(label, 'out');
  const err = printer.lineWriter(label, 'err');
  const dec = new FrameDecoder();
  const drained = new Promise<void>((resolve) => {
    stream.socket.on('data', (chunk: Buffer) => {
      if (tty) { out.write(chunk); return; }
      for (const f of dec.push(chunk)) (f.stream === STDERR ? err : out).write(f.payload);
    });
    const end = () => { out.end(); err.end(); resolve(); };
    stream.socket.once('end', end);
    stream.socket.once('close', end);
    stream.socket.once('error', end);
  });
  const exited = (async () => {
    const r = await wait.result;
    // the stream ends when the container's stdio closes: a moment after its exit
    await Promise.race([drained, new Promise((r2) => setTimeout(r2, 2000).unref())]);
    return r.StatusCode;
  })();
  return { name: label, service: c.service, exited, detach: () => { wait.cancel(); stream.close(); } };
}

/**
 * A container `up` waits on without printing its output (--no-attach, or outside --attach):
 * compose watches every service it started until it exits and says how each exited.
 */
export async function watchContainer(client: Client, printer: LogPrefixer, c: { id: string; service: string; running: boolean }, label: string): Promise<AttachedContainer> {
  printer.register(label);
  const wait = await client.containerWait(c.id, c.running ? 'not-running' : 'next-exit');
  return { name: label, service: c.service, exited: wait.result.then((r) => r.StatusCode), detach: () => wait.cancel() };
}
