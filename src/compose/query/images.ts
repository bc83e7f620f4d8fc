// The images a project's containers use (compose v2's Images): one entry per container, with the
// image's first tag split into repository and tag.
import type { Client } from '../../client/client';
import { ApiError } from '../../client/errors';
import { familiarRepo, parseNormalizedNamed } from '../../lib/reference';
import { LABEL } from '../model';
import { canonicalName, serviceOf } from './containers';

export interface ContainerImage {
  ID: string;
  ContainerName: string;
  Repository: string;
  Tag: string;
  Size: number;
}

export async function projectImages(client: Client, project: string, services: string[] = []): Promise<ContainerImage[]> {
  let list = await client.containerList({ all: true, filters: { label: [`${LABEL.project}=${project.toLowerCase()}`] } });
  if (services.length) list = list.filter((c) => services.includes(serviceOf(c)));
  const ids = [...new Set(list.map((c) => c.ImageID))];
  const images = new Map<string, Omit<ContainerImage, 'ContainerName'>>();
  await Promise.all(ids.map(async (id) => {
    try {
      const img = await client.imageInspect(id);
      let repository = '', tag = '';
      const first = img.RepoTags?.[0];
      if (first) {
        const r = parseNormalizedNamed(first);
        repository = familiarRepo(r);
        tag = r.tag ?? '';
      }
      images.set(id, { ID: img.Id, Repository: repository, Tag: tag, Size: img.Size });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw new Error(`unable to get image '${id}': ${(e as Error).message}`);
    }
  }));
  return list.map((c) => {
    const img = images.get(c.ImageID);
    if (!img) throw new Error(`failed to retrieve image for container ${canonicalName(c)}`);
    return { ID: img.ID, ContainerName: canonicalName(c), Repository: img.Repository, Tag: img.Tag, Size: img.Size };
  });
}
