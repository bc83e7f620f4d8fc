// Volume syntaxes to the long form. Short syntax "SRC:DST[:OPTS]": a source starting with
// ".", "/" or "~" is a bind (resolved to an absolute path), another source is a named volume,
// no source is an anonymous volume.
import * as os from 'node:os';
import * as path from 'node:path';
import type { VolumeMount } from '../model';
import { ComposeFileError } from '../model';
import { str, toBool, toBytes, toMode } from './cast';

const PROPAGATION = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const CONSISTENCY = ['consistent', 'cached', 'delegated'];

export function isFilePath(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
}

/** A host path from the file: `~` is the home directory, relative paths are below `baseDir`. */
export function resolveHostPath(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(baseDir, p);
}

export function parseVolumeShort(spec: string, baseDir: string): VolumeMount {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new ComposeFileError(`invalid volume specification: "${spec}"`);
  let source = parts.length > 1 ? parts[0] : '';
  const target = parts.length > 1 ? parts[1] : parts[0];
  const opts = parts.length > 2 ? parts[2].split(',') : [];
  const m: VolumeMount = { type: source === '' ? 'volume' : isFilePath(source) ? 'bind' : 'volume', target };
  if (m.type === 'bind') source = resolveHostPath(source, baseDir);
  if (source) m.source = source;
  for (const o of opts) {
    if (o === 'ro') m.read_only = true;
    else if (o === 'rw') m.read_only = false;
    else if (o === 'z' || o === 'Z') m.bind = { ...m.bind, selinux: o };
    else if (PROPAGATION.includes(o)) m.bind = { ...m.bind, propagation: o };
    else if (CONSISTENCY.includes(o)) m.consistency = o;
    else if (o === 'nocopy') m.volume = { ...m.volume, nocopy: true };
    else throw new ComposeFileError(`invalid volume specification: "${spec}": unknown option "${o}"`);
  }
  if (m.type === 'bind') m.bind = { ...m.bind, create_host_path: true };
  else m.volume = { ...m.volume };
  if (m.read_only === false) delete m.read_only;
  return m;
}

export function canonicalMount(v: Record<string, unknown>, baseDir: string): VolumeMount {
  const m: VolumeMount = { ...(v as unknown as VolumeMount) };
  m.type = str(v.type) as VolumeMount['type'];
  m.target = str(v.target);
  if (v.source !== undefined && v.source !== null && v.source !== '') m.source = m.type === 'bind' ? resolveHostPath(str(v.source), baseDir) : str(v.source);
  else delete m.source;
  if (v.read_only !== undefined) m.read_only = toBool(v.read_only, 'volumes.read_only');
  if (m.read_only === false) delete m.read_only;
  const bind = v.bind as Record<string, unknown> | undefined;
  if (bind) {
    m.bind = { ...(bind as VolumeMount['bind']) };
    if (bind.create_host_path !== undefined) m.bind!.create_host_path = toBool(bind.create_host_path, 'volumes.bind.create_host_path');
  }
  const vol = v.volume as Record<string, unknown> | undefined;
  if (vol) {
    m.volume = { ...(vol as VolumeMount['volume']) };
    if (vol.nocopy !== undefined) m.volume!.nocopy = toBool(vol.nocopy, 'volumes.volume.nocopy');
  }
  const tmpfs = v.tmpfs as Record<string, unknown> | undefined;
  if (tmpfs) {
    m.tmpfs = {};
    if (tmpfs.size !== undefined) m.tmpfs.size = toBytes(tmpfs.size, 'volumes.tmpfs.size');
    if (tmpfs.mode !== undefined) m.tmpfs.mode = toMode(tmpfs.mode, 'volumes.tmpfs.mode');
  }
  return m;
}

export function canonicalMounts(v: unknown, baseDir: string): VolumeMount[] {
  return (Array.isArray(v) ? v : []).map((item) => (typeof item === 'string' ? parseVolumeShort(item, baseDir) : canonicalMount(item as Record<string, unknown>, baseDir)));
}
