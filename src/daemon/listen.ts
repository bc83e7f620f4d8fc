// Listeners: unix sockets (mode 0660, stale sockets replaced, a live daemon refused) and
// TCP with mutual TLS.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type * as http from 'node:http';

async function socketInUse(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function listenUnix(server: http.Server, file: string): Promise<void> {
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
      server.listen(file, () => { server.off('error', reject); resolve(); });
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(file, 0o660);
}

export async function listenTcp(server: http.Server, address: string): Promise<void> {
  const u = new URL(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(u.port || 2376), u.hostname.replace(/^\[|\]$/g, ''), () => { server.off('error', reject); resolve(); });
  });
}
