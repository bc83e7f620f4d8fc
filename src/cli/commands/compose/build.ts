// berth compose build: the services with a build section, through POST /build.
import { Command } from 'commander';
import { Cli, collect, StatusError } from '../../cli';
import { buildServices } from '../../../compose/project/images';
import { selectServices } from '../../../compose/project/up';
import { withProject } from './index';
import { withEngine } from './engine';

export function register(compose: Command, cli: Cli): void {
  compose.command('build')
    .description('Build or rebuild services')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--build-arg <stringArray>', 'Set build-time variables for services', collect)
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', 'Don\'t print anything to STDOUT')
    .option('--with-dependencies', 'Also build dependencies (transitively)')
    .action(async (services: string[], o: { buildArg?: string[]; cache?: boolean; pull?: boolean; quiet?: boolean; withDependencies?: boolean }, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      const args: Record<string, string> = {};
      for (const a of o.buildArg ?? []) {
        const i = a.indexOf('=');
        if (i === 0) throw new StatusError(1, `invalid build arg "${a}"`);
        if (i < 0) { if (process.env[a] !== undefined) args[a] = process.env[a]!; } else args[a.slice(0, i)] = a.slice(i + 1);
      }
      const selected = selectServices(project, services, !o.withDependencies);
      await withEngine(cmd, cli, (s) => buildServices(s.ctx, s.tools, project, selected, { noCache: o.cache === false, pull: o.pull, args, quiet: o.quiet }), { title: 'Building' });
    });
}
