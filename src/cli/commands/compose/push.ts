// berth compose push: the images of services that are built and named.
import { Command } from 'commander';
import { Cli } from '../../cli';
import { pushServices } from '../../../compose/project/images';
import { selectServices } from '../../../compose/project/up';
import { withProject } from './index';
import { withEngine } from './engine';

export function register(compose: Command, cli: Cli): void {
  compose.command('push')
    .description('Push service images')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--ignore-push-failures', 'Push what it can and ignores images with push failures')
    .option('--include-deps', 'Also push images of services declared as dependencies')
    .option('-q, --quiet', 'Push without printing progress information')
    .action(async (services: string[], o: { ignorePushFailures?: boolean; includeDeps?: boolean; quiet?: boolean }, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      const selected = selectServices(project, services, !o.includeDeps);
      await withEngine(cmd, cli, (s) => pushServices(s.ctx, s.tools, project, selected, o), { quiet: o.quiet });
    });
}
