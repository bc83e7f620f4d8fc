// What the engine finds on berthd: a project's containers by their labels.
import type { Client } from '../../client/client';
import type { ContainerSummary } from '../../client/types';
import { LABEL } from '../model';
import { projectFilter } from './labels';

export interface ListOptions {
  /** the stopped ones too */
  all?: boolean;
  /** only these services */
  services?: string[];
  /** one-off (`compose run`) containers too */
  oneoff?: boolean;
}

export async function projectContainers(client: Client, project: string, o: ListOptions = {}): Promise<ContainerSummary[]> {
  const extra = o.oneoff ? [] : [`${LABEL.oneoff}=False`];
  const list = await client.containerList({ all: o.all ?? true, filters: projectFilter(project, extra) });
  const wanted = o.services?.length ? new Set(o.services) : undefined;
  return list.filter((c) => !wanted || wanted.has(serviceOf(c))).sort((a, b) => serviceOf(a).localeCompare(serviceOf(b)) || numberOf(a) - numberOf(b));
}

export function serviceOf(c: ContainerSummary): string {
  return c.Labels?.[LABEL.service] ?? '';
}

export function numberOf(c: ContainerSummary): number {
  return parseInt(c.Labels?.[LABEL.number] ?? '0', 10) || 0;
}

export function nameOf(c: { Names?: string[]; Name?: string }): string {
  return (c.Names?.[0] ?? c.Name ?? '').replace(/^\//, '');
}

/** compose v2's log prefix: the name without the `project-` in front. */
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
