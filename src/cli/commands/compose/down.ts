// berth compose down: containers, networks; -v volumes, --rmi images; compose v2's flags.
import { Command } from 'commander';
import { Cli, StatusError } from '../../cli';
import { downProject } from '../../../compose/project/down';
import { withProject } from './index';
import { intFlag, withEngine } from './engine';

export function register(compose: Command, cli: Cli): void {
  compose.command('down')
    .description('Stop and remove containers, networks')
    .usage('[OPTIONS] [SERVICES]')
    .argument('[services...]')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--rmi <string>', 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")')
    .option('-t, --timeout <int>', 'Specify a shutdown timeout in seconds', intFlag('--timeout'))
    .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers')
    .action(async (services: string[], o: { removeOrphans?: boolean; rmi?: string; timeout?: number; volumes?: boolean }, cmd: Command) => {
      if (o.rmi !== undefined && o.rmi !== 'local' && o.rmi !== 'all') throw new StatusError(1, `invalid --rmi option "${o.rmi}"`);
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, (s) => downProject(s.ctx, project, {
        services, volumes: o.volumes, rmi: o.rmi as 'local' | 'all' | undefined, removeOrphans: o.removeOrphans, timeout: o.timeout,
      }));
    });
}
