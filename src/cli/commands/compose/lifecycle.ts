// berth compose start, stop, restart, kill, rm, pause, unpause: the project's existing
// containers, all services or those named, with compose v2's flags and progress.
import { Command, Option } from 'commander';
import { Cli, parseIntFlag } from '../../cli';
import { confirm } from '../prompt';
import { killServices, pauseServices, removableContainers, removeContainers, restartServices, stopServices, unpauseServices } from '../../../compose/project/lifecycle';
import { startServices } from '../../../compose/project/start';
import { handleOrphans, selectServices } from '../../../compose/project/up';
import { ComposeError } from '../../../compose/project/errors';
import { nameOf, projectContainers } from '../../../compose/project/observed';
import type { Project } from '../../../compose/model';
import { withProject } from './index';
import { withEngine } from './engine';

function servicesCommand(compose: Command, name: string, description: string): Command {
  return compose.command(name).description(description).usage('[OPTIONS] [SERVICE...]').argument('[services...]');
}

/** The services named must exist in the file. */
function named(project: Project, services: string[]): string[] {
  for (const s of services) if (!project.services[s]) throw new ComposeError(`no such service: ${s}`);
  return services;
}

export function registerStart(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'start', 'Start services')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      const selected = selectServices(project, services);
      await withEngine(cmd, cli, async (s) => {
        const existing = await projectContainers(s.ctx.client, project.name, { services: selected });
        for (const name of services) {
          if (!existing.some((c) => c.Labels?.['com.docker.compose.service'] === name)) throw new ComposeError(`service "${name}" has no container to start`);
        }
        const present = selected.filter((n) => existing.some((c) => c.Labels?.['com.docker.compose.service'] === n));
        await startServices(s.ctx, project, { services: present, parallel: s.parallel });
      });
    });
}

export function registerStop(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'stop', 'Stop services')
    .option('-t, --timeout <int>', 'Specify a shutdown timeout in seconds', parseIntFlag('--timeout'))
    .action(async (services: string[], o: { timeout?: number }, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, (s) => stopServices(s.ctx, project, named(project, services), o.timeout));
    });
}

export function registerRestart(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'restart', 'Restart service containers')
    .option('--no-deps', 'Don\'t restart dependent services')
    .option('-t, --timeout <int>', 'Specify a shutdown timeout in seconds', parseIntFlag('--timeout'))
    .action(async (services: string[], o: { timeout?: number; deps?: boolean }, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      // the services named and (unless --no-deps) what they depend on, in dependency order
      const selected = services.length ? selectServices(project, services, o.deps === false) : [];
      await withEngine(cmd, cli, (s) => restartServices(s.ctx, project, selected, o.timeout));
    });
}

export function registerKill(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'kill', 'Force stop service containers')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-s, --signal <string>', 'SIGNAL to send to the container', 'SIGKILL')
    .action(async (services: string[], o: { signal: string; removeOrphans?: boolean }, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, async (s) => {
        if (o.removeOrphans) await handleOrphans(s.ctx, project, true);
        const list = await killServices(s.ctx, project, named(project, services), o.signal);
        if (!list.some((c) => c.State === 'running' || c.State === 'restarting')) throw new ComposeError('no container to kill');
      });
    });
}

export function registerRm(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'rm', 'Removes stopped service containers')
    .option('-f, --force', 'Don\'t ask to confirm removal')
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .addOption(new Option('-a, --all', 'Deprecated - no effect').hideHelp())
    .action(async (services: string[], o: { force?: boolean; stop?: boolean; volumes?: boolean; all?: boolean }, cmd: Command) => {
      if (o.all) cli.eprintln("WARN[0000] option '--all' is deprecated and has no effect, as in docker compose");
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, async (s) => {
        const list = await removableContainers(s.ctx, project, named(project, services), !!o.stop);
        if (!list.length) { cli.eprintln('No stopped containers'); return; }
        if (!o.force && !(await confirm(cli, `Going to remove ${list.map(nameOf).join(', ')}`))) return;
        await removeContainers(s.ctx, list, { volumes: o.volumes });
      });
    });
}

export function registerPause(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'pause', 'Pause services')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, (s) => pauseServices(s.ctx, project, named(project, services)));
    });
}

export function registerUnpause(compose: Command, cli: Cli): void {
  servicesCommand(compose, 'unpause', 'Unpause services')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      const project = await withProject(cmd, cli, { services });
      await withEngine(cmd, cli, (s) => unpauseServices(s.ctx, project, named(project, services)));
    });
}
