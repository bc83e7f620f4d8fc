// The start phase: services in dependency order, each after its dependencies meet their
// condition (started, healthy, completed successfully), as compose v2 waits for them; and
// `up --wait`: every container running, or healthy when it has a health check.
import type { ContainerInspect } from '../../client/types';
import type { Project } from '../model';
import { done, failed, working } from '../progress/progress';
import type { EngineContext } from './context';
import { logrusWarning } from './context';
import { ComposeError } from './errors';
import { dependencies, walkInOrder } from './graph';
import { progressId } from './names';
import { nameOf, projectContainers } from './observed';
import { ContainerWatch, withContainerWatch } from './containerwatch';

interface Health { Status?: string }
function health(c: ContainerInspect): string | undefined {
  return (c.State as { Health?: Health }).Health?.Status;
}

/** A container to start: `running` when known (no inspect needed then). */
export interface StartTarget { id: string; name: string; running?: boolean }

export interface StartOptions {
  parallel?: number;
  /** containers per service; listed from berthd when absent */
  containers?: Map<string, StartTarget[]>;
  /** a service's containers once they are made (`up` starts a service while others are still being created) */
  ready?: (service: string) => Promise<StartTarget[]>;
  /** services to start; dependencies outside it are waited on, not started */
  services: string[];
}

async function containersOf(ctx: EngineContext, project: Project, o: StartOptions, service: string): Promise<StartTarget[]> {
  const known = o.containers?.get(service);
  if (known) return known;
  if (o.ready) return o.ready(service);
  return (await projectContainers(ctx.client, project.name, { services: [service] })).map((c) => ({ id: c.Id, name: nameOf(c) }));
}

/** Waits until container `id` meets `condition`; throws compose's message when it cannot. */
async function waitCondition(ctx: EngineContext, watch: ContainerWatch, id: string, name: string, condition: string, service: string): Promise<void> {
  const line = progressId.container(name);
  working(ctx.progress, line, 'Waiting');
  for (;;) {
    const changed = await watch.armed(id);
    const c = await ctx.client.containerInspect(id);
    if (condition === 'service_healthy') {
      const h = health(c);
      if (h === undefined) { failed(ctx.progress, line, 'Error'); throw new ComposeError(`dependency failed to start: container ${name} has no healthcheck configured`); }
      if (h === 'healthy') { done(ctx.progress, line, 'Healthy'); return; }
      if (h === 'unhealthy') { failed(ctx.progress, line, 'Error'); throw new ComposeError(`dependency failed to start: container ${name} is unhealthy`); }
      if (!c.State.Running && !c.State.Restarting) { failed(ctx.progress, line, 'Error'); throw new ComposeError(`dependency failed to start: container ${name} exited (${c.State.ExitCode})`); }
    } else if (condition === 'service_completed_successfully') {
      if (!c.State.Running && !c.State.Restarting && c.State.Status !== 'created') {
        if (c.State.ExitCode === 0) { done(ctx.progress, line, 'Exited'); return; }
        failed(ctx.progress, line, 'Error');
        throw new ComposeError(`service "${service}" didn't complete successfully: exit ${c.State.ExitCode}`);
      }
    } else {
      done(ctx.progress, line, 'Started');
      return;
    }
    await changed();
  }
}

async function waitDependencies(ctx: EngineContext, watch: ContainerWatch, project: Project, o: StartOptions, service: string): Promise<void> {
  const s = project.services[service];
  await Promise.all(Object.entries(s.depends_on).map(async ([dep, d]) => {
    if (!project.services[dep] || d.condition === 'service_started') return;
    try {
      const list = await containersOf(ctx, project, o, dep);
      await Promise.all(list.map((c) => waitCondition(ctx, watch, c.id, c.name, d.condition, dep)));
    } catch (e) {
      if (d.required === false) { ctx.warn(logrusWarning(`optional dependency "${dep}" failed to start: ${(e as Error).message}`)); return; }
      throw e;
    }
  }));
}

/** Starts the containers of `o.services` that do not run, each service after its dependencies. */
/**
 * The services others wait for start first: on a busy host the starts share the CPUs, and the
 * service at the head of a dependency chain (a database a health check waits on) is on the
 * critical path, while a service nothing depends on can start during that wait. So services
 * without dependents hold back until the chains' heads (dependents, no dependencies) have
 * started. Not with --parallel: a held service would keep a slot from the head it waits for.
 */
export function headsFirst(project: Project, services: string[], parallel?: number): { started(s: string): void; failed(): void; turn(s: string): Promise<void> } {
  const selected = new Set(services);
  const hasDependents = new Set(services.flatMap((s) => dependencies(project, project.services[s]).filter((d) => selected.has(d))));
  const heads = [...hasDependents].filter((s) => !dependencies(project, project.services[s]).some((d) => selected.has(d)));
  const idle = { started: () => undefined, failed: () => undefined, turn: async () => undefined };
  if ((parallel ?? 0) > 0 || !heads.length) return idle;
  const marks = new Map(heads.map((h) => {
    let resolve!: () => void;
    const p = new Promise<void>((r) => { resolve = r; });
    return [h, { p, resolve }] as const;
  }));
  return {
    started: (s) => marks.get(s)?.resolve(),
    // after a failure the walk skips what has not begun, heads too: nobody waits for them then
    failed: () => { for (const m of marks.values()) m.resolve(); },
    turn: async (s) => { if (!hasDependents.has(s)) await Promise.all([...marks.values()].map((m) => m.p)); },
  };
}

/** Starts the containers of `o.services` that do not run, each service after its dependencies. */
export function startServices(ctx: EngineContext, project: Project, o: StartOptions): Promise<void> {
  const order = headsFirst(project, o.services, o.parallel);
  return withContainerWatch(ctx.client, project.name, (watch) => walkInOrder(project, o.services, async (service) => {
    try {
      await order.turn(service);
      await waitDependencies(ctx, watch, project, o, service);
      const list = await containersOf(ctx, project, o, service);
      await Promise.all(list.map(async (c) => {
        const line = progressId.container(c.name);
        const running = c.running ?? (await ctx.client.containerInspect(c.id)).State.Running;
        if (running) { done(ctx.progress, line, 'Running'); return; }
        working(ctx.progress, line, 'Starting');
        try {
          await ctx.client.containerStart(c.id);
          done(ctx.progress, line, 'Started');
        } catch (e) {
          failed(ctx.progress, line, 'Error', (e as Error).message);
          throw e;
        }
      }));
    } catch (e) {
      order.failed();
      throw e;
    } finally {
      order.started(service);
    }
  }, { parallel: o.parallel }));
}

/**
 * `up --wait`: every container of `services` running (healthy when it has a health check);
 * a container that exits or turns unhealthy fails it, naming the container and its service.
 */
export function waitRunningOrHealthy(ctx: EngineContext, project: Project, services: string[], timeoutSeconds?: number): Promise<void> {
  return withContainerWatch(ctx.client, project.name, (watch) => waitAll(ctx, watch, project, services, timeoutSeconds));
}

async function waitAll(ctx: EngineContext, watch: ContainerWatch, project: Project, services: string[], timeoutSeconds?: number): Promise<void> {
  const deadline = timeoutSeconds ? Date.now() + timeoutSeconds * 1000 : Infinity;
  const list = await projectContainers(ctx.client, project.name, { services });
  await Promise.all(list.map(async (c) => {
    const name = nameOf(c);
    const line = progressId.container(name);
    const service = c.Labels?.['com.docker.compose.service'] ?? '';
    working(ctx.progress, line, 'Waiting');
    for (;;) {
      const changed = await watch.armed(c.Id);
      const i = await ctx.client.containerInspect(c.Id);
      const h = health(i);
      if (!i.State.Running && !i.State.Restarting) {
        // a one-shot service that finished well is what it should be
        if (i.State.ExitCode === 0 && h === undefined && i.State.Status === 'exited') { done(ctx.progress, line, 'Exited'); return; }
        failed(ctx.progress, line, 'Error');
        throw new ComposeError(`container ${name} exited (${i.State.ExitCode}) (service "${service}")`);
      }
      if (h === 'unhealthy') { failed(ctx.progress, line, 'Error'); throw new ComposeError(`container ${name} is unhealthy (service "${service}")`); }
      if (h === undefined && i.State.Running) { done(ctx.progress, line, 'Running'); return; }
      if (h === 'healthy') { done(ctx.progress, line, 'Healthy'); return; }
      if (Date.now() > deadline) {
        failed(ctx.progress, line, 'Error');
        throw new ComposeError(`container ${name} is not ${h === undefined ? 'running' : 'healthy'} after ${timeoutSeconds}s (service "${service}")`);
      }
      await changed();
    }
  }));
}
