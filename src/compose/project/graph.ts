// The dependency graph of a project's services: depends_on, network_mode service:, volumes_from
// and links. Starts go in dependency order, stops in the reverse; services that do not depend on
// each other run side by side, at most `parallel` at once.
import type { Project, Service } from '../model';
import { ComposeError } from './errors';

/** The services `service` needs started before it (those in the project: a disabled optional one is skipped). */
export function dependencies(project: Project, service: Service): string[] {
  const deps = new Set<string>();
  for (const [name, d] of Object.entries(service.depends_on)) {
    if (project.services[name]) deps.add(name);
    else if (d.required !== false) throw new ComposeError(`service "${service.name}" depends on undefined service "${name}": invalid compose project`);
  }
  if (service.network_mode?.startsWith('service:')) deps.add(service.network_mode.slice('service:'.length));
  for (const v of (service.volumes_from as string[] | undefined) ?? []) {
    const ref = v.split(':')[0];
    if (ref !== 'container') deps.add(ref);
  }
  for (const l of (service.links as string[] | undefined) ?? []) deps.add(l.split(':')[0]);
  for (const d of deps) {
    if (!project.services[d]) throw new ComposeError(`service "${service.name}" depends on undefined service "${d}": invalid compose project`);
  }
  return [...deps];
}

/** `names` and every service they need, transitively (all services when names is empty). */
export function withDependencies(project: Project, names: string[]): string[] {
  if (!names.length) return Object.keys(project.services);
  const out = new Set<string>();
  const visit = (n: string) => {
    if (out.has(n)) return;
    const s = project.services[n];
    if (!s) throw new ComposeError(`no such service: ${n}`);
    out.add(n);
    for (const d of dependencies(project, s)) visit(d);
  };
  names.forEach(visit);
  return [...out];
}

/** The services that depend on `name` (directly). */
export function dependents(project: Project, name: string): string[] {
  return Object.values(project.services).filter((s) => dependencies(project, s).includes(name)).map((s) => s.name);
}

/** Throws compose's error on a cycle. */
export function checkAcyclic(project: Project): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, trail: string[]) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') throw new ComposeError(`dependency cycle detected: ${[...trail.slice(trail.indexOf(n)), n].join(' -> ')}`);
    state.set(n, 'visiting');
    for (const d of dependencies(project, project.services[n])) visit(d, [...trail, n]);
    state.set(n, 'done');
  };
  for (const n of Object.keys(project.services)) visit(n, []);
}

/**
 * Promise.all that lets every request finish before it throws the first failure: a command must
 * not exit with a write still in flight (the next one would race it, e.g. to create the same network).
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(work: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** A bound on how many things run at once. */
export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.max > 0 && this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

export interface WalkOptions {
  /** stop order: a service after every service (of `names`) that depends on it */
  reverse?: boolean;
  /** at most this many at once (0: no bound) */
  parallel?: number;
}

/**
 * Run `fn` for each of `names`, each after the ones it waits for (its dependencies, or with
 * `reverse` its dependents) among `names`. The first failure stops what has not started and is thrown.
 */
export async function walkInOrder(project: Project, names: string[], fn: (name: string) => Promise<void>, opts: WalkOptions = {}): Promise<void> {
  checkAcyclic(project);
  const selected = new Set(names);
  const waitsFor = new Map<string, string[]>();
  for (const n of names) {
    const edges = opts.reverse
      ? names.filter((m) => dependencies(project, project.services[m]).includes(n))
      : dependencies(project, project.services[n]).filter((d) => selected.has(d));
    waitsFor.set(n, edges);
  }
  const limiter = new Limiter(opts.parallel ?? 0);
  const done = new Map<string, Promise<void>>();
  let failed: unknown;
  const run = (n: string): Promise<void> => {
    let p = done.get(n);
    if (!p) {
      p = (async () => {
        await Promise.all(waitsFor.get(n)!.map(run));
        if (failed) return;
        await limiter.run(() => fn(n)).catch((e) => { failed ??= e; throw e; });
      })();
      done.set(n, p);
    }
    return p;
  };
  const results = await Promise.allSettled(names.map(run));
  if (failed) throw failed;
  const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (rejected) throw rejected.reason;
}
