// A container's network namespace, bound to a file under the exec root
// (<exec-root>/netns/<container id>): it outlives berthd (a restart finds it again), and the
// runtime is handed its path instead of making its own namespace. Removing the binding frees
// the namespace once the container's processes are gone, and with it the veth ends inside.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { MNT_DETACH, umount2 } from '../lib/sys/mount';

export function netnsDir(execRoot: string): string {
  return path.join(execRoot, 'netns');
}

export function netnsPath(execRoot: string, id: string): string {
  return path.join(netnsDir(execRoot), id);
}

/** The empty file a namespace is bound to (unshare --net=FILE needs it to exist). */
export async function netnsFile(execRoot: string, id: string): Promise<string> {
  const p = netnsPath(execRoot, id);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, '');
  return p;
}

function isBound(p: string): boolean {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return mounts.includes(` ${p} `);
}

export async function removeNetns(p: string): Promise<void> {
  try {
    umount2(p, MNT_DETACH);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
  }
  await fsp.rm(p, { force: true });
}

/** Ids of the namespaces bound under the exec root (and files left unbound by a crash). */
export async function listNetns(execRoot: string): Promise<string[]> {
  return fsp.readdir(netnsDir(execRoot)).catch(() => [] as string[]);
}

export function netnsBound(p: string): boolean {
  return isBound(p);
}
