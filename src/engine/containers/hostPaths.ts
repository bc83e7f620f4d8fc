// Errors about a container's files name them as the container and its client know them. The
// runtime names a mount target by its host path under the rootfs (runc: "open <rootfs>/etc/
// passwd/x: not a directory") and a volume by its directory under the data root: shown as
// is, that tells a client the daemon's layout and means nothing inside the container.
import type { MountPoint } from './mountpoints';

export function inContainerTerms(message: string, where: { rootfs?: string; mounts?: MountPoint[] }): string {
  let out = message;
  // a volume is known by its name (as in `-v NAME:/dst`), never by where the daemon keeps it
  const volumes = (where.mounts ?? []).filter((m) => m.Type === 'volume' && m.Name && m.Source).sort((a, b) => b.Source.length - a.Source.length);
  for (const m of volumes) out = out.split(m.Source).join(m.Name!);
  if (where.rootfs) {
    const root = where.rootfs.replace(/\/+$/, '');
    out = out.split(`${root}/`).join('/').split(root).join('/');
  }
  return out;
}
