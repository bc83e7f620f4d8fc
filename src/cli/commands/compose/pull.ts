// berth compose pull: the images of the services (build-only ones skipped).
import { Command, Option } from 'commander';
import { Cli, StatusError } from '../../cli';
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
    .addOption(new Option('--policy <string>', 'Apply pull policy ("missing"|"always")'))
    .addOption(new Option('--parallel', 'DEPRECATED pull multiple images in parallel').hideHelp())
    .addOption(new Option('--no-parallel', 'DEPRECATED disable parallel pulling').hideHelp())
    .action(async (services: string[], o: { ignoreBuildable?: boolean; ignorePullFailures?: boolean; includeDeps?: boolean; quiet?: boolean; policy?: string; parallel?: boolean }, cmd: Command) => {
      if (o.parallel === false) cli.eprintln("option '--no-parallel' is DEPRECATED and will be ignored.");
      if (o.policy !== undefined && o.policy !== 'missing' && o.policy !== 'always') throw new StatusError(1, `invalid pull policy "${o.policy}"`);
      const project = await withProject(cmd, cli, { services });
      const selected = selectServices(project, services, !o.includeDeps);
      await withEngine(cmd, cli, (s) => pullServices(s.ctx, s.tools, project, selected, { ...o, missingOnly: o.policy === 'missing' }), { quiet: o.quiet });
    });
}
