// berth: the command line. Docker's command names, flags, output and exit codes.
import { Command, CommanderError } from 'commander';
import { Cli, errorText, PROG, StatusError } from './cli';
import { ApiError, ConnectionError } from '../client/errors';
import { commandWords, GLOBAL_VALUE_FLAGS } from './words';
import { addCommands, type CommandEntry } from './commandtable';

export { addCommands, type CommandEntry };

/** The boolean long flags, for `--flag=true|false` rewriting. */
export const BOOLEAN_FLAGS = [
  'detach', 'init', 'interactive', 'no-healthcheck', 'oom-kill-disable', 'privileged', 'publish-all', 'quiet', 'read-only',
  'rm', 'tty', 'sig-proxy', 'all', 'force', 'volumes', 'no-trunc', 'quiet', 'latest', 'size', 'digests', 'follow',
  'timestamps', 'no-stream', 'details', 'link', 'no-prune', 'human',
];

/** Rewrite `--flag=true|false` for boolean flags, which commander does not accept. */
export function preprocessArgs(argv: string[]): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const a of argv) {
    if (passthrough) { out.push(a); continue; }
    if (a === '--') { passthrough = true; out.push(a); continue; }
    const m = /^--([a-z][a-z0-9-]*)=(true|false|1|0)$/i.exec(a);
    if (m && BOOLEAN_FLAGS.includes(m[1]) && m[1] !== 'sig-proxy' && m[1] !== 'human') {
      const on = /^(true|1)$/i.test(m[2]);
      if (on) out.push(`--${m[1]}`);
      else if (['trunc', 'stream', 'healthcheck', 'prune', 'stdin'].some((x) => m[1] === `no-${x}`)) { /* --no-x=false: default */ }
      continue;
    }
    out.push(a);
  }
  return out;
}

// Loaders of the modules that several rows use.
const run = (): typeof import('./commands/run') => require('./commands/run');
const lc = (): typeof import('./commands/lifecycle') => require('./commands/lifecycle');
const img = (): typeof import('./commands/imagecmds') => require('./commands/imagecmds');
const inspect = (): typeof import('./commands/inspect') => require('./commands/inspect');
const registry = (): typeof import('./commands/registry') => require('./commands/registry');
const network = (): typeof import('./commands/network') => require('./commands/network');
const sys = (): typeof import('./commands/system') => require('./commands/system');
const ps = (): typeof import('./commands/ps') => require('./commands/ps');
const logs = (): typeof import('./commands/logs') => require('./commands/logs');
const top = (): typeof import('./commands/top') => require('./commands/top');
const stats = (): typeof import('./commands/stats') => require('./commands/stats');
const events = (): typeof import('./commands/events') => require('./commands/events');
const attach = (): typeof import('./commands/attach') => require('./commands/attach');
const images = (): typeof import('./commands/images') => require('./commands/images');
const build = (): typeof import('./commands/build') => require('./commands/build');
const update = (): typeof import('./commands/update') => require('./commands/update');

/** A management group (`berth container ...`): its own table, loaded as lazily as the top level. */
function group(name: string, description: string, table: readonly CommandEntry[]): CommandEntry {
  return {
    names: [name],
    table,
    add(parent, cli, words) {
      const g = parent.command(name).description(description).usage('COMMAND');
      addCommands(g, table, cli, words);
      g.action(() => { g.outputHelp(); });
    },
  };
}

/** The same at the top level and under `container`. */
const LIFECYCLE: readonly CommandEntry[] = [
  { names: ['start'], add: (p, cli) => lc().registerStart(p, cli) },
  { names: ['stop'], add: (p, cli) => lc().registerStop(p, cli) },
  { names: ['restart'], add: (p, cli) => lc().registerRestart(p, cli) },
  { names: ['kill'], add: (p, cli) => lc().registerKill(p, cli) },
  { names: ['rm', 'remove'], add: (p, cli) => lc().registerRm(p, cli) },
  { names: ['rename'], add: (p, cli) => lc().registerRename(p, cli) },
  { names: ['pause', 'unpause'], add: (p, cli) => lc().registerPause(p, cli) },
  { names: ['wait'], add: (p, cli) => lc().registerWait(p, cli) },
];

const CONTAINER_COMMANDS: readonly CommandEntry[] = [
  { names: ['run'], add: (p, cli) => run().registerRun(p, cli) },
  { names: ['create'], add: (p, cli) => run().registerCreate(p, cli) },
  ...LIFECYCLE,
  { names: ['ls', 'ps', 'list'], add: (p, cli) => ps().register(p, cli, 'ls').aliases(['ps', 'list']) },
  { names: ['logs'], add: (p, cli) => logs().register(p, cli) },
  { names: ['inspect'], add: (p, cli) => inspect().registerTyped(p, cli, 'container') },
  { names: ['top'], add: (p, cli) => top().register(p, cli) },
  { names: ['port'], add: (p, cli) => network().registerPort(p, cli) },
  { names: ['stats'], add: (p, cli) => stats().register(p, cli) },
  { names: ['attach'], add: (p, cli) => attach().register(p, cli) },
  { names: ['export'], add: (p, cli) => img().registerExport(p, cli) },
  { names: ['prune'], add: (p, cli) => img().registerContainerPrune(p, cli) },
  { names: ['update'], add: (p, cli) => update().register(p, cli) },
];

const IMAGE_COMMANDS: readonly CommandEntry[] = [
  { names: ['ls', 'list'], add: (p, cli) => images().register(p, cli, 'ls').aliases(['list']) },
  { names: ['inspect'], add: (p, cli) => inspect().registerTyped(p, cli, 'image') },
  { names: ['history'], add: (p, cli) => img().registerHistory(p, cli) },
  { names: ['rm', 'remove'], add: (p, cli) => img().registerRmi(p, cli, 'rm') },
  { names: ['tag'], add: (p, cli) => img().registerTag(p, cli) },
  { names: ['build'], add: (p, cli) => build().register(p, cli) },
  { names: ['import'], add: (p, cli) => img().registerImport(p, cli) },
  { names: ['load'], add: (p, cli) => img().registerLoad(p, cli) },
  { names: ['save'], add: (p, cli) => img().registerSave(p, cli) },
  { names: ['prune'], add: (p, cli) => img().registerImagePrune(p, cli) },
  { names: ['pull'], add: (p, cli) => registry().registerPull(p, cli) },
  { names: ['push'], add: (p, cli) => registry().registerPush(p, cli) },
];

const SYSTEM_COMMANDS: readonly CommandEntry[] = [
  { names: ['info'], add: (p, cli) => sys().registerInfo(p, cli) },
  { names: ['df'], add: (p, cli) => (require('./commands/df') as typeof import('./commands/df')).registerDf(p, cli) },
  { names: ['events'], add: (p, cli) => events().register(p, cli) },
];

/** Every top-level command and group, in the order `berth --help` lists them. One row each. */
export const COMMANDS: readonly CommandEntry[] = [
  { names: ['run'], add: (p, cli) => run().registerRun(p, cli) },
  { names: ['create'], add: (p, cli) => run().registerCreate(p, cli) },
  ...LIFECYCLE,
  { names: ['ps'], add: (p, cli) => ps().register(p, cli) },
  { names: ['logs'], add: (p, cli) => logs().register(p, cli) },
  { names: ['inspect'], add: (p, cli) => inspect().register(p, cli) },
  { names: ['top'], add: (p, cli) => top().register(p, cli) },
  { names: ['cp'], add: (p, cli) => (require('./commands/cp') as typeof import('./commands/cp')).register(p, cli) },
  { names: ['stats'], add: (p, cli) => stats().register(p, cli) },
  { names: ['events'], add: (p, cli) => events().register(p, cli) },
  { names: ['attach'], add: (p, cli) => attach().register(p, cli) },
  { names: ['exec'], add: (p, cli) => (require('./commands/exec') as typeof import('./commands/exec')).register(p, cli) },
  { names: ['export'], add: (p, cli) => img().registerExport(p, cli) },
  { names: ['images'], add: (p, cli) => images().register(p, cli) },
  { names: ['history'], add: (p, cli) => img().registerHistory(p, cli) },
  { names: ['rmi'], add: (p, cli) => img().registerRmi(p, cli, 'rmi') },
  { names: ['tag'], add: (p, cli) => img().registerTag(p, cli) },
  { names: ['import'], add: (p, cli) => img().registerImport(p, cli) },
  { names: ['load'], add: (p, cli) => img().registerLoad(p, cli) },
  { names: ['save'], add: (p, cli) => img().registerSave(p, cli) },
  { names: ['build'], add: (p, cli) => build().register(p, cli) },
  { names: ['version'], add: (p, cli) => sys().registerVersion(p, cli) },
  { names: ['info'], add: (p, cli) => sys().registerInfo(p, cli) },
  { names: ['pull'], add: (p, cli) => registry().registerPull(p, cli) },
  { names: ['push'], add: (p, cli) => registry().registerPush(p, cli) },
  { names: ['login'], add: (p, cli) => registry().registerLogin(p, cli) },
  { names: ['logout'], add: (p, cli) => registry().registerLogout(p, cli) },
  { names: ['network'], add: (p, cli) => network().register(p, cli) },
  { names: ['port'], add: (p, cli) => network().registerPort(p, cli) },
  group('container', 'Manage containers', CONTAINER_COMMANDS),
  { names: ['update'], add: (p, cli) => update().register(p, cli) },
  group('image', 'Manage images', IMAGE_COMMANDS),
  { names: ['volume'], add: (p, cli) => (require('./commands/volumes') as typeof import('./commands/volumes')).register(p, cli) },
  group('system', 'Manage Docker', SYSTEM_COMMANDS),
  { names: ['compose'], add: (p, cli, words) => (require('./commands/compose') as typeof import('./commands/compose')).register(p, cli, words) },
  { names: ['registry'], add: (p, cli) => (require('./commands/registryserver') as typeof import('./commands/registryserver')).register(p, cli) },
];

/** The whole CLI; with `argv`, only the commands it names are added (the rest are never loaded). */
export function buildProgram(cli: Cli, argv?: readonly string[]): Command {
  const program = new Command(PROG);
  program
    .description('A self-sufficient runtime for containers')
    .usage('[OPTIONS] COMMAND')
    .enablePositionalOptions()
    .helpOption('-h, --help', 'Print usage')
    .option('-H, --host <string>', 'Daemon socket to connect to')
    .option('-D, --debug', 'Enable debug mode')
    .option('-l, --log-level <string>', 'Set the logging level ("debug", "info", "warn", "error", "fatal")', 'info')
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .option('--tlsverify', 'Use TLS and verify the remote')
    .option('--tlscacert <string>', 'Trust certs signed only by this CA')
    .option('--tlscert <string>', 'Path to TLS certificate file')
    .option('--tlskey <string>', 'Path to TLS key file')
    .option('--config <string>', 'Location of client config files')
    .option('-c, --context <string>', 'Name of the context to use to connect to the daemon')
    .option('-v, --version', 'Print version information and quit')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(false);
  program.hook('preAction', () => {
    const g = program.opts();
    cli.global = { host: g.host, debug: g.debug, tls: g.tls, tlsverify: g.tlsverify, config: g.config };
    if (g.tlscacert || g.tlscert || g.tlskey) {
      const path = require('node:path') as typeof import('node:path');
      const dir = g.tlscacert ? path.dirname(g.tlscacert) : g.tlscert ? path.dirname(g.tlscert) : path.dirname(g.tlskey);
      process.env.DOCKER_CERT_PATH = dir;
    }
  });
  program.action(() => {
    if (program.opts().version) {
      cli.println(`Berth version ${(require('../client/client') as typeof import('../client/client')).CLIENT_VERSION}`);
      return;
    }
    if (program.args[0] === 'help') {
      const [, name] = program.args;
      (program.commands.find((c) => c.name() === name || c.aliases().includes(name)) ?? program).outputHelp();
      return;
    }
    // a word that names no command reaches the root's action as an argument (as docker words it)
    if (program.args.length) throw new StatusError(1, `${PROG}: unknown command: ${PROG} ${program.args[0]}\n\nRun '${PROG} --help' for more information`);
    program.outputHelp();
  });

  addCommands(program, COMMANDS, cli, argv === undefined ? [] : commandWords(argv));
  return program;
}

/** Find the command path in argv for "See 'berth run --help'." messages. */
function commandPathFromArgs(program: Command, args: string[]): string {
  const names = [PROG];
  let cmd: Command = program;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-')) {
      if (cmd === program && GLOBAL_VALUE_FLAGS.includes(a)) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}

function translateCommanderError(program: Command, e: CommanderError, args: string[]): StatusError {
  const path = commandPathFromArgs(program, args);
  switch (e.code) {
    case 'commander.helpDisplayed':
    case 'commander.help':
    case 'commander.version':
      return new StatusError(0);
    case 'commander.unknownOption': {
      const m = /unknown option '([^']+)'/.exec(e.message);
      const flag = m ? m[1] : '';
      const text = flag.startsWith('--') ? `unknown flag: ${flag.split('=')[0]}` : `unknown shorthand flag: '${flag.replace(/^-/, '').charAt(0)}' in ${flag}`;
      return new StatusError(125, `${text}\nSee '${path} --help'.`);
    }
    case 'commander.optionMissingArgument': {
      const m = /option '([^']+)' argument missing/.exec(e.message);
      const flag = m ? m[1].split(/[ ,]+/).pop() ?? '' : '';
      return new StatusError(125, `flag needs an argument: ${flag.startsWith('--') ? flag : `'${flag.replace(/^-/, '')}' in ${flag}`}\nSee '${path} --help'.`);
    }
    case 'commander.unknownCommand': {
      const m = /unknown command '([^']+)'/.exec(e.message);
      return new StatusError(1, `${PROG}: unknown command: ${path} ${m ? m[1] : ''}\n\nRun '${path} --help' for more information`);
    }
    case 'commander.invalidArgument':
      return new StatusError(125, `${e.message.replace(/^error: /, '')}\nSee '${path} --help'.`);
    default:
      return new StatusError(e.exitCode === 0 ? 0 : 125, e.message.replace(/^error: /, ''));
  }
}

/** Flush stdout/stderr, then exit. */
function exit(code: number): void {
  let pending = 2;
  const done = () => { if (--pending === 0) process.exit(code); };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const cli = new Cli();
  const args = preprocessArgs(argv);
  const program = buildProgram(cli, args);
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    let err: unknown = e;
    if (e instanceof CommanderError) err = translateCommanderError(program, e, args);
    if (err instanceof StatusError) {
      if (err.message) process.stderr.write(err.message + '\n');
      code = err.status;
    } else if (err instanceof ApiError || err instanceof ConnectionError) {
      process.stderr.write(errorText(err) + '\n');
      code = 1;
    } else {
      process.stderr.write(errorText(err) + '\n');
      if (process.env.BERTH_DEBUG && err instanceof Error) process.stderr.write(String(err.stack) + '\n');
      code = 1;
    }
  } finally {
    cli.close();
  }
  return code;
}

/** Runs the CLI as a process: argv in, exit status out. */
export function runMain(): void {
  // bin/berth started Node without the user's extra CAs (it needs none here); what the CLI starts gets them
  if (process.env.BERTH_NODE_EXTRA_CA_CERTS !== undefined) {
    process.env.NODE_EXTRA_CA_CERTS = process.env.BERTH_NODE_EXTRA_CA_CERTS;
    delete process.env.BERTH_NODE_EXTRA_CA_CERTS;
  }
  // writing to a closed pipe (berth ps | head) must not crash
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  main().then(exit, (e) => {
    process.stderr.write(errorText(e) + '\n');
    exit(1);
  });
}

if (require.main === module) runMain();
