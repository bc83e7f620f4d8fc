// `compose create` and `compose up`: resources, images, convergence, the start phase, and for
// an attached `up` the containers' output until they exit (or Ctrl-C stops the project).
import type { ContainerSummary } from '../../client/types';
import type { Project } from '../model';
import type { LogPrefixer } from '../progress/logprefix';
import { attachContainer, watchContainer, type AttachedContainer } from './attach';
import type { EngineContext } from './context';
import { logrusWarning } from './context';
import { checkServiceKeys } from './createbody';
import { Converger, type ConvergeResult, type RecreatePolicy } from './converge';
import { ComposeError } from './errors';
import { allSettledOrThrow, dependents, withDependencies } from './graph';
import { ensureImages, type ImageTools, type PullFlag } from './images';
import { removeContainers, restartServices, stopServices } from './lifecycle';
import { nameOf, nameWithoutProject, projectContainers, serviceOf } from './observed';
import { ensureResources } from './resources';
import { startServices, waitRunningOrHealthy } from './start';

export interface CreateOptions {
  /** services named on the command line (all when empty) */
  services?: string[];
  noDeps?: boolean;
  build?: boolean;
  noBuild?: boolean;
  pull?: PullFlag;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  alwaysRecreateDeps?: boolean;
  renewAnonVolumes?: boolean;
  removeOrphans?: boolean;
  scale?: Record<string, number>;
  timeout?: number;
  parallel?: number;
  /** --all-resources: the file's networks and volumes that no service uses are made too */
  allResources?: boolean;
}

/** The services an operation touches: those named plus their dependencies (unless --no-deps). */
export function selectServices(project: Project, names: string[] = [], noDeps = false): string[] {
  for (const n of names) {
    if (!project.services[n]) {
      if (project.disabled_services[n]) throw new ComposeError(`service "${n}" has profiles that are not enabled: ${((project.disabled_services[n].profiles as string[] | undefined) ?? []).join(', ')}`);
      throw new ComposeError(`no such service: ${n}`);
    }
  }
  return noDeps ? (names.length ? names : Object.keys(project.services)) : withDependencies(project, names);
}

/** Containers of services neither in the file nor set aside by a profile: compose's orphans. */
export async function handleOrphans(ctx: EngineContext, project: Project, remove: boolean, timeout?: number, listed?: ContainerSummary[]): Promise<void> {
  const all = listed ?? await projectContainers(ctx.client, project.name);
  const orphans = all.filter((c) => !project.services[serviceOf(c)] && !project.disabled_services[serviceOf(c)]);
  if (!orphans.length) return;
  if (remove) { await removeContainers(ctx, orphans, { timeout }); return; }
  ctx.warn(logrusWarning(`Found orphan containers ([${orphans.map(nameOf).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`));
}

/** Checks, orphans, networks, volumes and images (side by side), and the converger that makes the containers. */
async function prepareProject(ctx: EngineContext, tools: ImageTools, project: Project, o: CreateOptions): Promise<{ services: string[]; converger: Converger }> {
  if (o.forceRecreate && o.noRecreate) throw new ComposeError('--force-recreate and --no-recreate are incompatible');
  for (const [name] of Object.entries(o.scale ?? {})) if (!project.services[name]) throw new ComposeError(`no such service: ${name}`);
  const services = selectServices(project, o.services, o.noDeps);
  for (const s of services) checkServiceKeys(project.services[s]);
  // the project's containers are listed beside the network, volume and image requests (one round trip less before the creates)
  const listing = projectContainers(ctx.client, project.name);
  const [observed, , , imageIds] = await allSettledOrThrow<[ContainerSummary[], void, void, Map<string, string>]>([
    listing,
    listing.then((listed) => handleOrphans(ctx, project, !!o.removeOrphans, o.timeout, listed)),
    ensureResources(ctx, project, services, o.allResources),
    ensureImages(ctx, tools, project, services, { build: o.build, noBuild: o.noBuild, pull: o.pull }),
  ]);
  const recreate: RecreatePolicy = o.forceRecreate ? 'force' : o.noRecreate ? 'never' : 'diverged';
  const converger = new Converger(ctx, project, {
    recreate, recreateDependencies: o.alwaysRecreateDeps ? 'force' : o.noRecreate ? 'never' : 'diverged',
    requested: o.services, scale: o.scale, timeout: o.timeout, imageIds, renewAnonVolumes: o.renewAnonVolumes, parallel: o.parallel,
    // orphans removed just now are not there to converge
    observed: observed.filter((c) => project.services[serviceOf(c)]),
  });
  return { services, converger };
}

export async function createProject(ctx: EngineContext, tools: ImageTools, project: Project, o: CreateOptions): Promise<ConvergeResult> {
  const { services, converger } = await prepareProject(ctx, tools, project, o);
  return converger.run(services);
}

export interface UpOptions extends CreateOptions {
  detach?: boolean;
  wait?: boolean;
  waitTimeout?: number;
  abortOnContainerExit?: boolean;
  exitCodeFrom?: string;
  /** only create and start, print nothing of the containers (compose up --no-start) */
  noStart?: boolean;
  /** attach to these services' containers (default: the services named, or all) */
  attach?: string[];
  /** --no-attach: never these services' output */
  noAttach?: string[];
  /** --abort-on-container-failure: stop all when a container exits with a non-zero code (that code is the status) */
  abortOnContainerFailure?: boolean;
}

export interface UpIo {
  /** the log printer of an attached `up` */
  printer?: LogPrefixer;
  /** stdout line ("Attaching to ...") */
  println(s: string): void;
  /** called when the start phase is over and logs may flow (the progress display stops) */
  startPhaseDone?(): void;
  /** a signal (Ctrl-C) asks an attached up to stop */
  onInterrupt?(handler: (count: number) => void): void;
}

/** `up`: returns the exit status (0, or the exit code asked for by --exit-code-from / --abort-on-container-exit). */
export async function upProject(ctx: EngineContext, tools: ImageTools, project: Project, o: UpOptions, io: UpIo): Promise<number> {
  if (o.exitCodeFrom && !project.services[o.exitCodeFrom]) throw new ComposeError(`no such service: ${o.exitCodeFrom}`);
  if ((o.abortOnContainerExit || o.exitCodeFrom) && o.abortOnContainerFailure) throw new ComposeError('--abort-on-container-failure cannot be combined with --abort-on-container-exit');
  if (o.detach && (o.abortOnContainerExit || o.exitCodeFrom || o.abortOnContainerFailure)) throw new ComposeError('--abort-on-container-exit and --detach are incompatible');
  if (o.wait) o.detach = true;
  if (o.detach && !o.noStart) return upDetached(ctx, tools, project, o);
  const converged = await createProject(ctx, tools, project, o);
  const services = [...converged.containers.keys()];
  if (o.noStart) return 0;
  const attachTo = o.detach ? [] : (o.attach ?? (o.services?.length ? o.services : services)).filter((s) => !o.noAttach?.includes(s));
  const attached: AttachedContainer[] = [];
  const watched: AttachedContainer[] = [];
  if (!o.detach && io.printer) {
    for (const s of attachTo) {
      for (const c of converged.containers.get(s) ?? []) {
        attached.push(await attachContainer(ctx.client, io.printer, { id: c.id, name: c.name, service: s, running: c.running }, nameWithoutProject(project.name, c.name)));
      }
    }
    // the other services up starts are waited on too, their output left out
    const required = o.services?.length ? o.services : services;
    for (const s of required.filter((x) => !attachTo.includes(x))) {
      for (const c of converged.containers.get(s) ?? []) {
        watched.push(await watchContainer(ctx.client, io.printer, { id: c.id, service: s, running: c.running }, nameWithoutProject(project.name, c.name)));
      }
    }
  }
  if (attached.length) io.println(`Attaching to ${attached.map((a) => a.name).sort().join(', ')}`);
  const containers = new Map([...converged.containers].map(([s, list]) => [s, list.map((c) => ({ id: c.id, name: c.name, running: c.running }))]));
  try {
    await startServices(ctx, project, { services, containers, parallel: o.parallel });
    await restartDependents(ctx, project, converged, o.timeout);
  } catch (e) {
    for (const a of [...attached, ...watched]) a.detach();
    throw e;
  }
  io.startPhaseDone?.();
  if (o.detach || !io.printer) return 0;
  return followAttached(ctx, project, o, io, [...attached, ...watched]);
}

/** Dependents that asked for it (depends_on restart: true) restart after a dependency was replaced. */
async function restartDependents(ctx: EngineContext, project: Project, converged: ConvergeResult, timeout?: number): Promise<void> {
  const toRestart = new Set<string>();
  for (const s of converged.recreated) {
    for (const d of dependents(project, s)) {
      if (project.services[d].depends_on[s]?.restart && !converged.recreated.has(d) && converged.containers.has(d)) toRestart.add(d);
    }
  }
  if (toRestart.size) await restartServices(ctx, project, [...toRestart], timeout);
}

/**
 * `up -d`: each service started as soon as its containers are made and its dependencies meet
 * their conditions, while the services that wait on it are still being created (compose v2
 * creates everything before the first start; the result is the same, sooner).
 */
async function upDetached(ctx: EngineContext, tools: ImageTools, project: Project, o: UpOptions): Promise<number> {
  const { services, converger } = await prepareProject(ctx, tools, project, o);
  const ready = async (service: string) => (await converger.converged(service)).map((c) => ({ id: c.id, name: c.name, running: c.running }));
  const [made] = await allSettledOrThrow<[ConvergeResult, void]>([converger.run(services), startServices(ctx, project, { services, ready, parallel: o.parallel })]);
  await restartDependents(ctx, project, made, o.timeout);
  if (o.wait) await waitRunningOrHealthy(ctx, project, services, o.waitTimeout);
  return 0;
}

async function followAttached(ctx: EngineContext, project: Project, o: UpOptions, io: UpIo, attached: AttachedContainer[]): Promise<number> {
  const printer = io.printer!;
  const abort = o.abortOnContainerExit || !!o.exitCodeFrom || !!o.abortOnContainerFailure;
  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= stopServices(ctx, project, [], o.timeout).then(() => undefined));
  let interrupted = false;
  io.onInterrupt?.((count) => {
    interrupted = true;
    if (count === 1) { io.println('Gracefully stopping... (press Ctrl+C again to force)'); void stopAll(); }
  });
  await Promise.all(attached.map(async (a) => {
    const code = await a.exited.catch(() => -1);
    printer.status(a.name, `exited with code ${code}`);
    // --abort-on-container-failure: only a failure stops the others, and its code is the status
    if (o.abortOnContainerFailure && code === 0) return;
    if (o.exitCodeFrom ? a.service === o.exitCodeFrom : abort && !stopping) exitCode = code;
    if (abort && !stopping) {
      io.println('Aborting on container exit...');
      void stopAll();
    }
  }));
  if (stopping) await stopping;
  if (interrupted && !abort) return 130;
  return exitCode;
}
