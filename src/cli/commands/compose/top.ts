// berth compose top: each running container's processes under its name, compose v2's layout.
import { byName, canonicalName, projectContainers } from '../../../compose/query/containers';
import type { Command } from 'commander';
import { Cli } from '../../cli';
import { tabwrite } from '../../format/tabwriter';
import { projectName } from './target';

export async function composeTop(cli: Cli, name: string, services: string[]): Promise<void> {
  const list = (await projectContainers(cli.client, name, { oneOff: 'include', services })).sort(byName);
  const tops = await Promise.all(list.map((c) => cli.client.containerTop(c.Id)));
  let out = '';
  list.forEach((c, i) => {
    out += canonicalName(c) + '\n';
    // every process cell is tab-terminated, the header's last one is not: Go's tabwriter pads accordingly
    let table = (tops[i].Titles ?? []).join('\t') + '\n';
    for (const p of tops[i].Processes ?? []) table += p.map((cell) => cell + '\t').join('') + '\n';
    out += tabwrite(table + '\n', { minwidth: 5, padding: 3 });
  });
  cli.print(out);
}

export function register(compose: Command, cli: Cli): void {
  compose.command('top')
    .description('Display the running processes')
    .usage('[SERVICES...]')
    .argument('[services...]')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      await composeTop(cli, await projectName(cmd, cli), services);
    });
}
