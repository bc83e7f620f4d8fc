// berth compose pull: the images of the services (build-only ones skipped).
import { Command } from 'commander';
import { Cli } from '../../cli';
import { pullServices } from '../../../compose/project/images';
import { selectServices } from '../../../compose/project/up';
import { withProject } from './index';
import { withEngine } from './engine';

export function register(compose: Command, cli: Cli): void {
  compose.command('pull')
    .description('Pull service images')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--ignore-buildable', 'Ignore images that can be built')
    .option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures')
    .option('--include-deps', 'Also pull services declared as dependencies')
    .option('-q, --quiet', 'Pull without printing progress information')
    .action(async (services: string[], o: { ignoreBuildable?: boolean; ignorePullFailures?: boolean; includeDeps?: boolean; quiet?: boolean }, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      const selected = selectServices(project, services, !o.includeDeps);
      await withEngine(cmd, cli, (s) => pullServices(s.ctx, s.tools, project, selected, o), { quiet: o.quiet });
    });
}
