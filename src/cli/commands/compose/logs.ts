// berth compose logs: every container's log behind its `name  | ` prefix (coloured on a terminal).
import type { Command } from 'commander';
import type { Project } from '../../../compose/model';
import { LogPrefixer, useColor } from '../../../compose/progress/logprefix';
import { projectLogs } from '../../../compose/query/logs';
import { Cli, parseIntFlag, sinceUntil, StatusError } from '../../cli';
import { composeGlobals } from './index';
import { projectOrName } from './target';

export interface ComposeLogsOptions {
  follow?: boolean; timestamps?: boolean; tail?: string; since?: string; until?: string;
  color?: boolean; logPrefix?: boolean; index?: number;
  /** compose's --ansi */
  ansi?: 'never' | 'always' | 'auto';
}

export async function composeLogs(cli: Cli, name: string, project: Project | undefined, services: string[], o: ComposeLogsOptions): Promise<void> {
  if (project) {
    for (const s of services) if (!project.services[s]) throw new StatusError(1, `no such service: ${s}`);
    // with a file, only the services it declares (attach: false ones only when named)
    if (services.length === 0) services = Object.values(project.services).filter((s) => s.attach !== false).map((s) => s.name);
  }
  const { since, until } = sinceUntil(o);
  const out = cli.out as NodeJS.WriteStream;
  const consumer = new LogPrefixer({ out, err: cli.err, color: useColor(out, { noColor: o.color === false, ansi: o.ansi }), prefix: o.logPrefix !== false });
  await projectLogs(cli.client, name, consumer, {
    services, index: o.index, follow: o.follow, tail: o.tail ?? 'all', since, until, timestamps: o.timestamps,
  });
}

export function register(compose: Command, cli: Cli): void {
  compose.command('logs')
    .description('View output from containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('-f, --follow', 'Follow log output')
    .option('--index <int>', 'index of the container if service has multiple replicas', parseIntFlag('--index'), 0)
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--since <string>', 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs for each container', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <string>', 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .action(async (services: string[], o: ComposeLogsOptions, cmd: Command) => {
      if (o.index && o.index > 0 && services.length !== 1) throw new StatusError(1, '--index requires one service to be selected');
      const t = await projectOrName(cmd, cli, services);
      await composeLogs(cli, t.name, t.project, services, { ...o, ansi: composeGlobals(cmd).ansi });
    });
}
