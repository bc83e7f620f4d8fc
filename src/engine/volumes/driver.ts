// The local driver's options, as Docker's: `type`, `device` and `o` are what
// `mount -t <type> -o <o> <device> <_data>` would take (tmpfs, a bind of a host directory,
// a block device, nfs with addr=...). The mount is made when the first container using the
// volume starts and taken down when the last one stops.
import * as fs from 'node:fs';
import { InvalidParameterError } from '../../lib/errors';
import { MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, mount, umount2 } from '../../lib/sys/mount';

const KEYS = ['type', 'device', 'o', 'size'];

// mount(8)'s flag words (the rest of `o` goes to the filesystem as its data).
const FLAGS: Record<string, [set: number, clear: number]> = {
  ro: [MS_RDONLY, 0], rw: [0, MS_RDONLY], nosuid: [MS_NOSUID, 0], suid: [0, MS_NOSUID],
  nodev: [MS_NODEV, 0], dev: [0, MS_NODEV], noexec: [MS_NOEXEC, 0], exec: [0, MS_NOEXEC],
  bind: [MS_BIND, 0], rbind: [MS_BIND | MS_REC, 0],
  sync: [0x10, 0], async: [0, 0x10], dirsync: [0x80, 0], noatime: [0x400, 0], atime: [0, 0x400],
  nodiratime: [0x800, 0], diratime: [0, 0x800], relatime: [0x200000, 0], strictatime: [0x1000000, 0],
  defaults: [0, 0],
};

/** Checks a create request's options; kept as sent (none: null, an empty map: {}), as Docker shows them. */
export function validateDriverOptions(opts: Record<string, string> | null | undefined): Record<string, string> | null {
  if (opts === null || opts === undefined) return null;
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new InvalidParameterError('invalid volume options: not a map');
  for (const k of Object.keys(opts)) {
    if (!KEYS.includes(k)) throw new InvalidParameterError(`invalid option key: ${JSON.stringify(k)}`);
    if (typeof opts[k] !== 'string') throw new InvalidParameterError(`invalid option value for ${JSON.stringify(k)}`);
  }
  // Docker's local driver applies size only as an xfs project quota, which berth does not set.
  if (opts.size !== undefined) throw new InvalidParameterError('quota size requested but no quota support');
  if ((opts.type || opts.o) && !opts.device) throw new InvalidParameterError('missing required option: "device"');
  if (opts.device && !opts.type && !isBind(opts)) throw new InvalidParameterError('missing required option: "type"');
  return { ...opts };
}

function isBind(opts: Record<string, string>): boolean {
  return (opts.o ?? '').split(',').some((w) => w === 'bind' || w === 'rbind');
}

export function needsMount(opts: Record<string, string> | null): boolean {
  return !!opts && !!opts.device;
}

function splitOptions(o: string): { flags: number; data: string[] } {
  let flags = 0;
  const data: string[] = [];
  for (const w of o.split(',').filter(Boolean)) {
    const f = FLAGS[w];
    if (f) flags = (flags | f[0]) & ~f[1];
    else data.push(w);
  }
  return { flags, data };
}

/** Mounts the volume's device on its data directory. */
export function mountVolume(opts: Record<string, string>, target: string): void {
  const { flags, data } = splitOptions(opts.o ?? '');
  const bind = (flags & MS_BIND) !== 0;
  const where = `${opts.device}:${target}`;
  try {
    if (bind) {
      if (!fs.existsSync(opts.device)) throw Object.assign(new Error(`no such file or directory`), { code: 'ENOENT' });
      mount(opts.device, target, null, flags & (MS_BIND | MS_REC));
      // A bind takes its other flags (ro, nosuid...) only from a remount.
      const rest = flags & ~(MS_BIND | MS_REC);
      if (rest) mount(null, target, null, MS_BIND | 0x20 /* MS_REMOUNT */ | rest);
    } else {
      mount(opts.device, target, opts.type === 'none' ? null : opts.type, flags, data.join(',') || null);
    }
  } catch (e) {
    throw new InvalidParameterError(`error while mounting volume '${target}': failed to mount local volume: mount ${where}, flags: 0x${flags.toString(16)}, data: ${data.join(',')}: ${(e as Error).message}`, { cause: e });
  }
}

export function unmountVolume(target: string): void {
  try { umount2(target, MNT_DETACH); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL' && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
