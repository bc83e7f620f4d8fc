// berth compose up / create: compose v2's flags; progress on stderr; an attached up prints the
// containers' output behind `name  | ` until they exit, and stops the project on Ctrl-C.
import { Command, Option } from 'commander';
import { Cli, collect, parseIntFlag, StatusError } from '../../cli';
import { createProject, upProject, type CreateOptions } from '../../../compose/project/up';
import { LogPrefixer, useColor } from '../../../compose/progress/logprefix';
import { literalNoOption, withProject } from './index';
import { parseScale, pullFlag, withEngine, type EngineSession } from './engine';

interface CreateFlags {
  build?: boolean; noBuild?: boolean; pull?: string; forceRecreate?: boolean; noRecreate?: boolean; removeOrphans?: boolean;
  scale?: string[]; quietPull?: boolean; alwaysRecreateDeps?: boolean; renewAnonVolumes?: boolean; timeout?: number;
}

interface UpFlags extends CreateFlags {
  detach?: boolean; noDeps?: boolean; wait?: boolean; waitTimeout?: number; abortOnContainerExit?: boolean; exitCodeFrom?: string;
  attach?: string[]; attachDependencies?: boolean; noAttach?: string[]; abortOnContainerFailure?: boolean;
  timestamps?: boolean; menu?: boolean; watch?: boolean;
}

/** compose v2's checks of up's flags (validateFlags), with its messages. */
export function checkUpFlags(o: UpFlags & { recreate?: boolean }): void {
  if (o.menu) throw new StatusError(1, 'berth compose up: --menu is not supported (compose\'s interactive shortcuts)');
  if (o.watch) throw new StatusError(1, WATCH_UNSUPPORTED);
  const cascadeStop = o.abortOnContainerExit || (!!o.exitCodeFrom && !o.abortOnContainerFailure);
  if (cascadeStop && o.abortOnContainerFailure) throw new StatusError(1, '--abort-on-container-failure cannot be combined with --abort-on-container-exit');
  if (o.wait && (o.attachDependencies || cascadeStop || o.attach?.length)) throw new StatusError(1, '--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies');
  if (o.detach && (o.attachDependencies || cascadeStop || o.abortOnContainerFailure || o.attach?.length)) {
    throw new StatusError(1, '--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch');
  }
  if (o.renewAnonVolumes && o.recreate === false) throw new StatusError(1, '--no-recreate and --renew-anon-volumes are incompatible');
  if (o.alwaysRecreateDeps && o.recreate === false) throw new StatusError(1, '--always-recreate-deps and --no-recreate are incompatible');
}

/** `watch` and `up --watch` (compose's develop.watch) are not built: what is missing, said once. */
export const WATCH_UNSUPPORTED = 'berth compose: watch is not supported: develop.watch (syncing files into containers, rebuilding or restarting services when their files change) is not implemented';

function createFlags(c: Command): Command {
  return c
    .option('--build', 'Build images before starting containers')
    .option('--no-build', 'Don\'t build an image, even if it\'s policy')
    .addOption(new Option('--pull <string>', 'Pull image before running ("always"|"missing"|"never"|"build")').default('policy'))
    .option('--force-recreate', 'Recreate containers even if their configuration and image haven\'t changed')
    .option('--no-recreate', 'If containers already exist, don\'t recreate them. Incompatible with --force-recreate.')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--scale <stringArray>', 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.', collect)
    .option('--quiet-pull', 'Pull without printing progress information');
}

/** Holds what is written until open(), then passes everything through. */
class GatedSink {
  private held: string[] | undefined = [];
  constructor(private readonly out: NodeJS.WritableStream) {}
  write(s: string): void {
    if (this.held) this.held.push(s);
    else this.out.write(s);
  }
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    if (held.length) this.out.write(held.join(''));
  }
}



function createOptions(services: string[], o: CreateFlags & { noDeps?: boolean }, s: EngineSession): CreateOptions {
  // commander's --no-build / --no-recreate set build/recreate to false
  const flags = o as CreateFlags & { recreate?: boolean };
  return {
    services, noDeps: o.noDeps, build: o.build === true, noBuild: o.build === false,
    pull: pullFlag(o.pull), forceRecreate: o.forceRecreate, noRecreate: flags.recreate === false, alwaysRecreateDeps: o.alwaysRecreateDeps,
    renewAnonVolumes: o.renewAnonVolumes, removeOrphans: o.removeOrphans, scale: parseScale(o.scale), timeout: o.timeout, parallel: s.parallel,
    allResources: s.globals.allResources,
  };
}

export function registerCreate(compose: Command, cli: Cli): void {
  createFlags(compose.command('create'))
    .description('Creates containers for a service')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .action(async (services: string[], o: CreateFlags, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, (s) => createProject(s.ctx, s.tools, project, createOptions(services, o, s)).then(() => undefined));
    });
}

export function registerUp(compose: Command, cli: Cli): void {
  createFlags(compose.command('up'))
    .description('Create and start containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('-d, --detach', 'Detached mode: Run containers in the background')
    .option('--no-deps', 'Don\'t start linked services')
    .option('--always-recreate-deps', 'Recreate dependent containers. Incompatible with --no-recreate.')
    .option('-V, --renew-anon-volumes', 'Recreate anonymous volumes instead of retrieving data from the previous containers')
    .option('--wait', 'Wait for services to be running|healthy. Implies detached mode.')
    .option('--wait-timeout <int>', 'Maximum duration in seconds to wait for the project to be running|healthy', parseIntFlag('--wait-timeout'))
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped. Incompatible with -d')
    .option('--exit-code-from <string>', 'Return the exit code of the selected service container. Implies --abort-on-container-exit')
    .option('-t, --timeout <int>', 'Use this timeout in seconds for container shutdown when attached or when containers are already running', parseIntFlag('--timeout'))
    .option('--no-start', 'Don\'t start the services after creating them')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', 'Don\'t print prefix in logs')
    .option('--attach <stringArray>', 'Restrict attaching to the specified services. Incompatible with --attach-dependencies.', collect)
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .addOption(literalNoOption('--no-attach <stringArray>', 'Do not attach (stream logs) to the specified services').argParser(collect))
    .option('--abort-on-container-failure', 'Stops all containers if any container exited with failure. Incompatible with -d')
    .option('--timestamps', 'Show timestamps')
    .option('-w, --watch', 'Watch source code and rebuild/refresh containers when files are updated.')
    .option('--menu', 'Enable interactive shortcuts when running attached. Incompatible with --detach. Can also be enable/disable by setting COMPOSE_MENU environment var.')
    .action(async (services: string[], o: UpFlags & { deps?: boolean; start?: boolean; color?: boolean; logPrefix?: boolean }, cmd: Command) => {
      checkUpFlags(o);
      const project = await withProject(cmd, cli, { services });
      let interrupt: ((n: number) => void) | undefined;
      let count = 0;
      const onSigint = () => { count++; if (count > 1) process.exit(130); interrupt?.(count); };
      const code = await withEngine(cmd, cli, async (s) => {
        const detach = o.detach || o.wait;
        // the containers' first lines wait until the start phase's progress is drawn
        const gate = new GatedSink(cli.out);
        const printer = detach ? undefined : new LogPrefixer({ out: gate, color: o.color !== false && useColor(process.stdout), prefix: o.logPrefix !== false, timestamps: o.timestamps });
        if (!detach) process.on('SIGINT', onSigint);
        try {
          let attach = o.attach;
          if (!attach && o.attachDependencies) attach = Object.keys(project.services);
          return await upProject(s.ctx, s.tools, project, {
            ...createOptions(services, { ...o, noDeps: o.deps === false }, s),
            detach, wait: o.wait, waitTimeout: o.waitTimeout, abortOnContainerExit: o.abortOnContainerExit, exitCodeFrom: o.exitCodeFrom,
            abortOnContainerFailure: o.abortOnContainerFailure, noStart: o.start === false, attach, noAttach: o.noAttach,
          }, {
            printer,
            println: (line) => gate.write(line + '\n'),
            startPhaseDone: () => { s.progress.stop(); gate.open(); },
            onInterrupt: (h) => { interrupt = h; },
          });
        } finally {
          process.off('SIGINT', onSigint);
        }
      });
      if (code !== 0) throw new StatusError(code);
    });
}

export function registerWatch(compose: Command, cli: Cli): void {
  compose.command('watch')
    .description('Watch build context for service and rebuild/refresh containers when files are updated')
    .usage('[SERVICE...]')
    .argument('[services...]')
    .option('--no-up', 'Do not build & start services before watching')
    .option('--prune', 'Prune dangling images on rebuild')
    .option('--quiet', 'hide build output')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      // the file is read first, so its own errors come before this one
      await withProject(cmd, cli, { services });
      throw new StatusError(1, WATCH_UNSUPPORTED);
    });
}
