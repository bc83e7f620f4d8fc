// berth ps / container ls
import { Command } from 'commander';
import { Cli, collect, parseFilters, parseIntFlag, requireArgs } from '../cli';
import { renderFormat, normalizeFormat } from '../format/formatter';
import { ContainerContext, CONTAINER_HEADERS, DEFAULT_PS_FORMAT } from '../format/contexts';

interface PsOptions {
  all?: boolean; quiet?: boolean; last?: number; latest?: boolean; filter?: string[]; format?: string; trunc?: boolean; size?: boolean;
}

export function register(parent: Command, cli: Cli, name = 'ps'): Command {
  return parent.command(name)
    .description('List containers')
    .usage('[OPTIONS]')
    .argument('[args...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('-n, --last <int>', 'Show n last created containers (includes all states)', parseIntFlag('-n, --last'), -1)
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs')
    .option('-s, --size', 'Display total file sizes')
    .action(async (args: string[], o: PsOptions, cmd: Command) => {
      requireArgs(cmd, args, 0, 0);
      let format = o.quiet ? '{{.ID}}' : normalizeFormat(o.format, DEFAULT_PS_FORMAT);
      let size = !!o.size;
      if (o.format && !o.quiet && format.includes('.Size')) size = true;
      if (size && !o.format && !o.quiet) format += '\t{{.Size}}';
      let limit = o.last ?? -1;
      if (o.latest && limit === -1) limit = 1;
      const list = await cli.client.containerList({ all: !!o.all, limit: limit > 0 ? limit : undefined, size, filters: parseFilters(o.filter) });
      const now = Date.now();
      const trunc = o.trunc !== false;
      cli.print(renderFormat(format, list.map((c) => new ContainerContext(c, trunc, now)), CONTAINER_HEADERS));
    });
}
