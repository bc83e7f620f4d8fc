// `--user name[:group]` and `uid[:gid]` resolved against the container's own /etc/passwd
// and /etc/group, read through InRoot (openat2 RESOLVE_IN_ROOT) so that a symlink or `..`
// cannot lead to the host's files.
import { InvalidParameterError } from '../../lib/errors';
import { InRoot } from '../../lib/sys/inroot';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }));
}

const isNum = (s: string) => /^\d+$/.test(s);

/** Larger account files are refused: the daemon reads them whole. */
const MAX_ACCOUNT_FILE = 64 << 20;

/** A container's /etc/passwd and /etc/group as text; undefined when missing. */
export interface AccountFiles { passwd?: string; group?: string }

/** The container's account files; a missing one reads as empty (as Docker). */
export async function readAccountFiles(rootfs: string): Promise<AccountFiles> {
  return InRoot.with(rootfs, async (root) => {
    const read = async (p: string): Promise<string | undefined> => {
      try {
        return (await root.readFileIfExists(p, { maxBytes: MAX_ACCOUNT_FILE }))?.toString('utf8');
      } catch (e) {
        // a symlink loop, a FIFO we may not open...: the user's fault, not the daemon's
        throw new InvalidParameterError(`unable to read ${p} of the container: ${(e as Error).message}`);
      }
    };
    return { passwd: await read('/etc/passwd'), group: await read('/etc/group') };
  });
}

export async function resolveUser(rootfs: string, spec: string, groupAdd: string[] = []): Promise<ResolvedUser> {
  return resolveUserIn(await readAccountFiles(rootfs), spec, groupAdd);
}

/** resolveUser against account files already read. */
export function resolveUserIn(files: AccountFiles, spec: string, groupAdd: string[] = []): ResolvedUser {
  const [userPart, groupPart] = spec === '' ? ['0', undefined] : spec.split(':', 2);
  const passwd = parsePasswd(files.passwd);
  const groups = parseGroup(files.group);
  let uid: number;
  let gid: number;
  let home = '/';
  let name: string | undefined;
  const entry = passwd.find((p) => (isNum(userPart) ? p.uid === Number(userPart) : p.name === userPart));
  if (entry) {
    uid = entry.uid; gid = entry.gid; home = entry.home; name = entry.name;
  } else if (isNum(userPart)) {
    uid = Number(userPart); gid = 0;
  } else {
    throw new InvalidParameterError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((e) => (isNum(groupPart) ? e.gid === Number(groupPart) : e.name === groupPart));
    if (g) gid = g.gid;
    else if (isNum(groupPart)) gid = Number(groupPart);
    else throw new InvalidParameterError(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  const additional = new Set<number>();
  if (name && groupPart === undefined) {
    for (const g of groups) if (g.members.includes(name) && g.gid !== gid) additional.add(g.gid);
  }
  for (const ga of groupAdd) {
    const g = groups.find((e) => (isNum(ga) ? e.gid === Number(ga) : e.name === ga));
    if (g) additional.add(g.gid);
    else if (isNum(ga)) additional.add(Number(ga));
    else throw new InvalidParameterError(`Unable to find group ${ga}: no matching entries in group file`);
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new InvalidParameterError(`uids and gids must be in range 0-${0xfffffffe}`);
  return { uid, gid, additionalGids: [...additional], home };
}
