// /etc/passwd, /etc/group, /etc/subuid and /etc/subgid as dockerd reads them for userns-remap.
import * as fs from 'node:fs';

export interface PasswdEntry { name: string; uid: number; gid: number }
export interface GroupEntry { name: string; gid: number }
export interface SubIdRange { name: string; start: number; count: number }

function lines(file: string): string[][] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

export function readPasswd(file = '/etc/passwd'): PasswdEntry[] {
  return lines(file).filter((f) => f.length >= 4).map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }));
}

export function readGroups(file = '/etc/group'): GroupEntry[] {
  return lines(file).filter((f) => f.length >= 3).map((f) => ({ name: f[0], gid: Number(f[2]) }));
}

/** `name:start:count` lines; a malformed line is an error, as in moby's parser. */
export function readSubIds(file: string): SubIdRange[] {
  return lines(file).map((f) => {
    const [name, start, count] = f;
    if (f.length !== 3 || !/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) throw new Error(`invalid subuid line in ${file}: ${f.join(':')}`);
    return { name, start: Number(start), count: Number(count) };
  });
}

/** The first free start at or after 100000 for a 65536-long range (moby's findNextRangeStart). */
export function nextFreeRange(ranges: readonly SubIdRange[], length = 65536, from = 100000): number {
  let start = from;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const end = start + length;
    if ((start >= r.start && start <= r.start + r.count) || (end <= r.start + r.count && end >= r.start)) start = r.start + r.count;
  }
  return start;
}
