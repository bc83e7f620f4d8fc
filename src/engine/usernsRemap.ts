// daemon.json `userns-remap` / `--userns-remap`: which host ids a container's ids become, as
// dockerd resolves them (`default` makes the dockremap user and its subordinate ranges), and
// which containers get a user namespace (all but --userns=host).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidParameterError } from '../lib/errors';
import { log } from '../lib/log';
import { nextFreeRange, readGroups, readPasswd, readSubIds, type PasswdEntry } from '../lib/subid';
import { bindUsernsNetns, idmapMount, usernsFdFor, toContainerId, toHostId, type IdMapEntry, type IdMapping } from '../lib/sys/idmap';
import { MNT_DETACH, unmount } from '../lib/sys/mount';
import type { UserNamespace } from '../runtime/types';

const run = promisify(execFile);

export const DEFAULT_REMAP_USER = 'dockremap';

export interface RemapConfig {
  /** `user:group` as resolved (dockerd rewrites the setting to names). */
  user: string;
  group: string;
  idmap: IdMapping;
  /** The host ids of container root. */
  root: { uid: number; gid: number };
}

/** What the files read (tests point them elsewhere). */
export interface IdFiles { passwd: string; group: string; subuid: string; subgid: string }
const ETC: IdFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' };

const isNumber = (s: string) => /^-?\d+$/.test(s) && Number.isSafeInteger(Number(s)) && Math.abs(Number(s)) < 2 ** 31;

/** Resolves the setting to a user and a group name, with dockerd's errors (parseRemappedRoot). */
async function resolveNames(setting: string, files: IdFiles): Promise<{ user: string; group: string }> {
  const parts = setting.split(':');
  if (parts.length > 2) throw new Error(`Invalid user/group specification in --userns-remap: ${JSON.stringify(setting)}`);
  const users = readPasswd(files.passwd);
  const groups = readGroups(files.group);
  let user: PasswdEntry | undefined;
  let group: string | undefined;
  if (isNumber(parts[0])) {
    const uid = Number(parts[0]);
    user = users.find((u) => u.uid === uid);
    if (!user) throw new Error(`Uid ${uid} has no entry in /etc/passwd: no matching entries in passwd file`);
    if (parts.length === 1) {
      group = groups.find((g) => g.gid === uid)?.name;
      if (group === undefined) throw new Error(`Gid ${uid} has no entry in /etc/group: no matching entries in group file`);
    }
  } else {
    const name = parts[0] === 'default' ? DEFAULT_REMAP_USER : parts[0];
    user = users.find((u) => u.name === name);
    if (!user && parts[0] !== 'default') throw new Error(`Error during uid lookup for ${JSON.stringify(name)}: no matching entries in passwd file`);
    if (!user) {
      await addRemapUser(name, files).catch((e: Error) => { throw new Error(`Error during ${JSON.stringify(name)} user creation: ${e.message}`); });
      return { user: name, group: name };
    }
    if (parts.length === 1) {
      group = groups.find((g) => g.name === name)?.name;
      if (group === undefined) throw new Error(`Error during gid lookup for ${JSON.stringify(name)}: no matching entries in group file`);
    }
  }
  if (parts.length === 2) {
    const g = parts[1];
    if (isNumber(g)) {
      group = groups.find((e) => e.gid === Number(g))?.name;
      if (group === undefined) throw new Error(`Gid ${g} has no entry in /etc/passwd: no matching entries in group file`);
    } else {
      if (!groups.some((e) => e.name === g)) throw new Error(`Error during groupname lookup for ${JSON.stringify(g)}: no matching entries in group file`);
      group = g;
    }
  }
  return { user: user.name, group: group! };
}

/** dockerd's AddNamespaceRangesUser: a system user (adduser, else useradd) and 65536 ids of each kind. */
async function addRemapUser(name: string, files: IdFiles): Promise<void> {
  const adduser = ['/usr/sbin/adduser', '/sbin/adduser'].find((p) => fs.existsSync(p));
  try {
    if (adduser) await run(adduser, ['--system', '--shell', '/bin/false', '--no-create-home', '--disabled-login', '--disabled-password', '--group', name]);
    else await run('useradd', ['-r', '-s', '/bin/false', name]);
  } catch (e) {
    const err = e as { message: string; stderr?: string };
    throw new Error(`error adding user ${JSON.stringify(name)}: ${err.message.split('\n')[0]}; output: ${JSON.stringify(err.stderr ?? '')}`);
  }
  for (const [file, flag, kind] of [[files.subuid, '-v', 'subuid'], [files.subgid, '-w', 'subgid']] as const) {
    const ranges = readSubIds(file);
    if (ranges.some((r) => r.name === name)) continue;
    const start = nextFreeRange(ranges);
    try {
      await run('usermod', [flag, `${start}-${start + 65535}`, name]);
    } catch (e) {
      throw new Error(`couldn't create subordinate ID ranges: unable to add ${kind} range to user: ${JSON.stringify(name)}; output: ${(e as { stderr?: string }).stderr ?? ''}`);
    }
  }
}

/** The user's ranges in a subuid/subgid file, consecutive from container id 0 (moby's createIDMap). */
function mappingOf(file: string, user: PasswdEntry, kind: string): IdMapEntry[] {
  const mine = readSubIds(file).filter((r) => r.name === user.name || r.name === String(user.uid));
  if (mine.length === 0) throw new Error(`error creating ID mappings: no ${kind} ranges found for user ${JSON.stringify(user.name)}`);
  let next = 0;
  return mine.map((r) => {
    const e = { containerId: next, hostId: r.start, size: r.count };
    next += r.count;
    return e;
  });
}

/**
 * The daemon's remapping for a `userns-remap` setting; undefined when off (empty, or `root`,
 * which dockerd takes as off with a warning).
 */
export async function resolveRemap(setting: string | undefined, files: IdFiles = ETC): Promise<RemapConfig | undefined> {
  if (!setting) return undefined;
  const { user, group } = await resolveNames(setting, files);
  if (user === 'root') {
    log.warn('User namespaces: root cannot be remapped with itself; user namespaces are OFF');
    return undefined;
  }
  const entry = readPasswd(files.passwd).find((u) => u.name === user);
  if (!entry) throw new Error(`error creating ID mappings: could not get user for username ${user}`);
  const idmap = { uids: mappingOf(files.subuid, entry, 'subuid'), gids: mappingOf(files.subgid, entry, 'subgid') };
  const uid = toHostId(idmap.uids, 0);
  const gid = toHostId(idmap.gids, 0);
  if (uid === undefined || gid === undefined) throw new Error('error creating ID mappings: container root is not mapped');
  log.info(`User namespaces: ID ranges will be mapped to subuid/subgid ranges of: ${user}`);
  return { user, group, idmap, root: { uid, gid } };
}

/** The remapping a container runs with: the daemon's, unless it asked for --userns=host. */
export function remapOf(c: { HostConfig: Record<string, unknown> }, remap: RemapConfig | undefined): RemapConfig | undefined {
  return remap && c.HostConfig.UsernsMode !== 'host' ? remap : undefined;
}

/** dockerd's conflicts with user namespaces (verifyPlatformContainerSettings). */
export function validateUsernsRemap(h: Record<string, unknown>, remap: RemapConfig | undefined): void {
  if (!remap || h.UsernsMode === 'host') return;
  if (h.Privileged) throw new InvalidParameterError('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
  if (h.NetworkMode === 'host') throw new InvalidParameterError("cannot share the host's network namespace when user namespaces are enabled");
  if (h.PidMode === 'host') throw new InvalidParameterError('cannot share the host PID namespace when user namespaces are enabled');
}

/**
 * The runtime's user namespace for a container: its own with the daemon's mappings; the other
 * container's when it joins that one's network, IPC or PID namespace (dockerd's rule: shared
 * namespaces need a shared user namespace).
 */
export function usernsSpecOf(c: { HostConfig: Record<string, unknown> }, remap: RemapConfig | undefined, resolvePid: (ref: string) => number, premade?: string): UserNamespace | undefined {
  const r = remapOf(c, remap);
  if (!r) return undefined;
  const oci = (m: IdMapEntry) => ({ containerID: m.containerId, hostID: m.hostId, size: m.size });
  const ns: UserNamespace = { uidMappings: r.idmap.uids.map(oci), gidMappings: r.idmap.gids.map(oci), ...(premade ? { path: premade } : {}) };
  for (const mode of [c.HostConfig.NetworkMode, c.HostConfig.IpcMode, c.HostConfig.PidMode]) {
    if (typeof mode === 'string' && mode.startsWith('container:')) ns.path = `/proc/${resolvePid(mode.slice('container:'.length))}/ns/user`;
  }
  return ns;
}

/** The rootfs mount of a container: made of idmapped layers when it is remapped. */
export function rootfsMountOptions(c: { HostConfig: Record<string, unknown> }, remap: RemapConfig | undefined): { idmap?: IdMapping } | undefined {
  const r = remapOf(c, remap);
  return r ? { idmap: r.idmap } : undefined;
}

/** Whether host ids uid/gid may search directory `p` (moby's canAccess). */
function canSearch(p: string, uid: number, gid: number): boolean {
  try {
    const st = fs.statSync(p);
    return (st.mode & 0o001) !== 0 || (st.uid === uid && (st.mode & 0o100) !== 0) || (st.gid === gid && (st.mode & 0o010) !== 0);
  } catch {
    return false;
  }
}

/**
 * Opens the way to what a remapped root reaches by path (its rootfs under layers/mounts, its
 * /etc files under containers/; volumes/ is 0701 already): those directories become 0711 (search, no listing;
 * dockerd makes its root 0711 too), and a parent of the data root that the remapped root
 * cannot search is dockerd's error.
 */
export function openDataRootForRemap(dataRoot: string, remap: RemapConfig): void {
  const { uid, gid } = remap.root;
  for (let dir = path.dirname(path.resolve(dataRoot)); dir !== '/'; dir = path.dirname(dir)) {
    if (!canSearch(dir, uid, gid)) {
      throw new Error(`a subdirectory in your graphroot path (${dataRoot}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`);
    }
  }
  for (const sub of ['', 'layers', 'layers/mounts', 'containers']) {
    const dir = path.join(dataRoot, sub);
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
    fs.chmodSync(dir, 0o711);
  }
  probeIdmap(path.join(dataRoot, 'layers'), remap);
}

/**
 * berth remaps with idmapped layers only (no chowned copies): a data root on a filesystem the
 * kernel cannot idmap is refused when the daemon starts, not at the first container's start.
 */
function probeIdmap(layersDir: string, remap: RemapConfig): void {
  const at = fs.mkdtempSync(path.join(layersDir, '.idmap-probe-'));
  try {
    idmapMount(layersDir, at, usernsFdFor(remap.idmap.uids, remap.idmap.gids));
    unmount(at, MNT_DETACH);
  } catch (e) {
    throw new Error(`userns-remap: the data root's filesystem cannot be idmapped (${(e as Error).message}); berth remaps through idmapped mounts and does not chown layers`);
  } finally {
    fs.rmSync(at, { recursive: true, force: true });
  }
}

/** Where a remapped container's user namespace is bound while it runs (beside its network namespace). */
export function usernsFile(execRoot: string, id: string): string {
  return path.join(execRoot, 'userns', id);
}

/**
 * For a remapped container on berth's networks: its user namespace and a network namespace
 * owned by it, made before the network attachment fills the latter (bound at `netnsFile`).
 * runc joins both by path at create; `runc exec` joins the user namespace first and then needs
 * its privilege over the network namespace, which one owned by the host's would refuse.
 * Returns false (nothing made) for a container that is not remapped.
 */
export async function makeRemappedNetns(c: { Id: string; HostConfig: Record<string, unknown> }, config: { execRoot: string; remap?: RemapConfig }, netnsFile: string): Promise<boolean> {
  const r = remapOf(c, config.remap);
  if (!r) return false;
  const file = usernsFile(config.execRoot, c.Id);
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await releaseRemappedUserns(config.execRoot, c.Id);
  await fs.promises.writeFile(file, '');
  bindUsernsNetns(r.idmap, file, netnsFile);
  return true;
}

/** Unbinds and removes a container's user namespace file (its namespace goes with its last user). */
export async function releaseRemappedUserns(execRoot: string, id: string): Promise<void> {
  const file = usernsFile(execRoot, id);
  unmount(file, MNT_DETACH);
  await fs.promises.rm(file, { force: true });
}

type Owner = { uid: number; gid: number };

/**
 * docker cp and export of a remapped container: what goes in is written with host ids (its
 * rootfs shows them through the idmapped layers, its volumes hold them), what comes out is in
 * the container's ids. An id the mapping lacks: dockerd's error going in; going out, the
 * overflow id 65534 (nobody), as the kernel shows it inside, rather than a failed archive.
 */
export function ownerMapsOf(c: { HostConfig: Record<string, unknown> }, remap: RemapConfig | undefined): { toHost: (o: Owner) => Owner; toContainer: (o: Owner) => Owner } | undefined {
  const r = remapOf(c, remap);
  if (!r) return undefined;
  const host = (entries: IdMapEntry[], id: number) => {
    const h = toHostId(entries, id);
    if (h === undefined) throw new InvalidParameterError(`Container ID ${id} cannot be mapped to a host ID`);
    return h;
  };
  return {
    toHost: (o) => ({ uid: host(r.idmap.uids, o.uid), gid: host(r.idmap.gids, o.gid) }),
    toContainer: (o) => ({ uid: toContainerId(r.idmap.uids, o.uid) ?? 65534, gid: toContainerId(r.idmap.gids, o.gid) ?? 65534 }),
  };
}
