// start, stop, restart, kill, rm, rename, pause, unpause, wait: thin wrappers that print names.
import { Command } from 'commander';
import { Cli, collect, forEachArg, parseIntFlag, requireArgs, StatusError, errorText } from '../cli';
import { startStreaming, exitCodeFromStartError } from '../attach';
import { ApiError } from '../../client/errors';

export function registerStart(parent: Command, cli: Cli): void {
  parent.command('start')
    .description('Start one or more stopped containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .action(async (args: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      if (o.attach || o.interactive) {
        if (args.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
        const status = await startAttached(cli, args[0], !!o.interactive, o.detachKeys);
        if (status !== 0) throw new StatusError(status);
        return;
      }
      await forEachArg(cli, args, async (a) => { await cli.client.containerStart(a); }, { sequential: true, failure: 'failed to start containers' });
    });
}

/** `start -a [-i]`: attach, start, stream until the container exits; its exit code (berth compose run too). */
export async function startAttached(cli: Cli, name: string, interactive: boolean, detachKeys?: string): Promise<number> {
  const c = await cli.client.containerInspect(name);
  const id = c.Id;
  const tty = !!c.Config.Tty;
  const stdin = interactive && !!c.Config.OpenStdin;
  const conn = await cli.client.containerAttach(id, { stream: true, stdin, stdout: true, stderr: true, detachKeys });
  const session = startStreaming(cli, conn, { id, tty, stdin, detachKeys, sigProxy: true, holdStdinOpen: tty });
  // as docker's start: an auto-removed container is waited on until it is gone
  const autoRemove = !!c.HostConfig?.AutoRemove;
  const wait = await cli.client.containerWait(id, autoRemove ? 'removed' : 'next-exit');
  session.enterRaw();
  try {
    await cli.client.containerStart(id, { detachKeys });
  } catch (e) {
    session.restore();
    conn.close();
    wait.cancel();
    if (e instanceof ApiError) throw new StatusError(exitCodeFromStartError(e.message) === 125 ? 1 : exitCodeFromStartError(e.message), errorText(e));
    throw e;
  }
  await session.startResize();
  const { detached } = await session.done;
  session.restore();
  if (detached) {
    conn.close();
    wait.cancel();
    return 0;
  }
  const r = await wait.result;
  conn.close();
  return r.StatusCode;
}

export function registerStop(parent: Command, cli: Cli): void {
  parent.command('stop')
    .description('Stop one or more running containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --timeout <int>', 'Seconds to wait before killing the container', parseIntFlag('-t, --timeout'))
    .option('--time <int>', 'Seconds to wait before killing the container (deprecated)', parseIntFlag('--time'))
    .action(async (args: string[], o: { signal?: string; timeout?: number; time?: number }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      const timeout = o.timeout ?? o.time;
      await forEachArg(cli, args, async (a) => { await cli.client.containerStop(a, { timeout, signal: o.signal }); });
    });
}

export function registerRestart(parent: Command, cli: Cli): void {
  parent.command('restart')
    .description('Restart one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --timeout <int>', 'Seconds to wait before killing the container', parseIntFlag('-t, --timeout'))
    .option('--time <int>', 'Seconds to wait before killing the container (deprecated)', parseIntFlag('--time'))
    .action(async (args: string[], o: { signal?: string; timeout?: number; time?: number }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      const timeout = o.timeout ?? o.time;
      await forEachArg(cli, args, async (a) => { await cli.client.containerRestart(a, { timeout, signal: o.signal }); }, { sequential: true });
    });
}

export function registerKill(parent: Command, cli: Cli): void {
  parent.command('kill')
    .description('Kill one or more running containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .action(async (args: string[], o: { signal?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      await forEachArg(cli, args, async (a) => { await cli.client.containerKill(a, o.signal); });
    });
}

export function registerRm(parent: Command, cli: Cli, name = 'rm'): void {
  const c = parent.command(name)
    .description('Remove one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-l, --link', 'Remove the specified link')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .action(async (args: string[], o: { force?: boolean; link?: boolean; volumes?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      await forEachArg(cli, args, async (a) => {
        try {
          await cli.client.containerRemove(a, { force: o.force, volumes: o.volumes, link: o.link });
        } catch (e) {
          // docker rm -f of a missing container is not an error
          if (o.force && e instanceof ApiError && e.status === 404) {
            cli.eprintln(errorText(e));
            return '';
          }
          throw e;
        }
      });
    });
  if (name === 'rm') c.alias('remove');
}

export function registerRename(parent: Command, cli: Cli): void {
  parent.command('rename')
    .description('Rename a container')
    .usage('CONTAINER NEW_NAME')
    .argument('[args...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      requireArgs(cmd, args, 2, 2);
      const [oldName, newName] = args.map((s) => s.trim());
      if (!newName) throw new StatusError(1, 'Error: Neither old nor new names may be empty');
      try {
        await cli.client.containerRename(oldName, newName);
      } catch (e) {
        throw new StatusError(1, `${errorText(e)}\nError: failed to rename container named ${oldName}`);
      }
    });
}

export function registerPause(parent: Command, cli: Cli): void {
  for (const [name, desc] of [['pause', 'Pause all processes within one or more containers'], ['unpause', 'Unpause all processes within one or more containers']]) {
    parent.command(name)
      .description(desc)
      .usage('CONTAINER [CONTAINER...]')
      .argument('[containers...]')
      .action(async (args: string[], _o: unknown, cmd: Command) => {
        requireArgs(cmd, args, 1);
        await forEachArg(cli, args, async (a) => {
          if (name === 'pause') await cli.client.containerPause(a);
          else await cli.client.containerUnpause(a);
        });
      });
  }
}

export function registerWait(parent: Command, cli: Cli): void {
  parent.command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .usage('CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      requireArgs(cmd, args, 1);
      await forEachArg(cli, args, async (a) => {
        const w = await cli.client.containerWait(a);
        const r = await w.result;
        return String(r.StatusCode);
      });
    });
}

export { collect };
