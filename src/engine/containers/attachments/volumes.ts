// A container's mounts as an attachment: its volumes (mounted on their device first when the
// volume has one; copied up from the image when empty and asked to), binds (a `-v` source that
// does not exist is made as a directory, as Docker) and tmpfs mounts, as runtime mount specs,
// parents before children. Released at each exit: a device-backed volume is unmounted after
// its last running user. What the volumes are, and who uses them, is the volume service's.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from '../../../lib/errors';
import type { MountSpec } from '../../../runtime/types';
import { copyUp } from '../../volumes/copyup';
import type { VolumeService } from '../../volumes/VolumeService';
import type { ContainerRecord } from '../Container';
import { parseTmpfsOptions, volumeNames, type MountPoint } from '../mountpoints';
import type { Attachment } from './types';

export interface VolumesAttachmentDeps {
  volumes: VolumeService;
  /** The container's mounted root filesystem (mounted before the attachments are prepared). */
  rootfsOf(id: string): Promise<string>;
}

const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

/** The host mount holding `p` and its propagation tags (mountinfo's optional fields: shared:N, master:N). */
async function hostMountOf(p: string): Promise<{ mountPoint: string; tags: string[] }> {
  const real = await fsp.realpath(p);
  let best = { mountPoint: '/', tags: [] as string[] };
  for (const line of (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0) continue;
    const mp = f[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    const inside = mp === '/' || real === mp || real.startsWith(mp + '/');
    // Later lines are mounted later: one on the same point hides the earlier.
    if (inside && mp.length >= best.mountPoint.length) best = { mountPoint: mp, tags: f.slice(6, sep) };
  }
  return best;
}

/** As Docker: a shared or slave bind needs a source whose mount can propagate that way. */
async function checkPropagation(mp: MountPoint): Promise<void> {
  const prop = mp.Propagation;
  const shared = prop === 'shared' || prop === 'rshared';
  const slave = prop === 'slave' || prop === 'rslave';
  if (!shared && !slave) return;
  const m = await hostMountOf(mp.Source);
  const isShared = m.tags.some((t) => t.startsWith('shared:'));
  const isSlave = m.tags.some((t) => t.startsWith('master:'));
  if (shared && !isShared) throw new InvalidParameterError(`path ${mp.Source} is mounted on ${m.mountPoint} but it is not a shared mount`);
  if (slave && !isShared && !isSlave) throw new InvalidParameterError(`path ${mp.Source} is mounted on ${m.mountPoint} but it is not a shared or slave mount`);
}

async function bindSpec(mp: MountPoint): Promise<MountSpec> {
  if (!fs.existsSync(mp.Source)) {
    if (!mp.CreateSource) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${mp.Source}`);
    await fsp.mkdir(mp.Source, { recursive: true, mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
      // a path the client named that cannot be made (too long, a file in the way): its fault, Docker's words
      if (['ENAMETOOLONG', 'ENOTDIR', 'EEXIST', 'ELOOP'].includes(e.code ?? '')) {
        throw new InvalidParameterError(`error while creating mount source path '${mp.Source}': mkdir ${mp.Source}: ${e.code === 'ENAMETOOLONG' ? 'file name too long' : e.code === 'ENOTDIR' ? 'not a directory' : e.code === 'ELOOP' ? 'too many levels of symbolic links' : 'file exists'}`, { cause: e });
      }
      throw e;
    });
  }
  await checkPropagation(mp);
  return {
    destination: mp.Destination, type: 'bind', source: mp.Source,
    options: [mp.NonRecursive ? 'bind' : 'rbind', mp.Propagation || 'rprivate', mp.RW ? 'rw' : 'ro'],
  };
}

function tmpfsSpec(dest: string, options: string[], rw: boolean): MountSpec {
  return { destination: dest, type: 'tmpfs', source: 'tmpfs', options: [...TMPFS_DEFAULTS, ...options, ...(rw ? [] : ['ro'])] };
}

/** Docker's /dev/shm-style defaults for HostConfig.Tmpfs entries, then the user's options. */
function hostTmpfs(c: ContainerRecord): MountSpec[] {
  const t = (c.HostConfig.Tmpfs as Record<string, string> | null | undefined) ?? {};
  return Object.entries(t).map(([dest, opts]) => tmpfsSpec(path.posix.normalize(dest), parseTmpfsOptions(dest, opts), true));
}

export function volumesAttachment(deps: VolumesAttachmentDeps): Attachment {
  const { volumes } = deps;
  return {
    name: 'volumes',

    async prepare(c) {
      const specs: MountSpec[] = [];
      const mounted: string[] = [];
      try {
        for (const mp of c.MountPoints ?? []) {
          if (mp.Type === 'volume') {
            const rootfs = mp.CopyData ? await deps.rootfsOf(c.Id) : undefined;
            const source = await volumes.mountFor(mp.Name!, c.Id, { destination: mp.Destination, 'read/write': String(mp.RW), propagation: mp.Propagation },
              rootfs ? (target, staging) => copyUp(rootfs, mp.Destination, target, staging) : undefined);
            mounted.push(mp.Name!);
            // Once, as Docker: an emptied volume is not filled again at the next start (saved with the start).
            mp.CopyData = false;
            specs.push({ destination: mp.Destination, type: 'bind', source, options: ['rbind', 'rprivate', mp.RW ? 'rw' : 'ro'] });
          } else if (mp.Type === 'bind') {
            specs.push(await bindSpec(mp));
          } else {
            specs.push(tmpfsSpec(mp.Destination, mp.TmpfsOptions ?? [], mp.RW));
          }
        }
      } catch (e) {
        for (const n of mounted) await volumes.unmountFor(n, c.Id).catch(() => undefined);
        throw e;
      }
      specs.push(...hostTmpfs(c));
      specs.sort((a, b) => depth(a.destination) - depth(b.destination));
      return { mounts: specs };
    },

    async release(c) {
      for (const n of volumeNames(c.MountPoints)) await volumes.unmountFor(n, c.Id);
    },

    async reconcile({ running, stopped }) {
      const uses = (list: ContainerRecord[]) => list.map((c) => ({ id: c.Id, volumes: volumeNames(c.MountPoints) }));
      volumes.rebuildUsers([...uses(running), ...uses(stopped)]);
      await volumes.reconcileMounts(uses(running));
    },
  };
}
