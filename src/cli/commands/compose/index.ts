// berth compose: the command group, compose v2's global flags, and withProject, which the
// subcommands use to load the project those flags describe.
import { Command, Option } from 'commander';
import { Cli, collect } from '../../cli';
import { loadProject, LoadOptions } from '../../../compose/load';
import type { Project } from '../../../compose/model';
import * as config from './config';
import * as up from './up';
import * as down from './down';
import * as lifecycle from './lifecycle';
import * as build from './build';
import * as pull from './pull';
import * as push from './push';

/** The flags of `berth compose` itself (before the subcommand). */
export interface ComposeGlobalOptions {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
  /** --parallel: how many engine calls at once; -1 unlimited */
  parallel: number;
  progress: 'auto' | 'tty' | 'plain' | 'quiet';
  ansi: 'never' | 'always' | 'auto';
}

/** The `compose` command above `cmd` (or `cmd` itself). */
function composeCommand(cmd: Command): Command {
  for (let c: Command | null = cmd; c; c = c.parent) if (c.name() === 'compose' && c.parent) return c;
  return cmd;
}

export function composeGlobals(cmd: Command): ComposeGlobalOptions {
  const o = composeCommand(cmd).opts() as Record<string, unknown>;
  const env = process.env;
  return {
    file: o.file as string[] | undefined,
    projectName: o.projectName as string | undefined,
    projectDirectory: o.projectDirectory as string | undefined,
    envFile: o.envFile as string[] | undefined,
    profile: o.profile as string[] | undefined,
    parallel: o.parallel !== undefined ? Number(o.parallel) : env.COMPOSE_PARALLEL_LIMIT ? Number(env.COMPOSE_PARALLEL_LIMIT) : -1,
    progress: (o.progress as ComposeGlobalOptions['progress']) ?? 'auto',
    ansi: (o.ansi as ComposeGlobalOptions['ansi']) ?? 'auto',
  };
}

/** What a subcommand may add to the loading: the services it names (their profiles become active), no interpolation. */
export type ProjectRequest = Pick<LoadOptions, 'services' | 'interpolate'>;

/** The project the compose flags (and the environment) describe; warnings go to stderr as compose prints them. */
export async function withProject(cmd: Command, cli: Cli, req: ProjectRequest = {}): Promise<Project> {
  const g = composeGlobals(cmd);
  return loadProject({
    files: g.file,
    projectName: g.projectName,
    projectDirectory: g.projectDirectory,
    envFiles: g.envFile,
    profiles: g.profile,
    ...req,
    warn: (m) => cli.eprintln(`WARN[0000] ${m}`),
  });
}

export function register(program: Command, cli: Cli): Command {
  const compose = program.command('compose')
    .description('Define and run multi-container applications with Docker')
    .usage('[OPTIONS] COMMAND')
    .option('-f, --file <stringArray>', 'Compose configuration files', collect)
    .option('-p, --project-name <string>', 'Project name')
    .option('--project-directory <string>', 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)')
    .option('--env-file <stringArray>', 'Specify an alternate environment file', collect)
    .option('--profile <stringArray>', 'Specify a profile to enable', collect)
    .option('--parallel <int>', 'Control max parallelism, -1 for unlimited', '-1')
    .addOption(new Option('--progress <string>', 'Set type of progress output').choices(['auto', 'tty', 'plain', 'quiet']).default('auto'))
    .addOption(new Option('--ansi <string>', 'Control when to print ANSI control characters').choices(['never', 'always', 'auto']).default('auto'));
  compose.action(() => { compose.outputHelp(); });

  // one line per subcommand file
  config.register(compose, cli);
  up.registerUp(compose, cli);
  up.registerCreate(compose, cli);
  down.register(compose, cli);
  lifecycle.registerStart(compose, cli);
  lifecycle.registerStop(compose, cli);
  lifecycle.registerRestart(compose, cli);
  lifecycle.registerKill(compose, cli);
  lifecycle.registerRm(compose, cli);
  lifecycle.registerPause(compose, cli);
  lifecycle.registerUnpause(compose, cli);
  build.register(compose, cli);
  pull.register(compose, cli);
  push.register(compose, cli);
  return compose;
}
