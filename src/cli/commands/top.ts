// berth top
import { Command } from 'commander';
import { Cli, requireArgs } from '../cli';
import { tabwrite } from '../format/tabwriter';

export function register(parent: Command, cli: Cli): void {
  parent.command('top')
    .description('Display the running processes of a container')
    .usage('CONTAINER [ps OPTIONS]')
    .argument('[args...]')
    .passThroughOptions()
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      requireArgs(cmd, args, 1);
      const r = await cli.client.containerTop(args[0], args.slice(1).join(' '));
      let text = (r.Titles ?? []).join('\t') + '\n';
      for (const p of r.Processes ?? []) text += p.join('\t') + '\n';
      cli.print(tabwrite(text, { minwidth: 20, padding: 3 }));
    });
}
