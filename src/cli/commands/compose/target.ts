// Which project a running-project command acts on, as compose v2 decides: commands that only
// need the name take -p or COMPOSE_PROJECT_NAME without reading a file (compose's
// toProjectName); ps and logs also load the file when there is one, to know its services
// (compose's projectOrName).
import type { Command } from 'commander';
import type { Project } from '../../../compose/model';
import type { Cli } from '../../cli';
import { composeGlobals, withProject } from './index';

export interface ProjectTarget {
  name: string;
  /** absent when the name came from -p / COMPOSE_PROJECT_NAME and no file was read */
  project?: Project;
}

/** compose's toProjectName */
export async function projectName(cmd: Command, cli: Cli): Promise<string> {
  const g = composeGlobals(cmd);
  if (g.projectName) return g.projectName;
  if (process.env.COMPOSE_PROJECT_NAME) return process.env.COMPOSE_PROJECT_NAME;
  return (await withProject(cmd, cli)).name;
}

/** compose's projectOrName: the file when -f is given or no -p; COMPOSE_PROJECT_NAME when the file cannot be loaded. */
export async function projectOrName(cmd: Command, cli: Cli, services: string[] = []): Promise<ProjectTarget> {
  const g = composeGlobals(cmd);
  if (!g.file?.length && g.projectName) return { name: g.projectName };
  try {
    const project = await withProject(cmd, cli, { services });
    return { name: project.name, project };
  } catch (e) {
    if (process.env.COMPOSE_PROJECT_NAME) return { name: process.env.COMPOSE_PROJECT_NAME };
    throw e;
  }
}
