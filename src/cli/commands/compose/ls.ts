// berth compose ls: the projects on the engine, from their containers' labels.
import { listProjects, ProjectSummary } from '../../../compose/query/projects';
import type { Command } from 'commander';
import { Cli, collect, parseFilters, requireArgs, StatusError } from '../../cli';
import { printComposeList } from './version';

export function filterProjects(projects: ProjectSummary[], filters: Record<string, string[]>): ProjectSummary[] {
  for (const k of Object.keys(filters)) if (k !== 'name') throw new StatusError(1, `invalid filter '${k}'`);
  const names = filters.name;
  // docker's filters.Match: each value is a regular expression searched in the name
  return names ? projects.filter((p) => names.some((re) => new RegExp(re).test(p.name))) : projects;
}

export async function composeLs(cli: Cli, o: { all?: boolean; quiet?: boolean; format?: string; filter?: string[] }): Promise<void> {
  const projects = filterProjects(await listProjects(cli.client, { all: o.all }), parseFilters(o.filter));
  if (o.quiet) {
    cli.print(projects.map((p) => p.name + '\n').join(''));
    return;
  }
  const view = projects.map((p) => ({ Name: p.name, Status: p.status, ConfigFiles: p.configFiles }));
  printComposeList(cli, o.format, view, ['NAME', 'STATUS', 'CONFIG FILES'], view.map((v) => [v.Name, v.Status, v.ConfigFiles]));
}

export function register(compose: Command, cli: Cli): void {
  compose.command('ls')
    .description('List running compose projects')
    .usage('[OPTIONS]')
    .argument('[args...]')
    .option('-a, --all', 'Show all stopped Compose projects')
    .option('--filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format the output. Values: [table | json]', 'table')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (args: string[], o: { all?: boolean; quiet?: boolean; format?: string; filter?: string[] }, cmd: Command) => {
      requireArgs(cmd, args, 0, 0);
      await composeLs(cli, o);
    });
}
