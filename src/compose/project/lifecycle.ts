// stop, kill, pause, unpause, restart and rm of a project's containers (all services, or those
// named), with compose v2's progress words; stops go in reverse dependency order.
import type { ContainerSummary } from '../../client/types';
import type { Project } from '../model';
import { done, failed, working } from '../progress/progress';
import type { EngineContext } from './context';
import { walkInOrder } from './graph';
import { progressId } from './names';
import { byService, nameOf, projectContainers, serviceOf } from './observed';

type Action = (c: ContainerSummary) => Promise<void>;

interface Step { working: string; done: string; when: (c: ContainerSummary) => boolean; act: Action }

async function runStep(ctx: EngineContext, c: ContainerSummary, step: Step): Promise<void> {
  if (!step.when(c)) return;
  const line = progressId.container(nameOf(c));
  working(ctx.progress, line, step.working);
  try {
    await step.act(c);
    done(ctx.progress, line, step.done);
  } catch (e) {
    failed(ctx.progress, line, 'Error', (e as Error).message);
    throw e;
  }
}

/**
 * `step` on every container of `services` (all when empty), service by service in dependency
 * order (reverse: dependents first); containers of services the file no longer has go first.
 */
export async function eachContainer(ctx: EngineContext, project: Project, services: string[], step: Step, o: { reverse?: boolean; ordered?: boolean; parallel?: number } = {}): Promise<ContainerSummary[]> {
  const all = await projectContainers(ctx.client, project.name, { services });
  const groups = byService(all);
  const known = [...groups.keys()].filter((s) => project.services[s]);
  const unknown = all.filter((c) => !project.services[serviceOf(c)]);
  await Promise.all(unknown.map((c) => runStep(ctx, c, step)));
  if (o.ordered === false) await Promise.all(known.flatMap((s) => groups.get(s)!.map((c) => runStep(ctx, c, step))));
  else await walkInOrder(project, known, async (s) => { await Promise.all(groups.get(s)!.map((c) => runStep(ctx, c, step))); }, { reverse: o.reverse, parallel: o.parallel });
  return all;
}

const isRunning = (c: ContainerSummary) => c.State === 'running' || c.State === 'restarting' || c.State === 'paused';

export function stopServices(ctx: EngineContext, project: Project, services: string[], timeout?: number): Promise<ContainerSummary[]> {
  return eachContainer(ctx, project, services, {
    working: 'Stopping', done: 'Stopped', when: isRunning, act: (c) => ctx.client.containerStop(c.Id, { timeout }).then(() => undefined),
  }, { reverse: true });
}

export function killServices(ctx: EngineContext, project: Project, services: string[], signal?: string): Promise<ContainerSummary[]> {
  return eachContainer(ctx, project, services, {
    working: 'Killing', done: 'Killed', when: (c) => c.State === 'running' || c.State === 'restarting', act: (c) => ctx.client.containerKill(c.Id, signal),
  }, { ordered: false });
}

export function pauseServices(ctx: EngineContext, project: Project, services: string[]): Promise<ContainerSummary[]> {
  return eachContainer(ctx, project, services, {
    working: 'Pausing', done: 'Paused', when: (c) => c.State === 'running', act: (c) => ctx.client.containerPause(c.Id),
  }, { ordered: false });
}

export function unpauseServices(ctx: EngineContext, project: Project, services: string[]): Promise<ContainerSummary[]> {
  return eachContainer(ctx, project, services, {
    working: 'Unpausing', done: 'Unpaused', when: (c) => c.State === 'paused', act: (c) => ctx.client.containerUnpause(c.Id),
  }, { ordered: false });
}

export function restartServices(ctx: EngineContext, project: Project, services: string[], timeout?: number): Promise<ContainerSummary[]> {
  return eachContainer(ctx, project, services, {
    working: 'Restarting', done: 'Started', when: () => true, act: (c) => ctx.client.containerRestart(c.Id, { timeout }),
  });
}

/** The stopped containers `rm` would remove (all with `stopped: false`... running ones only with -s). */
export async function removableContainers(ctx: EngineContext, project: Project, services: string[], withRunning: boolean): Promise<ContainerSummary[]> {
  const all = await projectContainers(ctx.client, project.name, { services });
  return all.filter((c) => withRunning || !isRunning(c));
}

export async function removeContainers(ctx: EngineContext, list: ContainerSummary[], o: { volumes?: boolean; timeout?: number }): Promise<void> {
  await Promise.all(list.map(async (c) => {
    if (isRunning(c)) await runStep(ctx, c, { working: 'Stopping', done: 'Stopped', when: () => true, act: (x) => ctx.client.containerStop(x.Id, { timeout: o.timeout }).then(() => undefined) });
    await runStep(ctx, c, { working: 'Removing', done: 'Removed', when: () => true, act: (x) => ctx.client.containerRemove(x.Id, { force: true, volumes: o.volumes }) });
  }));
}
