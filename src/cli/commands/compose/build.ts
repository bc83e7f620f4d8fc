// berth compose build: the services with a build section, through POST /build.
import { Command, Option } from 'commander';
import { Cli, collect, StatusError } from '../../cli';
import { buildServices, pushServices } from '../../../compose/project/images';
import { selectServices } from '../../../compose/project/up';
import { withProject } from './index';
import { withEngine } from './engine';

interface BuildFlags {
  buildArg?: string[]; cache?: boolean; pull?: boolean; quiet?: boolean; withDependencies?: boolean; push?: boolean;
  builder?: string; ssh?: string; memory?: string; progress?: string; parallel?: boolean; compress?: boolean; forceRm?: boolean; rm?: boolean;
}

/** compose's flags of buildx that the classic builder has no use for are refused; its deprecated ones are noted, as compose ignores them. */
function buildFlagChecks(o: BuildFlags, cmd: Command, warn: (m: string) => void): void {
  const builder = o.builder ?? process.env.BUILDX_BUILDER;
  if (builder && builder !== 'default') throw new StatusError(1, `berth compose build: --builder ${builder} is not supported (berthd has one builder, "default")`);
  if (o.ssh !== undefined) throw new StatusError(1, 'berth compose build: --ssh is not supported');
  if (o.memory !== undefined) throw new StatusError(1, 'berth compose build: --memory is not supported');
  for (const [flag, given] of [['--parallel', o.parallel], ['--compress', o.compress], ['--force-rm', o.forceRm], ['--no-rm', o.rm === false]] as const) {
    if (given) warn(`WARN[0000] option '${flag}' is DEPRECATED and ignored, as docker compose does`);
  }
  if (o.progress) {
    warn('--progress is a global compose flag, better use `docker compose --progress xx build ...');
    composeOf(cmd).setOptionValue('progress', o.progress);
  }
}

function composeOf(cmd: Command): Command {
  return cmd.parent ?? cmd;
}

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
    .option('--push', 'Push service images')
    .option('--builder <string>', 'Set builder to use')
    .option('--ssh <string>', 'Set SSH authentications used when building service images. (use \'default\' for using your default SSH Agent)')
    .option('-m, --memory <bytes>', 'Set memory limit for the build container. Not supported by BuildKit.')
    .addOption(new Option('--progress <string>', 'Set type of ui output').choices(['auto', 'tty', 'plain', 'quiet']).hideHelp())
    .addOption(new Option('--parallel', 'Build images in parallel. DEPRECATED').hideHelp())
    .addOption(new Option('--compress', 'Compress the build context using gzip. DEPRECATED').hideHelp())
    .addOption(new Option('--force-rm', 'Always remove intermediate containers. DEPRECATED').hideHelp())
    .addOption(new Option('--no-rm', 'Do not remove intermediate containers after a successful build. DEPRECATED').hideHelp())
    .action(async (services: string[], o: BuildFlags, cmd: Command) => {
      buildFlagChecks(o, cmd, (m) => cli.eprintln(m));
      const project = await withProject(cmd, cli, { services });
      const args: Record<string, string> = {};
      for (const a of o.buildArg ?? []) {
        const i = a.indexOf('=');
        if (i === 0) throw new StatusError(1, `invalid build arg "${a}"`);
        if (i < 0) { if (process.env[a] !== undefined) args[a] = process.env[a]!; } else args[a.slice(0, i)] = a.slice(i + 1);
      }
      const selected = selectServices(project, services, !o.withDependencies);
      await withEngine(cmd, cli, async (s) => {
        await buildServices(s.ctx, s.tools, project, selected, { noCache: o.cache === false, pull: o.pull, args, quiet: o.quiet });
        if (o.push) await pushServices(s.ctx, s.tools, project, selected, { quiet: o.quiet });
      }, { title: 'Building' });
    });
}
