// berth compose version: the compose v2 version berth's compose is compatible with. Also compose's
// formatter.Print, which version, images and ls share: a table (min width 20) or JSON.
import { COMPOSE_VERSION } from '../../../compose/model';
import type { Command } from 'commander';
import { Cli, requireArgs, StatusError } from '../../cli';
import { tabwrite } from '../../format/tabwriter';

export function composeVersion(cli: Cli, o: { short?: boolean; format?: string }): void {
  if (o.short) cli.println(COMPOSE_VERSION);
  else if (o.format === 'json') cli.println(JSON.stringify({ version: `v${COMPOSE_VERSION}` }));
  else if (o.format && o.format !== 'pretty') throw new StatusError(1, `format value "${o.format}" could not be parsed: parsing failed`);
  else cli.println(`Docker Compose version v${COMPOSE_VERSION}`);
}

/** compose's formatter.Print: "table" (or "pretty", "") a table, "json" one JSON array, "{{json .}}" one object a line. */
export function printComposeList(cli: Cli, format: string | undefined, items: object[], headers: string[], rows: string[][]): void {
  switch ((format ?? 'table').toLowerCase()) {
    case 'table': case 'pretty': case '':
      cli.print(tabwrite([headers.join('\t'), ...rows.map((r) => r.join('\t'))].join('\n') + '\n', { minwidth: 20, padding: 3 }));
      return;
    case '{{json .}}':
      cli.print(items.map((i) => JSON.stringify(i) + '\n').join(''));
      return;
    case 'json':
      cli.println(JSON.stringify(items));
      return;
    default:
      throw new StatusError(1, `format value "${format}" could not be parsed: parsing failed`);
  }
}

export function register(compose: Command, cli: Cli): void {
  compose.command('version')
    .description('Show the Docker Compose version information')
    .usage('[OPTIONS]')
    .argument('[args...]')
    .option('-f, --format <string>', 'Format the output. Values: [pretty | json]. (Default: pretty)')
    .option('--short', "Shows only Compose's version number")
    .action((args: string[], o: { short?: boolean; format?: string }, cmd: Command) => {
      requireArgs(cmd, args, 0, 0);
      composeVersion(cli, o);
    });
}
