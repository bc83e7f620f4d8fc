// berth compose run: a one-off container of a service (`project-service-run-<12 hex>`, labelled
// oneoff=True), its dependencies created and started first unless --no-deps, then attached as
// `docker start -a -i` is; the container's exit code is the command's.
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { splitShellWords } from '../../../compose/load/shellwords';
import { parsePortShort } from '../../../compose/load/ports';
import { parseVolumeShort } from '../../../compose/load/mounts';
import type { Project, Service } from '../../../compose/model';
import { containerCreateBody } from '../../../compose/project/createbody';
import { withDependencies } from '../../../compose/project/graph';
import { ensureImages } from '../../../compose/project/images';
import { oneoffContainerName } from '../../../compose/project/names';
import { ensureResources } from '../../../compose/project/resources';
import { startServices } from '../../../compose/project/start';
import { createProject, selectServices } from '../../../compose/project/up';
import { projectContainers, serviceOf, SLUG_LABEL } from '../../../compose/query/containers';
import { Cli, collect, StatusError } from '../../cli';
import { parseLabels } from '../../opts';
import { startAttached } from '../lifecycle';
import { pullFlag, withEngine, type EngineSession } from './engine';
import { resolveEnv, wantTty } from './exec';
import { withProject } from './index';

export interface ComposeRunOptions {
  detach?: boolean; rm?: boolean; env?: string[]; label?: string[]; name?: string; user?: string; workdir?: string;
  entrypoint?: string; volume?: string[]; publish?: string[]; servicePorts?: boolean; useAliases?: boolean;
  deps?: boolean; capAdd?: string[]; capDrop?: string[]; build?: boolean; quietPull?: boolean; removeOrphans?: boolean;
  /** --pull always|missing|never|build (compose 2.32's run; default: each service's pull_policy) */
  pull?: string;
  /** false with -T / --no-TTY */
  TTY?: boolean;
  tty?: boolean;
  /** compose's -i, on by default */
  interactive?: boolean;
}

/** The service as the one-off runs it: compose's runOptions.apply and applyRunOptions. */
export function oneOffService(project: Project, service: Service, command: string[], o: ComposeRunOptions, tty: boolean): Service {
  const s: Service = { ...service, environment: { ...service.environment }, labels: { ...service.labels } };
  s.tty = tty;
  s.stdin_open = o.interactive !== false;
  if (!o.servicePorts) s.ports = (o.publish ?? []).flatMap((p) => parsePortShort(p));
  s.volumes = [...service.volumes, ...(o.volume ?? []).map((v) => parseVolumeShort(v, project.working_dir))];
  if (command.length) s.command = command;
  if (o.user) s.user = o.user;
  if (o.workdir) s.working_dir = o.workdir;
  if (o.entrypoint !== undefined) {
    s.entrypoint = splitShellWords(o.entrypoint);
    if (!command.length) s.command = [];
  }
  for (const cap of o.capAdd ?? []) { s.cap_add = [...s.cap_add, cap]; s.cap_drop = s.cap_drop.filter((c) => c !== cap); }
  for (const cap of o.capDrop ?? []) { s.cap_drop = [...s.cap_drop, cap]; s.cap_add = s.cap_add.filter((c) => c !== cap); }
  // -e NAME without a value takes it from the project's environment; one set nowhere is dropped
  for (const kv of resolveEnv(o.env ?? [], project.environment)) {
    const i = kv.indexOf('=');
    if (i > 0) s.environment[kv.slice(0, i)] = kv.slice(i + 1);
  }
  Object.assign(s.labels, parseLabels(o.label ?? []));
  s.restart = undefined;
  if (s.deploy) s.deploy = { ...s.deploy, restart_policy: undefined };
  s.scale = 1;
  return s;
}

/** Creates and starts what the service depends on (compose's startDependencies), then waits on their conditions. */
async function startDependencies(s: EngineSession, project: Project, service: string, o: ComposeRunOptions): Promise<void> {
  const deps = o.deps === false ? [] : withDependencies(project, [service]).filter((n) => n !== service);
  if (deps.length) {
    await createProject(s.ctx, s.tools, project, { services: deps, build: o.build, pull: pullFlag(o.pull), removeOrphans: o.removeOrphans, parallel: s.parallel });
  }
  // the one-off itself is walked with no containers: the walk waits on its depends_on conditions
  await startServices(s.ctx, project, { services: [...deps, service], containers: new Map([[service, []]]), parallel: s.parallel });
}

export async function composeRun(cli: Cli, s: EngineSession, project: Project, service: string, command: string[], o: ComposeRunOptions): Promise<number> {
  if (o.publish?.length && o.servicePorts) throw new StatusError(1, '--service-ports and --publish are incompatible');
  if (o.tty && o.TTY === false) throw new StatusError(1, "--tty and --no-TTY can't be used together");
  for (const l of o.label ?? []) if (!l.includes('=')) throw new StatusError(1, 'label must be set as KEY=VALUE');
  pullFlag(o.pull);
  selectServices(project, [service]);
  const tty = wantTty(o.TTY, cli.out as NodeJS.WriteStream);
  const interactive = o.interactive !== false;
  if (tty && interactive && !o.detach && !process.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  const target = oneOffService(project, project.services[service], command, o, tty);

  await startDependencies(s, project, service, o);
  await ensureResources(s.ctx, project, [service]);
  const imageIds = await ensureImages(s.ctx, s.tools, project, [service], { build: o.build, pull: pullFlag(o.pull) });
  const running = await projectContainers(s.ctx.client, project.name, { oneOff: 'exclude' });
  const slug = randomBytes(32).toString('hex');
  const spec = containerCreateBody(project, target, 1, {
    oneoff: true,
    name: o.name || target.container_name || oneoffContainerName(project, target, slug.slice(0, 12)),
    imageId: imageIds.get(service),
    useNetworkAliases: !!o.useAliases,
    serviceContainer: (name) => running.find((c) => serviceOf(c) === name)?.Id,
    extraLabels: { [SLUG_LABEL]: slug },
  });
  const attach = !o.detach;
  Object.assign(spec.body, {
    AttachStdin: attach && interactive, AttachStdout: attach, AttachStderr: attach,
    OpenStdin: interactive, StdinOnce: attach && interactive,
  });
  (spec.body.HostConfig as Record<string, unknown>).AutoRemove = !!o.rm;
  // through the session's client: a dry run only pretends to make and start it
  const created = await s.ctx.client.containerCreate(spec.body, { name: spec.name, platform: spec.platform });
  for (const n of spec.extraNetworks) await s.ctx.client.networkConnect(n.network, created.Id, n.endpoint);
  s.progress.stop();
  if (o.detach) {
    await s.ctx.client.containerStart(created.Id);
    cli.println(created.Id);
    return 0;
  }
  if (s.globals.dryRun) throw new StatusError(1, 'interactive run is not supported in dry-run mode');
  return startAttached(cli, created.Id, interactive);
}

export function register(compose: Command, cli: Cli): void {
  compose.command('run')
    .description('Run a one-off command on a service')
    .usage('[OPTIONS] SERVICE [COMMAND] [ARGS...]')
    .argument('[service]')
    .argument('[command...]')
    .passThroughOptions()
    .option('--build', 'Build image before starting container')
    .option('--cap-add <list>', 'Add Linux capabilities', collect)
    .option('--cap-drop <list>', 'Drop Linux capabilities', collect)
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--entrypoint <string>', 'Override the entrypoint of the image')
    .option('-e, --env <stringArray>', 'Set environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached', true)
    .option('-l, --label <stringArray>', 'Add or override a label', collect)
    .option('--name <string>', 'Assign a name to the container')
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('--no-deps', "Don't start linked services")
    .option('-p, --publish <stringArray>', "Publish a container's port(s) to the host", collect)
    .option('--pull <string>', 'Pull image before running ("always"|"missing"|"never")', 'policy')
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-P, --service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('--use-aliases', "Use the service's network useAliases in the network(s) the container connects to")
    .option('-u, --user <string>', 'Run as specified username or uid')
    .option('-v, --volume <stringArray>', 'Bind mount a volume', collect)
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .addOption(new Option('-t, --tty', 'Allocate a pseudo-TTY').hideHelp())
    .action(async (service: string | undefined, command: string[], o: ComposeRunOptions, cmd: Command) => {
      if (!service) throw new StatusError(1, 'requires at least 1 arg(s), only received 0');
      const project = await withProject(cmd, cli, { services: [service] });
      const status = await withEngine(cmd, cli, (s) => composeRun(cli, s, project, service, command, o), { quiet: o.quietPull });
      if (status !== 0) throw new StatusError(status);
    });
}
