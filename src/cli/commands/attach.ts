// berth attach: wait (no condition) → inspect → attach → (TTY: two resizes) → stream.
import { Command } from 'commander';
import { Cli, requireArgs, StatusError } from '../cli';
import { startStreaming } from '../attach';

export function register(parent: Command, cli: Cli): void {
  parent.command('attach')
    .description("Attach local standard input, output, and error streams to a running container")
    .usage('[OPTIONS] CONTAINER')
    .argument('[args...]')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--sig-proxy [bool]', 'Proxy all received signals to the process', true)
    .action(async (args: string[], o: { detachKeys?: string; stdin?: boolean; sigProxy?: boolean | string }, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      const name = args[0];
      const wait = await cli.client.containerWait(name);
      const c = await cli.client.containerInspect(name);
      if (!c.State.Running) {
        wait.cancel();
        throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
      }
      if (c.State.Paused) {
        wait.cancel();
        throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
      }
      const tty = !!c.Config.Tty;
      const stdin = o.stdin !== false && !!c.Config.OpenStdin;
      const conn = await cli.client.containerAttach(name, { stream: true, stdin, stdout: true, stderr: true, detachKeys: o.detachKeys });
      const sigProxy = !(o.sigProxy === false || o.sigProxy === 'false');
      const session = startStreaming(cli, conn, { id: name, tty, stdin, detachKeys: o.detachKeys, sigProxy, holdStdinOpen: tty });
      session.enterRaw();
      if (tty && process.stdout.isTTY) {
        const h = process.stdout.rows, w = process.stdout.columns;
        await cli.client.containerResize(name, h + 1, w + 1).catch(() => undefined);
        await session.startResize();
      }
      const { detached } = await session.done;
      session.restore();
      if (detached) {
        conn.closeWrite();
        conn.close();
        wait.cancel();
        throw new StatusError(1, 'read escape sequence');
      }
      const r = await wait.result;
      conn.close();
      if (r.StatusCode !== 0) throw new StatusError(r.StatusCode);
    });
}
