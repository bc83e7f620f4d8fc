// berth compose: the command group, compose v2's global flags, and withProject, which the
// subcommands use to load the project those flags describe.
import { Command, Option } from 'commander';
import { Cli, collect, PROG, StatusError } from '../../cli';
import { loadProject, LoadOptions } from '../../../compose/load';
import type { Project } from '../../../compose/model';
import { addCommands, type CommandEntry } from '../../commandtable';

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
  /** --all-resources: every network and volume of the file, used by a service or not */
  allResources: boolean;
  /** --dry-run: the engine's writes only pretend (compose/project/dryrun.ts) */
  dryRun: boolean;
}

/** The subcommands a dry run cannot pretend: they run a process in a container. */
const NO_DRY_RUN = new Set(['exec']);

/** compose's global flags berth does not apply: refused by name. */
function refuseUnsupportedGlobals(o: Record<string, unknown>, env: NodeJS.ProcessEnv, subcommand: string): void {
  if (o.dryRun && NO_DRY_RUN.has(subcommand)) throw new StatusError(1, `${PROG} compose ${subcommand}: --dry-run is not supported`);
  if (o.compatibility || /^(1|t|true)$/i.test(env.COMPOSE_COMPATIBILITY ?? '')) throw new StatusError(1, `${PROG} compose: --compatibility (COMPOSE_COMPATIBILITY) is not supported (compose v1's container names with "_")`);
  if (o.verbose) throw new StatusError(1, `${PROG} compose: --verbose is not supported`);
}

/** compose's deprecated spellings: --no-ansi is --ansi never, --workdir is --project-directory (each with compose's notice). */
function deprecatedGlobals(o: Record<string, unknown>, warn: (m: string) => void = () => undefined): { ansi?: 'never'; projectDirectory?: string } {
  const out: { ansi?: 'never'; projectDirectory?: string } = {};
  if (o.noAnsi) {
    if (o.ansi !== undefined && o.ansi !== 'auto') throw new StatusError(1, 'cannot specify DEPRECATED "--no-ansi" and "--ansi". Please use only "--ansi"');
    out.ansi = 'never';
    warn("option '--no-ansi' is DEPRECATED ! Please use '--ansi' instead.");
  }
  if (o.workdir !== undefined) {
    if (o.projectDirectory !== undefined) throw new StatusError(1, 'cannot specify DEPRECATED "--workdir" and "--project-directory". Please use only "--project-directory" instead');
    out.projectDirectory = o.workdir as string;
    warn("option '--workdir' is DEPRECATED at root level! Please use '--project-directory' instead.");
  }
  return out;
}

/**
 * A flag of compose's that starts with --no- but negates nothing (--no-attach SERVICE, --no-ansi):
 * commander would read any `--no-x` as x = false, so this one keeps its own name (noX).
 */
export function literalNoOption(flags: string, description: string): Option {
  const opt = new Option(flags, description);
  const name = opt.long!.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  opt.negate = false;
  opt.attributeName = () => name;
  return opt;
}

/** The `compose` command above `cmd` (or `cmd` itself). */
function composeCommand(cmd: Command): Command {
  for (let c: Command | null = cmd; c; c = c.parent) if (c.name() === 'compose' && c.parent) return c;
  return cmd;
}

export function composeGlobals(cmd: Command): ComposeGlobalOptions {
  const o = composeCommand(cmd).opts() as Record<string, unknown>;
  const env = process.env;
  const dep = deprecatedGlobals(o);
  return {
    file: o.file as string[] | undefined,
    projectName: o.projectName as string | undefined,
    projectDirectory: (o.projectDirectory as string | undefined) ?? dep.projectDirectory,
    // COMPOSE_ENV_FILES: comma-separated, the default of --env-file
    envFile: (o.envFile as string[] | undefined) ?? (env.COMPOSE_ENV_FILES ? env.COMPOSE_ENV_FILES.split(',').filter(Boolean) : undefined),
    profile: o.profile as string[] | undefined,
    parallel: o.parallel !== undefined ? Number(o.parallel) : env.COMPOSE_PARALLEL_LIMIT ? Number(env.COMPOSE_PARALLEL_LIMIT) : -1,
    progress: (o.progress as ComposeGlobalOptions['progress']) ?? 'auto',
    ansi: dep.ansi ?? (o.ansi as ComposeGlobalOptions['ansi']) ?? 'auto',
    allResources: !!o.allResources,
    dryRun: !!o.dryRun,
  };
}

/** What a subcommand may add to the loading: the services it names (their profiles become active), no interpolation, profiles of its own. */
export type ProjectRequest = Pick<LoadOptions, 'services' | 'interpolate' | 'profiles'>;

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

// each subcommand's module is required when it is added (a run adds the one it names)
const sub = {
  config: (): typeof import('./config') => require('./config'),
  ps: (): typeof import('./ps') => require('./ps'),
  logs: (): typeof import('./logs') => require('./logs'),
  exec: (): typeof import('./exec') => require('./exec'),
  top: (): typeof import('./top') => require('./top'),
  port: (): typeof import('./port') => require('./port'),
  images: (): typeof import('./images') => require('./images'),
  events: (): typeof import('./events') => require('./events'),
  ls: (): typeof import('./ls') => require('./ls'),
  version: (): typeof import('./version') => require('./version'),
  up: (): typeof import('./up') => require('./up'),
  down: (): typeof import('./down') => require('./down'),
  lifecycle: (): typeof import('./lifecycle') => require('./lifecycle'),
  build: (): typeof import('./build') => require('./build'),
  pull: (): typeof import('./pull') => require('./pull'),
  push: (): typeof import('./push') => require('./push'),
  run: (): typeof import('./run') => require('./run'),
};

/** compose's subcommands, in the order `berth compose --help` lists them. */
export const SUBCOMMANDS: readonly CommandEntry[] = [
  { names: ['config'], add: (p, cli) => sub.config().register(p, cli) },
  { names: ['ps'], add: (p, cli) => sub.ps().register(p, cli) },
  { names: ['logs'], add: (p, cli) => sub.logs().register(p, cli) },
  { names: ['exec'], add: (p, cli) => sub.exec().register(p, cli) },
  { names: ['top'], add: (p, cli) => sub.top().register(p, cli) },
  { names: ['port'], add: (p, cli) => sub.port().register(p, cli) },
  { names: ['images'], add: (p, cli) => sub.images().register(p, cli) },
  { names: ['events'], add: (p, cli) => sub.events().register(p, cli) },
  { names: ['ls'], add: (p, cli) => sub.ls().register(p, cli) },
  { names: ['version'], add: (p, cli) => sub.version().register(p, cli) },
  { names: ['up'], add: (p, cli) => sub.up().registerUp(p, cli) },
  { names: ['create'], add: (p, cli) => sub.up().registerCreate(p, cli) },
  { names: ['watch'], add: (p, cli) => sub.up().registerWatch(p, cli) },
  { names: ['down'], add: (p, cli) => sub.down().register(p, cli) },
  { names: ['start'], add: (p, cli) => sub.lifecycle().registerStart(p, cli) },
  { names: ['stop'], add: (p, cli) => sub.lifecycle().registerStop(p, cli) },
  { names: ['restart'], add: (p, cli) => sub.lifecycle().registerRestart(p, cli) },
  { names: ['kill'], add: (p, cli) => sub.lifecycle().registerKill(p, cli) },
  { names: ['rm'], add: (p, cli) => sub.lifecycle().registerRm(p, cli) },
  { names: ['pause'], add: (p, cli) => sub.lifecycle().registerPause(p, cli) },
  { names: ['unpause'], add: (p, cli) => sub.lifecycle().registerUnpause(p, cli) },
  { names: ['build'], add: (p, cli) => sub.build().register(p, cli) },
  { names: ['pull'], add: (p, cli) => sub.pull().register(p, cli) },
  { names: ['push'], add: (p, cli) => sub.push().register(p, cli) },
  { names: ['run'], add: (p, cli) => sub.run().register(p, cli) },
];

/** `compose` with the subcommand `words[0]` names (every subcommand when it names none, for help). */
export function register(program: Command, cli: Cli, words: readonly string[] = []): Command {
  const compose = program.command('compose')
    .description('Define and run multi-container applications with Docker')
    .usage('[OPTIONS] COMMAND')
    .enablePositionalOptions() // exec and run pass the options after the service to the command
    .option('-f, --file <stringArray>', 'Compose configuration files', collect)
    .option('-p, --project-name <string>', 'Project name')
    .option('--project-directory <string>', 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)')
    .option('--env-file <stringArray>', 'Specify an alternate environment file', collect)
    .option('--profile <stringArray>', 'Specify a profile to enable', collect)
    .option('--parallel <int>', 'Control max parallelism, -1 for unlimited', '-1')
    .addOption(new Option('--progress <string>', 'Set type of progress output').choices(['auto', 'tty', 'plain', 'quiet']).default('auto'))
    .addOption(new Option('--ansi <string>', 'Control when to print ANSI control characters').choices(['never', 'always', 'auto']).default('auto'))
    .option('--compatibility', 'Run compose in backward compatibility mode')
    .option('--all-resources', 'Include all resources, even those not used by services')
    .option('--dry-run', 'Execute command in dry run mode')
    .addOption(new Option('--workdir <string>', 'DEPRECATED! USE --project-directory INSTEAD.').hideHelp())
    .addOption(literalNoOption('--no-ansi', 'Do not print ANSI control characters (DEPRECATED)').hideHelp())
    .addOption(new Option('--verbose', 'Show more output').hideHelp())
    .addOption(new Option('-v, --version', 'Show the Docker Compose version information').hideHelp());
  compose.argument('[command]').action(async (command: string | undefined, o: { version?: boolean }) => {
    if (o.version) { sub.version().composeVersion(cli, {}); return; }
    if (command !== undefined) throw new StatusError(1, `${PROG}: unknown command: ${PROG} compose ${command}\n\nRun '${PROG} compose --help' for more information`);
    compose.outputHelp();
  });

  // before any subcommand: what berth refuses, compose's deprecation notices
  compose.hook('preAction', (_self, action) => {
    // --dry-run is persistent in compose (cobra): after the subcommand it means the same
    if (action.opts().dryRun) compose.setOptionValue('dryRun', true);
    const o = compose.opts() as Record<string, unknown>;
    refuseUnsupportedGlobals(o, process.env, action.name());
    deprecatedGlobals(o, (m) => cli.eprintln(m));
  });

  addCommands(compose, SUBCOMMANDS, cli, words);
  // compose's only persistent flag: accepted after the subcommand too (the other globals are not, as in compose)
  for (const c of compose.commands) c.addOption(new Option('--dry-run', 'Execute command in dry run mode'));
  return compose;
}
