// berth compose up / create: compose v2's flags; progress on stderr; an attached up prints the
// containers' output behind `name  | ` until they exit, and stops the project on Ctrl-C.
import { Command, Option } from 'commander';
import { Cli, collect, StatusError } from '../../cli';
import { createProject, upProject, type CreateOptions } from '../../../compose/project/up';
import type { PullFlag } from '../../../compose/project/images';
import { LogPrefixer, useColor } from '../../../compose/progress/logprefix';
import { withProject } from './index';
import { intFlag, parseScale, withEngine } from './engine';

interface CreateFlags {
  build?: boolean; noBuild?: boolean; pull?: string; forceRecreate?: boolean; noRecreate?: boolean; removeOrphans?: boolean;
  scale?: string[]; quietPull?: boolean; alwaysRecreateDeps?: boolean; renewAnonVolumes?: boolean; timeout?: number;
}

interface UpFlags extends CreateFlags {
  detach?: boolean; noDeps?: boolean; wait?: boolean; waitTimeout?: number; abortOnContainerExit?: boolean; exitCodeFrom?: string;
  attach?: string[]; attachDependencies?: boolean;
  timestamps?: boolean; menu?: boolean;
}

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

function pullFlag(v: string | undefined): PullFlag {
  if (v === undefined || v === 'policy') return undefined;
  if (!['always', 'missing', 'never', 'build'].includes(v)) throw new StatusError(1, `invalid --pull option "${v}"`);
  return v as PullFlag;
}

function createOptions(services: string[], o: CreateFlags & { noDeps?: boolean }, parallel: number): CreateOptions {
  // commander's --no-build / --no-recreate set build/recreate to false
  const flags = o as CreateFlags & { recreate?: boolean };
  return {
    services, noDeps: o.noDeps, build: o.build === true, noBuild: o.build === false,
    pull: pullFlag(o.pull), forceRecreate: o.forceRecreate, noRecreate: flags.recreate === false, alwaysRecreateDeps: o.alwaysRecreateDeps,
    renewAnonVolumes: o.renewAnonVolumes, removeOrphans: o.removeOrphans, scale: parseScale(o.scale), timeout: o.timeout, parallel,
  };
}

export function registerCreate(compose: Command, cli: Cli): void {
  createFlags(compose.command('create'))
    .description('Creates containers for a service')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .action(async (services: string[], o: CreateFlags, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, (s) => createProject(s.ctx, s.tools, project, createOptions(services, o, s.parallel)).then(() => undefined));
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
    .option('--wait-timeout <int>', 'Maximum duration in seconds to wait for the project to be running|healthy', intFlag('--wait-timeout'))
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped. Incompatible with -d')
    .option('--exit-code-from <string>', 'Return the exit code of the selected service container. Implies --abort-on-container-exit')
    .option('-t, --timeout <int>', 'Use this timeout in seconds for container shutdown when attached or when containers are already running', intFlag('--timeout'))
    .option('--no-start', 'Don\'t start the services after creating them')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', 'Don\'t print prefix in logs')
    .option('--attach <stringArray>', 'Restrict attaching to the specified services. Incompatible with --attach-dependencies.', collect)
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .option('--timestamps', 'Show timestamps')
    .action(async (services: string[], o: UpFlags & { deps?: boolean; start?: boolean; color?: boolean; logPrefix?: boolean }, cmd: Command) => {
      if (o.timestamps) throw new StatusError(1, 'berth compose up: --timestamps is not supported');
      const project = await withProject(cmd, cli, { services });
      let interrupt: ((n: number) => void) | undefined;
      let count = 0;
      const onSigint = () => { count++; if (count > 1) process.exit(130); interrupt?.(count); };
      const code = await withEngine(cmd, cli, async (s) => {
        const detach = o.detach || o.wait;
        const printer = detach ? undefined : new LogPrefixer({ out: cli.out, color: o.color !== false && useColor(process.stdout), prefix: o.logPrefix !== false });
        if (!detach) process.on('SIGINT', onSigint);
        try {
          let attach = o.attach;
          if (!attach && o.attachDependencies) attach = Object.keys(project.services);
          return await upProject(s.ctx, s.tools, project, {
            ...createOptions(services, { ...o, noDeps: o.deps === false }, s.parallel),
            detach, wait: o.wait, waitTimeout: o.waitTimeout, abortOnContainerExit: o.abortOnContainerExit, exitCodeFrom: o.exitCodeFrom,
            noStart: o.start === false, attach,
          }, {
            printer,
            println: (line) => cli.println(line),
            startPhaseDone: () => s.progress.stop(),
            onInterrupt: (h) => { interrupt = h; },
          });
        } finally {
          process.off('SIGINT', onSigint);
        }
      });
      if (code !== 0) throw new StatusError(code);
    });
}
