// The projects on an engine, as `compose ls` sees them: grouped from the labels of their containers.
import type { Client } from '../../client/client';
import type { ContainerSummary } from '../../client/types';
import { LABEL } from '../model';

export interface ProjectSummary {
  name: string;
  /** "running(3)", "exited(1), running(2)": each state with its count, states sorted */
  status: string;
  /** the config files of every container, each once, joined by "," */
  configFiles: string;
}

export async function listProjects(client: Client, o: { all?: boolean } = {}): Promise<ProjectSummary[]> {
  const list = await client.containerList({ all: !!o.all, filters: { label: [LABEL.project, LABEL.configHash] } });
  return projectsFromContainers(list);
}

export function projectsFromContainers(containers: ContainerSummary[]): ProjectSummary[] {
  const byProject = new Map<string, ContainerSummary[]>();
  for (const c of containers) {
    const name = c.Labels?.[LABEL.project];
    if (name === undefined) continue;
    const l = byProject.get(name) ?? [];
    l.push(c);
    byProject.set(name, l);
  }
  return [...byProject.keys()].sort().map((name) => {
    const cs = byProject.get(name) ?? [];
    return { name, status: combinedStatus(cs.map((c) => c.State)), configFiles: combinedConfigFiles(cs) };
  });
}

export function combinedStatus(states: string[]): string {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.keys()].sort().map((s) => `${s}(${counts.get(s)})`).join(', ');
}

function combinedConfigFiles(cs: ContainerSummary[]): string {
  const files: string[] = [];
  for (const c of cs) {
    const v = c.Labels?.[LABEL.configFiles];
    // compose warns and prints N/A when a container of the project lacks the label
    if (v === undefined) return 'N/A';
    for (const f of v.split(',')) if (!files.includes(f)) files.push(f);
  }
  return files.join(',');
}
