// Listeners: unix sockets (mode 0660 root:<group>, stale sockets replaced, a live daemon
// refused) and TCP with mutual TLS.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type * as http from 'node:http';
import { CONNECTION_LIMITS } from '../api/server';

async function socketInUse(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** The gid of `name` in /etc/group, or undefined. */
export function groupId(name: string): number | undefined {
  let text = '';
  try { text = fs.readFileSync('/etc/group', 'utf8'); } catch { return undefined; }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return /^\d+$/.test(name) ? Number(name) : undefined;
}

/**
 * Docker's docker-group habit: the socket belongs to `group` when it exists, so that its members
 * may use the daemon. The default group may be missing (the socket stays root's); a group
 * asked for by name must exist, as with dockerd -G.
 */
function socketGroup(file: string, group: { name: string; explicit: boolean }): void {
  const gid = groupId(group.name);
  if (gid === undefined) {
    if (group.explicit) throw new Error(`can't create unix socket ${file}: group ${group.name} not found`);
    return;
  }
  fs.chownSync(file, 0, gid);
  // Members must be able to reach the socket: a private directory (the exec root's 0700) is
  // opened to the group for traversal only.
  const dir = path.dirname(file);
  const st = fs.statSync(dir);
  if (st.uid === 0 && (st.mode & 0o777) === 0o700) {
    fs.chownSync(dir, 0, gid);
    fs.chmodSync(dir, 0o710);
  }
}

export async function listenUnix(server: http.Server, file: string, group: { name: string; explicit: boolean } = { name: 'berth', explicit: false }): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (fs.existsSync(file)) {
    if (await socketInUse(file)) throw new Error(`${file} is in use by another daemon`);
    fs.rmSync(file, { force: true });
  }
  // Create the socket with a safe mode from the first instant (no window with 0777).
  const oldMask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: file, backlog: CONNECTION_LIMITS.listenBacklog }, () => { server.off('error', reject); resolve(); });
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(file, 0o660);
  if (process.getuid?.() === 0) socketGroup(file, group);
}

export async function listenTcp(server: http.Server, address: string): Promise<void> {
  const u = new URL(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: Number(u.port || 2376), host: u.hostname.replace(/^\[|\]$/g, ''), backlog: CONNECTION_LIMITS.listenBacklog }, () => { server.off('error', reject); resolve(); });
  });
}
