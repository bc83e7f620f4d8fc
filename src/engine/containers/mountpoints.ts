// A container's mounts as decided at create, Docker's rules: HostConfig.VolumesFrom, Binds
// (`name:/path[:opts]`, `/host:/path[:opts]`), Mounts (type volume|bind|tmpfs), and an
// anonymous volume for each Config.Volumes path (the image's VOLUME entries included) that
// nothing else covers. HostConfig.Tmpfs is not a mount point (Docker does not list it under
// Mounts); it is checked here for clashes and mounted by the attachment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';
import { validVolumeName, type VolumeService } from '../volumes/VolumeService';
import type { ContainerConfig, HostConfig } from './Container';

export type MountType = 'volume' | 'bind' | 'tmpfs';

/** One mount of a container, as its record keeps it (Docker's MountPoint fields and ours). */
export interface MountPoint {
  Type: MountType;
  /** The volume's name (volumes only). */
  Name?: string;
  /** Host path of a bind; a volume's is filled in when it is made. */
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Volumes: copy what the image has at Destination into the volume if it is empty (the first start). */
  CopyData?: boolean;
  /** bind: a missing source is made as a directory at start (`-v`, BindOptions.CreateMountpoint). */
  CreateSource?: boolean;
  /** bind: `bind` rather than `rbind` (BindOptions.NonRecursive). */
  NonRecursive?: boolean;
  /** A volume made for this container (`-v /path`, VOLUME, a --mount without a source): `rm -v` removes it. */
  Anonymous?: boolean;
  /** How to make the volume if it does not exist (--mount's VolumeOptions). */
  VolumeLabels?: Record<string, string> | null;
  DriverOpts?: Record<string, string> | null;
  /** tmpfs: options for mount(2), e.g. ["size=1048576", "mode=1777"]. */
  TmpfsOptions?: string[];
}

interface MountRequest {
  Type?: string; Source?: string; Target?: string; ReadOnly?: boolean; Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: unknown } | null;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
const CONSISTENCY = ['consistent', 'cached', 'delegated', 'default', ''];
const DEFAULT_PROPAGATION = 'rprivate';

function cleanDest(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/+$/, '$1');
}

function checkDestination(dest: string, kind: string): string {
  if (!dest) throw new InvalidParameterError(`invalid mount config for type "${kind}": field Target must not be empty`);
  if (!dest.startsWith('/')) throw new InvalidParameterError(`invalid mount config for type "${kind}": invalid mount path: '${dest}' mount path must be absolute`);
  const d = cleanDest(dest);
  if (d === '/') throw new InvalidParameterError(`invalid specification: destination can't be '/'`);
  return d;
}

interface BindMode { rw: boolean; propagation?: string; nocopy?: boolean }

/** A Binds mode string: ro|rw, z|Z, a propagation, nocopy, a consistency, comma-separated, each at most once. */
function parseMode(mode: string): BindMode {
  const out: BindMode = { rw: true };
  if (!mode) return out;
  let rw = 0, label = 0, prop = 0, copy = 0, cons = 0;
  for (const m of mode.split(',')) {
    if (m === 'ro' || m === 'rw') { rw++; out.rw = m === 'rw'; }
    else if (m === 'z' || m === 'Z') label++;
    else if (PROPAGATIONS.includes(m)) { prop++; out.propagation = m; }
    else if (m === 'nocopy') { copy++; out.nocopy = true; }
    else if (CONSISTENCY.includes(m) && m) cons++;
    else throw new InvalidParameterError(`invalid mode: ${mode}`);
  }
  if (rw > 1 || label > 1 || prop > 1 || copy > 1 || cons > 1) throw new InvalidParameterError(`invalid mode: ${mode}`);
  return out;
}

/** One HostConfig.Binds entry. */
export function parseBind(raw: string): MountPoint {
  const parts = raw.split(':');
  let src = '', dst: string, mode = '';
  if (parts.length === 1) dst = parts[0];
  else if (parts.length === 2) {
    // "/path:ro" names no source: Docker calls it an invalid spec.
    if (/^(ro|rw|z|Z|nocopy|r?private|r?shared|r?slave)(,|$)/.test(parts[1]) && !parts[1].startsWith('/')) throw new InvalidParameterError(`invalid volume specification: '${raw}'`);
    [src, dst] = parts;
  } else if (parts.length === 3) [src, dst, mode] = parts;
  else throw new InvalidParameterError(`invalid volume specification: '${raw}'`);
  if (!dst) throw new InvalidParameterError(`invalid volume specification: '${raw}'`);
  const m = parseMode(mode);
  const bind = src.startsWith('/');
  const kind = bind ? 'bind' : 'volume';
  const dest = checkDestination(dst, kind);
  if (bind) {
    if (m.nocopy) throw new InvalidParameterError(`invalid mode: ${mode}`);
    return { Type: 'bind', Source: cleanDest(src), Destination: dest, Mode: mode, RW: m.rw, Propagation: m.propagation ?? DEFAULT_PROPAGATION, CreateSource: true };
  }
  if (m.propagation) throw new InvalidParameterError(`invalid mount config for type "volume": field BindOptions must not be specified`);
  if (src && !validVolumeName(src)) {
    throw new InvalidParameterError(`create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return {
    Type: 'volume', ...(src ? { Name: src } : { Anonymous: true }), Source: '', Destination: dest, Driver: 'local',
    Mode: mode, RW: m.rw, Propagation: '', CopyData: !m.nocopy,
  };
}

function unsupportedMountField(field: string, v: unknown): InvalidParameterError {
  return new InvalidParameterError(`berth does not support HostConfig.Mounts.${field} yet (got ${JSON.stringify(v)})`);
}

/** One HostConfig.Mounts entry (--mount). */
export function parseMount(m: MountRequest): MountPoint {
  if (!m || typeof m !== 'object') throw new InvalidParameterError('invalid mount config: not an object');
  const type = m.Type ?? '';
  if (m.Consistency !== undefined && !CONSISTENCY.includes(m.Consistency)) throw new InvalidParameterError(`invalid mount config for type "${type}": invalid consistency ${m.Consistency}`);
  const mustNot = (field: 'BindOptions' | 'VolumeOptions' | 'TmpfsOptions') => {
    if (m[field]) throw new InvalidParameterError(`invalid mount config for type "${type}": field ${field} must not be specified`);
  };
  switch (type) {
    case 'bind': {
      mustNot('VolumeOptions'); mustNot('TmpfsOptions');
      const dest = checkDestination(m.Target ?? '', 'bind');
      if (!m.Source) throw new InvalidParameterError('invalid mount config for type "bind": field Source must not be empty');
      if (!m.Source.startsWith('/')) throw new InvalidParameterError(`invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`);
      const b = m.BindOptions ?? {};
      if (b.ReadOnlyNonRecursive) throw unsupportedMountField('BindOptions.ReadOnlyNonRecursive', b.ReadOnlyNonRecursive);
      if (b.ReadOnlyForceRecursive) throw unsupportedMountField('BindOptions.ReadOnlyForceRecursive', b.ReadOnlyForceRecursive);
      const prop = b.Propagation || DEFAULT_PROPAGATION;
      if (!PROPAGATIONS.includes(prop)) throw new InvalidParameterError(`invalid mount config for type "bind": invalid propagation mode: ${prop}`);
      const src = cleanDest(m.Source);
      if (!fs.existsSync(src)) {
        if (!b.CreateMountpoint) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${src}`);
      }
      return {
        Type: 'bind', Source: src, Destination: dest, Mode: '', RW: !m.ReadOnly, Propagation: prop,
        ...(b.NonRecursive ? { NonRecursive: true } : {}), ...(b.CreateMountpoint ? { CreateSource: true } : {}),
      };
    }
    case 'volume': {
      mustNot('BindOptions'); mustNot('TmpfsOptions');
      const dest = checkDestination(m.Target ?? '', 'volume');
      const v = m.VolumeOptions ?? {};
      if (v.Subpath) throw unsupportedMountField('VolumeOptions.Subpath', v.Subpath);
      const driver = v.DriverConfig?.Name || 'local';
      if (driver !== 'local') throw new NotFoundError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
      if (m.Source && !validVolumeName(m.Source)) throw new InvalidParameterError(`invalid mount config for type "volume": invalid volume name: ${m.Source}`);
      return {
        Type: 'volume', ...(m.Source ? { Name: m.Source } : { Anonymous: true }), Source: '', Destination: dest, Driver: driver,
        Mode: 'z', RW: !m.ReadOnly, Propagation: '', CopyData: !v.NoCopy,
        ...(v.Labels && Object.keys(v.Labels).length ? { VolumeLabels: v.Labels } : {}),
        ...(v.DriverConfig?.Options && Object.keys(v.DriverConfig.Options).length ? { DriverOpts: v.DriverConfig.Options } : {}),
      };
    }
    case 'tmpfs': {
      mustNot('BindOptions'); mustNot('VolumeOptions');
      if (m.Source) throw new InvalidParameterError('invalid mount config for type "tmpfs": field Source must not be specified');
      const dest = checkDestination(m.Target ?? '', 'tmpfs');
      const t = m.TmpfsOptions ?? {};
      if (t.Options !== undefined && t.Options !== null && !(Array.isArray(t.Options) && t.Options.length === 0)) throw unsupportedMountField('TmpfsOptions.Options', t.Options);
      const opts: string[] = [];
      if (t.SizeBytes !== undefined && t.SizeBytes !== 0) {
        if (typeof t.SizeBytes !== 'number' || t.SizeBytes < 0) throw new InvalidParameterError(`invalid mount config for type "tmpfs": invalid tmpfs size ${t.SizeBytes}`);
        opts.push(`size=${t.SizeBytes}`);
      }
      if (t.Mode !== undefined && t.Mode !== 0) opts.push(`mode=${(t.Mode & 0o7777).toString(8)}`);
      return { Type: 'tmpfs', Source: '', Destination: dest, Mode: '', RW: !m.ReadOnly, Propagation: '', TmpfsOptions: opts };
    }
    case '':
      throw new InvalidParameterError('invalid mount config: mount type unknown');
    case 'npipe': case 'cluster': case 'image':
      throw new InvalidParameterError(`berth does not support HostConfig.Mounts.Type ${JSON.stringify(type)} yet`);
    default:
      throw new InvalidParameterError(`invalid mount config for type "${type}": mount type unknown`);
  }
}

// tmpfs options that mount(2) takes (flags runc turns into mount flags, and tmpfs's own data).
const TMPFS_FLAGS = new Set(['ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'atime', 'noatime', 'diratime', 'nodiratime',
  'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'sync', 'async', 'dirsync', 'mand', 'nomand', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol', 'huge', 'inode64', 'noswap']);

/** HostConfig.Tmpfs's value for one path: `size=1m,mode=1777,noexec`. */
export function parseTmpfsOptions(dest: string, value: string): string[] {
  if (typeof value !== 'string') throw new InvalidParameterError(`invalid tmpfs options for ${dest}`);
  const out: string[] = [];
  for (const o of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const k = o.split('=')[0];
    if (!TMPFS_FLAGS.has(o) && !(TMPFS_DATA.has(k) && o.includes('='))) throw new InvalidParameterError(`invalid tmpfs option ${JSON.stringify(o)}`);
    out.push(o);
  }
  return out;
}

export interface MountPlanInput {
  hostConfig: HostConfig;
  config: ContainerConfig;
  /** A container named in --volumes-from (NotFound if none). */
  container(ref: string): { Id: string; MountPoints?: MountPoint[] };
}

/**
 * The container's mount points, checked (Docker's messages) but nothing made yet. Later
 * sources win over earlier ones for one destination (volumes-from < binds/mounts), and two
 * binds or mounts on one destination are an error.
 */
export function planMountPoints(input: MountPlanInput): MountPoint[] {
  const h = input.hostConfig;
  const byDest = new Map<string, MountPoint>();
  for (const spec of (h.VolumesFrom as string[] | null | undefined) ?? []) {
    if (typeof spec !== 'string' || !spec) throw new InvalidParameterError(`invalid volumes-from: ${JSON.stringify(spec)}`);
    const [ref, mode, ...rest] = spec.split(':');
    if (rest.length || !ref) throw new InvalidParameterError(`invalid volume specification: '${spec}'`);
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw' && mode !== 'z' && mode !== 'Z') throw new InvalidParameterError(`invalid mode: ${mode}`);
    const from = input.container(ref);
    for (const mp of from.MountPoints ?? []) {
      // The other container's anonymous volumes stay its own: `rm -v` of this one keeps them.
      const copy: MountPoint = { ...mp, CopyData: false };
      delete copy.Anonymous;
      if (mode === 'ro' || mode === 'rw') { copy.RW = mode === 'rw'; copy.Mode = mode; }
      byDest.set(mp.Destination, copy);
    }
  }
  const explicit = new Set<string>();
  const add = (mp: MountPoint) => {
    if (explicit.has(mp.Destination)) throw new InvalidParameterError(`Duplicate mount point: ${mp.Destination}`);
    explicit.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  };
  const binds = h.Binds;
  if (binds !== null && binds !== undefined && !Array.isArray(binds)) throw new InvalidParameterError('invalid HostConfig.Binds: not a list');
  for (const b of binds ?? []) {
    if (typeof b !== 'string') throw new InvalidParameterError(`invalid volume specification: ${JSON.stringify(b)}`);
    add(parseBind(b));
  }
  const mounts = h.Mounts as MountRequest[] | null | undefined;
  if (mounts !== null && mounts !== undefined && !Array.isArray(mounts)) throw new InvalidParameterError('invalid HostConfig.Mounts: not a list');
  for (const m of mounts ?? []) add(parseMount(m));
  const tmpfs = (h.Tmpfs as Record<string, string> | null | undefined) ?? {};
  for (const [dest, opts] of Object.entries(tmpfs)) {
    const d = checkDestination(dest, 'tmpfs');
    if (explicit.has(d)) throw new InvalidParameterError(`Duplicate mount point: ${d}`);
    parseTmpfsOptions(d, opts);
    byDest.delete(d);
  }
  const tmpfsDests = new Set(Object.keys(tmpfs).map(cleanDest));
  for (const dest of Object.keys(input.config.Volumes ?? {})) {
    const d = checkDestination(dest, 'volume');
    if (byDest.has(d) || tmpfsDests.has(d)) continue;
    byDest.set(d, { Type: 'volume', Anonymous: true, Source: '', Destination: d, Driver: 'local', Mode: '', RW: true, Propagation: '', CopyData: true });
  }
  // Parents before children, as the runtime must mount them.
  return [...byDest.values()].sort((a, b) => depth(a.Destination) - depth(b.Destination) || a.Destination.localeCompare(b.Destination));
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

/** Makes (or finds) each volume and records the container as its user; fills in the sources. */
export async function claimMountPoints(planned: MountPoint[], id: string, volumes: VolumeService | undefined): Promise<MountPoint[]> {
  const out: MountPoint[] = [];
  for (const mp of planned) {
    if (mp.Type !== 'volume') { out.push(mp); continue; }
    if (!volumes) throw new InvalidParameterError('this engine has no volume service');
    const v = await volumes.claim(mp.Name, id, {
      anonymous: !!mp.Anonymous, labels: mp.VolumeLabels ?? null, driverOpts: mp.DriverOpts ?? null, driver: mp.Driver,
    });
    const done: MountPoint = { ...mp, Name: v.Name, Source: volumes.mountpoint(v.Name), Driver: v.Driver };
    delete done.VolumeLabels;
    delete done.DriverOpts;
    out.push(done);
  }
  return out;
}

/** The volumes a container's record names. */
export function volumeNames(mps: MountPoint[] | undefined): string[] {
  return (mps ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
}
