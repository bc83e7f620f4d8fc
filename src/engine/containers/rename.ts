// Renaming: the new name is claimed before the old one is released.
import { InvalidParameterError } from '../../lib/errors';
import type { ContainerService } from './ContainerService';

export async function renameContainer(svc: ContainerService, ref: string, newName: string): Promise<void> {
  const c = svc.store.get(ref);
  if (!newName) throw new InvalidParameterError('Neither old nor new names may be empty');
  const full = newName.startsWith('/') ? newName : '/' + newName;
  if (full === c.Name) throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
  await svc.locks.run(c.Id, async () => {
    const old = c.Name;
    svc.store.reserveName(full, c.Id);
    c.Name = full;
    try {
      await svc.store.save(c);
    } catch (e) {
      svc.store.releaseName(full);
      c.Name = old;
      throw e;
    }
    svc.store.releaseName(old);
    svc.publish(c, 'rename', { oldName: old });
  });
}
