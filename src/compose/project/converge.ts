// Convergence, compose v2's way: for each service (in dependency order) the containers that
// carry its labels are compared with the file. One whose config hash (and image) is unchanged is
// kept; a changed one is replaced (the new one made under a temporary name, the old one stopped
// and removed, the new one renamed, its anonymous volumes kept); the count follows the scale,
// adding the next numbers and removing the highest first.
import type { ContainerSummary } from '../../client/types';
import { LABEL, type Project, type Service } from '../model';
import { done, failed, working } from '../progress/progress';
import type { EngineContext } from './context';
import { containerCreateBody } from './createbody';
import { ComposeError } from './errors';
import { walkInOrder } from './graph';
import { removeContainers } from './lifecycle';
import { serviceConfigHash } from './hash';
import { containerName, progressId, replacementName } from './names';
import { byService, nameOf, numberOf, projectContainers } from './observed';

export type RecreatePolicy = 'diverged' | 'force' | 'never';

export interface ConvergeOptions {
  /** for the services asked for */
  recreate?: RecreatePolicy;
  /** for the dependencies pulled in (compose: diverged, or force with --always-recreate-deps) */
  recreateDependencies?: RecreatePolicy;
  /** the services asked for (the others converge as dependencies) */
  requested?: string[];
  /** --scale SERVICE=N */
  scale?: Record<string, number>;
  /** stop timeout (seconds) for what is replaced or scaled away; the service's stop_grace_period otherwise */
  timeout?: number;
  /** service → image id, for the image label and to replace containers of a rebuilt image */
  imageIds?: Map<string, string>;
  /** -V: anonymous volumes made new instead of kept */
  renewAnonVolumes?: boolean;
  parallel?: number;
  /** the project's containers as listed already (listed again when absent) */
  observed?: ContainerSummary[];
}

/** One container of a service after convergence. */
export interface ConvergedContainer {
  id: string;
  name: string;
  number: number;
  /** running before the start phase (kept as it was) */
  running: boolean;
  /** made or replaced by this convergence */
  fresh: boolean;
}

export interface ConvergeResult {
  containers: Map<string, ConvergedContainer[]>;
  /** services whose containers were replaced (their dependents with restart: true restart) */
  recreated: Set<string>;
}

export function serviceScale(service: Service, override?: number): number {
  const n = override ?? service.scale ?? service.deploy?.replicas ?? 1;
  if (n > 1 && service.container_name) {
    throw new ComposeError(`WARNING: The "${service.name}" service is using the custom container name "${service.container_name}". Docker requires each container to have a unique name. Remove the custom name to scale the service.`);
  }
  return n;
}

function mustRecreate(service: Service, c: ContainerSummary, policy: RecreatePolicy, imageId: string | undefined): boolean {
  if (policy === 'never') return false;
  if (policy === 'force') return true;
  if (c.Labels?.[LABEL.configHash] !== serviceConfigHash(service)) return true;
  return !!imageId && !!c.Labels?.[LABEL.image] && c.Labels[LABEL.image] !== imageId;
}

interface Settled<T> { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void }

function settled<T>(): Settled<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => { resolve = a; reject = b; });
  promise.catch(() => undefined); // awaited by whoever asks; a failure nobody waits on is run()'s to throw
  return { promise, resolve, reject };
}

export class Converger {
  private readonly result: ConvergeResult = { containers: new Map(), recreated: new Set() };
  private readonly perService = new Map<string, Settled<ConvergedContainer[]>>();

  constructor(private readonly ctx: EngineContext, private readonly project: Project, private readonly o: ConvergeOptions) {}

  /** A service's containers once it has converged (rejected when the convergence failed first). */
  converged(service: string): Promise<ConvergedContainer[]> {
    let s = this.perService.get(service);
    if (!s) this.perService.set(service, (s = settled()));
    return s.promise;
  }

  async run(services: string[]): Promise<ConvergeResult> {
    try {
      const observed = byService(this.o.observed ?? await projectContainers(this.ctx.client, this.project.name));
      for (const name of services) serviceScale(this.project.services[name], this.o.scale?.[name]);
      await walkInOrder(this.project, services, async (name) => {
        await this.convergeService(this.project.services[name], observed.get(name) ?? []);
        void this.converged(name);
        this.perService.get(name)!.resolve(this.result.containers.get(name)!);
      }, { parallel: this.o.parallel });
    } catch (e) {
      for (const name of services) { void this.converged(name); this.perService.get(name)!.reject(e); }
      throw e;
    }
    return this.result;
  }

  /** The first container of a service converged so far (network_mode service:, volumes_from). */
  private serviceContainer = (service: string): string | undefined => this.result.containers.get(service)?.[0]?.id;

  private async convergeService(service: Service, existing: ContainerSummary[]): Promise<void> {
    const requested = !this.o.requested?.length || this.o.requested.includes(service.name);
    const policy = (requested ? this.o.recreate : this.o.recreateDependencies) ?? 'diverged';
    const expected = serviceScale(service, this.o.scale?.[service.name]);
    const imageId = this.o.imageIds?.get(service.name);
    const sorted = [...existing].sort((a, b) => numberOf(a) - numberOf(b));
    const out: ConvergedContainer[] = [];
    // scale down: the highest numbers go first
    const surplus = sorted.slice(expected);
    // (without -t, each container's own StopTimeout, its stop_grace_period, applies)
    await removeContainers(this.ctx, surplus, { timeout: this.o.timeout });
    for (const c of sorted.slice(0, expected)) {
      if (mustRecreate(service, c, policy, imageId)) {
        out.push(await this.recreate(service, c, imageId));
        this.result.recreated.add(service.name);
      } else {
        out.push({ id: c.Id, name: nameOf(c), number: numberOf(c), running: c.State === 'running' || c.State === 'restarting', fresh: false });
      }
    }
    let next = Math.max(0, ...existing.map(numberOf)) + 1;
    const created: Promise<ConvergedContainer>[] = [];
    for (let i = out.length; i < expected; i++) created.push(this.create(service, next++, imageId));
    out.push(...(await Promise.all(created)));
    this.result.containers.set(service.name, out.sort((a, b) => a.number - b.number));
  }

  private async create(service: Service, number: number, imageId: string | undefined, replacing?: ContainerSummary): Promise<ConvergedContainer> {
    const name = containerName(this.project, service, number);
    const spec = containerCreateBody(this.project, service, number, {
      imageId,
      serviceContainer: this.serviceContainer,
      inherit: replacing && !this.o.renewAnonVolumes ? { Id: replacing.Id, Mounts: replacing.Mounts ?? [] } : undefined,
      name: replacing ? replacementName(replacing.Id, name) : name,
      extraLabels: replacing ? { [LABEL.replace]: replacing.Id } : undefined,
    });
    const id = progressId.container(name);
    if (!replacing) working(this.ctx.progress, id, 'Creating');
    try {
      const r = await this.ctx.client.containerCreate(spec.body, { name: spec.name, platform: spec.platform });
      for (const n of spec.extraNetworks) await this.ctx.client.networkConnect(n.network, r.Id, n.endpoint);
      if (!replacing) done(this.ctx.progress, id, 'Created');
      return { id: r.Id, name: spec.name, number, running: false, fresh: true };
    } catch (e) {
      if (!replacing) failed(this.ctx.progress, id, 'Error', (e as Error).message);
      throw e;
    }
  }

  private async recreate(service: Service, old: ContainerSummary, imageId: string | undefined): Promise<ConvergedContainer> {
    const name = nameOf(old);
    const id = progressId.container(name);
    working(this.ctx.progress, id, 'Recreate');
    try {
      const fresh = await this.create(service, numberOf(old), imageId, old);
      await this.ctx.client.containerStop(old.Id, { timeout: this.o.timeout });
      await this.ctx.client.containerRemove(old.Id, { force: true });
      const finalName = containerName(this.project, service, numberOf(old));
      await this.ctx.client.containerRename(fresh.id, finalName);
      done(this.ctx.progress, id, 'Recreated');
      return { ...fresh, name: finalName };
    } catch (e) {
      failed(this.ctx.progress, id, 'Error', (e as Error).message);
      throw e;
    }
  }

}
