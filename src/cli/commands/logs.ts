// berth logs
import { Command } from 'commander';
import { pipeOutput } from '../../client/stream';
import { Cli, requireArgs, sinceUntil } from '../cli';
import type { Writable } from 'node:stream';

interface LogsOpts { follow?: boolean; timestamps?: boolean; tail?: string; since?: string; until?: string; details?: boolean }

export function register(parent: Command, cli: Cli): void {
  parent.command('logs')
    .description('Fetch the logs of a container')
    .usage('[OPTIONS] CONTAINER')
    .argument('[args...]')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .action(async (args: string[], o: LogsOpts, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      const c = await cli.client.containerInspect(args[0]);
      const { since, until } = sinceUntil(o);
      const res = await cli.client.containerLogs(c.Id, {
        follow: o.follow, timestamps: o.timestamps, tail: o.tail ?? 'all', since, until, details: o.details, stdout: true, stderr: true,
      });
      await pipeOutput(res, cli.out as Writable, cli.err as Writable, !!c.Config.Tty);
    });
}
