// Finding a project's containers on the engine by compose v2's labels: by project, service,
// container number and one-off-ness, as `docker compose` does, so either tool sees the other's.
import type { Client } from '../../client/client';
import type { ContainerSummary, Filters } from '../../client/types';
import { LABEL } from '../model';
import { projectFilter } from '../project/labels';

export function serviceOf(c: { Labels: Record<string, string> | null }): string {
  return c.Labels?.[LABEL.service] ?? '';
}

export function containerNumber(c: { Labels: Record<string, string> | null }): number {
  return parseInt(c.Labels?.[LABEL.number] ?? '', 10) || 0;
}

/** Compose's label for the random id of a one-off (`run`) container. */
export const SLUG_LABEL = 'com.docker.compose.slug';

/** Which one-off (`compose run`) containers a query includes. */
export type OneOff = 'include' | 'exclude' | 'only';

export interface ContainerQuery {
  /** stopped containers too */
  all?: boolean;
  oneOff?: OneOff;
  /** only these services (none: every service) */
  services?: string[];
}

/** The label filters compose v2 lists a project's containers with. */
export function projectFilters(project: string, oneOff: OneOff, service?: string): Filters & { label: string[] } {
  const extra = service !== undefined ? [`${LABEL.service}=${service}`] : [];
  extra.push(LABEL.configHash);
  if (oneOff === 'only') extra.push(`${LABEL.oneoff}=True`);
  else if (oneOff === 'exclude') extra.push(`${LABEL.oneoff}=False`);
  return projectFilter(project, extra) as Filters & { label: string[] };
}

/** The project's containers (compose's getContainers). */
export async function projectContainers(client: Client, project: string, q: ContainerQuery = {}): Promise<ContainerSummary[]> {
  const services = q.services ?? [];
  const filters = projectFilters(project.toLowerCase(), q.oneOff ?? 'exclude', services.length === 1 ? services[0] : undefined);
  const list = await client.containerList({ all: !!q.all, filters });
  return services.length > 1 ? list.filter((c) => services.includes(serviceOf(c))) : list;
}

/**
 * The container a per-container command (exec, port) acts on: the one numbered `index`, or the
 * lowest-numbered one, service containers before one-off ones (compose's getSpecifiedContainer).
 */
export async function serviceContainer(client: Client, project: string, service: string, o: { index?: number; all?: boolean; oneOff?: OneOff } = {}): Promise<ContainerSummary> {
  const filters = projectFilters(project.toLowerCase(), o.oneOff ?? 'include', service);
  if (o.index && o.index > 0) filters.label.push(`${LABEL.number}=${o.index}`);
  const list = await client.containerList({ all: !!o.all, filters });
  if (list.length === 0) {
    throw new Error(o.index && o.index > 0 ? `service "${service}" is not running container #${o.index}` : `service "${service}" is not running`);
  }
  list.sort((a, b) => {
    const na = containerNumber(a), nb = containerNumber(b);
    if (na !== nb) return na - nb;
    return Number(isOneOff(a)) - Number(isOneOff(b));
  });
  return list[0];
}

export function isOneOff(c: { Labels: Record<string, string> | null }): boolean {
  return c.Labels?.[LABEL.oneoff] === 'True';
}

/** The container's own name (not a link alias), without the slash; its short ID if it has none. */
export function canonicalName(c: { Id: string; Names: string[] | null }): string {
  const names = c.Names ?? [];
  if (names.length === 0) return c.Id.slice(0, 12);
  const own = names.find((n) => n.lastIndexOf('/') === 0);
  return (own ?? names[0]).replace(/^\//, '');
}

/** `web-1` for `proj-web-1`; a container_name is kept whole (compose's getContainerNameWithoutProject). */
export function nameWithoutProject(c: { Id: string; Names: string[] | null; Labels: Record<string, string> | null }): string {
  const name = canonicalName(c);
  const project = c.Labels?.[LABEL.project] ?? '';
  const defaultName = `${project}-${c.Labels?.[LABEL.service] ?? ''}-${c.Labels?.[LABEL.number] ?? ''}`;
  return name === defaultName ? name.slice(project.length + 1) : name;
}

export function byName(a: { Id: string; Names: string[] | null }, b: { Id: string; Names: string[] | null }): number {
  const x = canonicalName(a), y = canonicalName(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
