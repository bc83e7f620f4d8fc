// What the engine finds on berthd: a project's containers by their labels (the queries are
// compose-cmds' src/compose/query, shared by every compose command).
import type { Client } from '../../client/client';
import type { ContainerSummary } from '../../client/types';
import { canonicalName, containerNumber, projectContainers as queryContainers, serviceOf } from '../query/containers';

export { serviceOf, containerNumber as numberOf };

export interface ListOptions {
  /** the stopped ones too (default: yes) */
  all?: boolean;
  /** only these services */
  services?: string[];
  /** one-off (`compose run`) containers too */
  oneoff?: boolean;
}

/** The project's containers, by service then number. */
export async function projectContainers(client: Client, project: string, o: ListOptions = {}): Promise<ContainerSummary[]> {
  const list = await queryContainers(client, project, { all: o.all ?? true, services: o.services, oneOff: o.oneoff ? 'include' : 'exclude' });
  return list.sort((a, b) => serviceOf(a).localeCompare(serviceOf(b)) || containerNumber(a) - containerNumber(b));
}

export function nameOf(c: ContainerSummary): string {
  return canonicalName(c);
}

/** compose v2's log prefix for a container named `name`: without the `project-` in front. */
export function nameWithoutProject(project: string, name: string): string {
  return name.startsWith(`${project}-`) ? name.slice(project.length + 1) : name;
}

export function byService(list: ContainerSummary[]): Map<string, ContainerSummary[]> {
  const m = new Map<string, ContainerSummary[]>();
  for (const c of list) {
    const s = serviceOf(c);
    if (!m.has(s)) m.set(s, []);
    m.get(s)!.push(c);
  }
  return m;
}
