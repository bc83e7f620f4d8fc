// Renaming: the new name is claimed before the old one is released.
import { InvalidParameterError } from '../../lib/errors';
import type { ContainerContext } from './context';

export async function renameContainer(ctx: Pick<ContainerContext, 'store' | 'locks' | 'publish'>, ref: string, newName: string): Promise<void> {
  const c = ctx.store.get(ref);
  if (!newName) throw new InvalidParameterError('Neither old nor new names may be empty');
  const full = newName.startsWith('/') ? newName : '/' + newName;
  if (full === c.Name) throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
  await ctx.locks.run(c.Id, async () => {
    const old = c.Name;
    ctx.store.reserveName(full, c.Id);
    c.Name = full;
    try {
      await ctx.store.save(c);
    } catch (e) {
      ctx.store.releaseName(full);
      c.Name = old;
      throw e;
    }
    ctx.store.releaseName(old);
    ctx.publish(c, 'rename', { oldName: old });
  });
}
