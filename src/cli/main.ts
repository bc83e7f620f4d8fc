// berth: the command line. Docker's command names, flags, output and exit codes.
import { Command, CommanderError } from 'commander';
import { Cli, errorText, PROG, StatusError } from './cli';
import { ApiError, ConnectionError } from '../client/errors';
import { CLIENT_VERSION } from '../client/client';
import { BOOLEAN_FLAGS } from './containerflags';
import * as run from './commands/run';
import * as ps from './commands/ps';
import * as images from './commands/images';
import * as inspect from './commands/inspect';
import * as logs from './commands/logs';
import * as top from './commands/top';
import * as cp from './commands/cp';
import * as stats from './commands/stats';
import * as events from './commands/events';
import * as attach from './commands/attach';
import * as exec from './commands/exec';
import * as lc from './commands/lifecycle';
import * as img from './commands/imagecmds';
import * as build from './commands/build';
import * as sys from './commands/system';
import * as update from './commands/update';
import * as volumes from './commands/volumes';
import * as registry from './commands/registry';
import * as df from './commands/df';
import * as network from './commands/network';
import * as registryServer from './commands/registryserver';
import * as compose from './commands/compose';

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

export function buildProgram(cli: Cli): Command {
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
      cli.println(`Berth version ${CLIENT_VERSION}`);
      return;
    }
    program.outputHelp();
  });

  // top-level commands
  run.register(program, cli);
  lc.registerStart(program, cli);
  lc.registerStop(program, cli);
  lc.registerRestart(program, cli);
  lc.registerKill(program, cli);
  lc.registerRm(program, cli);
  lc.registerRename(program, cli);
  lc.registerPause(program, cli);
  lc.registerWait(program, cli);
  ps.register(program, cli);
  logs.register(program, cli);
  inspect.register(program, cli);
  top.register(program, cli);
  cp.register(program, cli);
  stats.register(program, cli);
  events.register(program, cli);
  attach.register(program, cli);
  exec.register(program, cli);
  img.registerExport(program, cli);
  images.register(program, cli);
  img.registerHistory(program, cli);
  img.registerRmi(program, cli, 'rmi');
  img.registerTag(program, cli);
  img.registerImport(program, cli);
  img.registerLoad(program, cli);
  img.registerSave(program, cli);
  build.register(program, cli);
  sys.registerVersion(program, cli);
  sys.registerInfo(program, cli);
  registry.registerPull(program, cli);
  registry.registerPush(program, cli);
  registry.registerLogin(program, cli);
  registry.registerLogout(program, cli);
  network.register(program, cli);
  network.registerPort(program, cli);

  // container management group
  const container = program.command('container').description('Manage containers').usage('COMMAND');
  run.register(container, cli, container);
  lc.registerStart(container, cli);
  lc.registerStop(container, cli);
  lc.registerRestart(container, cli);
  lc.registerKill(container, cli);
  lc.registerRm(container, cli);
  lc.registerRename(container, cli);
  lc.registerPause(container, cli);
  lc.registerWait(container, cli);
  ps.register(container, cli, 'ls').aliases(['ps', 'list']);
  logs.register(container, cli);
  inspect.registerTyped(container, cli, 'container');
  top.register(container, cli);
  network.registerPort(container, cli);
  stats.register(container, cli);
  attach.register(container, cli);
  img.registerExport(container, cli);
  img.registerContainerPrune(container, cli);
  for (const parent of [program, container]) update.register(parent, cli);

  // image management group
  const image = program.command('image').description('Manage images').usage('COMMAND');
  images.register(image, cli, 'ls').aliases(['list']);
  inspect.registerTyped(image, cli, 'image');
  img.registerHistory(image, cli);
  img.registerRmi(image, cli, 'rm');
  img.registerTag(image, cli);
  build.register(image, cli);
  img.registerImport(image, cli);
  img.registerLoad(image, cli);
  img.registerSave(image, cli);
  img.registerImagePrune(image, cli);
  registry.registerPull(image, cli);
  registry.registerPush(image, cli);

  volumes.register(program, cli);

  // system group
  const system = program.command('system').description('Manage Docker').usage('COMMAND');
  sys.registerInfo(system, cli);
  df.registerDf(system, cli);
  events.register(system, cli);

  registryServer.register(program, cli);
  compose.register(program, cli);

  for (const group of [container, image, system]) {
    group.action(() => { group.outputHelp(); });
  }
  return program;
}

/** Find the command path in argv for "See 'berth run --help'." messages. */
function commandPathFromArgs(program: Command, args: string[]): string {
  const names = [PROG];
  let cmd: Command = program;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-')) {
      if (cmd === program && ['-H', '--host', '-l', '--log-level', '--config', '-c', '--context', '--tlscacert', '--tlscert', '--tlskey'].includes(a)) i++;
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
  const program = buildProgram(cli);
  const args = preprocessArgs(argv);
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

if (require.main === module) {
  // writing to a closed pipe (berth ps | head) must not crash
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  main().then(exit, (e) => {
    process.stderr.write(errorText(e) + '\n');
    exit(1);
  });
}
