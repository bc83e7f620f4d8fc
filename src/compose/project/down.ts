// `compose down`: the project's containers stopped and removed (dependents first), then its
// networks; with -v its named and anonymous volumes, with --rmi its images. External networks and
// volumes are never touched.
import { isNotFound } from '../../client/errors';
import type { ContainerSummary } from '../../client/types';
import type { Project } from '../model';
import { done, failed, working } from '../progress/progress';
import type { EngineContext } from './context';
import { walkInOrder } from './graph';
import { removeContainers } from './lifecycle';
import { defaultImageName, progressId } from './names';
import { byService, projectContainers, serviceOf } from './observed';
import { removeNetworks, removeVolumes } from './resources';
import { handleOrphans } from './up';

export interface DownOptions {
  volumes?: boolean;
  rmi?: 'local' | 'all';
  removeOrphans?: boolean;
  timeout?: number;
  /** only these services (and what the file no longer has when --remove-orphans) */
  services?: string[];
}

export async function downProject(ctx: EngineContext, project: Project, o: DownOptions = {}): Promise<void> {
  if (o.rmi && o.rmi !== 'local' && o.rmi !== 'all') throw new Error(`invalid --rmi option "${o.rmi as string}"`);
  const all = await projectContainers(ctx.client, project.name, { oneoff: true });
  const mine = (c: ContainerSummary) => project.services[serviceOf(c)] || project.disabled_services[serviceOf(c)];
  const selected = o.services?.length ? all.filter((c) => o.services!.includes(serviceOf(c))) : all.filter(mine);
  const groups = byService(selected);
  // dependents first; services set aside by a profile have no place in the graph: they go last
  const inGraph = [...groups.keys()].filter((s) => project.services[s]);
  await walkInOrder(project, inGraph, (s) => removeContainers(ctx, groups.get(s)!, { timeout: o.timeout, volumes: o.volumes }), { reverse: true });
  const rest = [...groups.keys()].filter((s) => !project.services[s]).flatMap((s) => groups.get(s)!);
  await removeContainers(ctx, rest, { timeout: o.timeout, volumes: o.volumes });
  await handleOrphans(ctx, project, !!o.removeOrphans, o.timeout);
  if (o.services?.length) return;
  await removeNetworks(ctx, project);
  if (o.volumes) await removeVolumes(ctx, project);
  if (o.rmi) await removeImages(ctx, project, o.rmi);
}

async function removeImages(ctx: EngineContext, project: Project, which: 'local' | 'all'): Promise<void> {
  const images = new Set<string>();
  for (const s of Object.values(project.services)) {
    if (which === 'all' || !s.image) images.add(defaultImageName(project, s));
  }
  for (const image of images) {
    const line = progressId.image(image);
    try {
      await ctx.client.imageInspect(image);
    } catch (e) {
      if (isNotFound(e)) continue;
      throw e;
    }
    working(ctx.progress, line, 'Removing');
    try {
      await ctx.client.imageRemove(image);
      done(ctx.progress, line, 'Removed');
    } catch (e) {
      failed(ctx.progress, line, 'Error', (e as Error).message);
      throw e;
    }
  }
}
