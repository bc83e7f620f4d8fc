// Host ports held for published container ports. berth binds each published host port itself
// (and keeps the socket while the container runs) although the traffic goes by DNAT: the kernel
// then tells us at once when a process or another container already has the port, a random
// port (HostPort "") is the kernel's pick, and nothing else can take the port meanwhile.
// Connections never reach these sockets: the DNAT rules rewrite them first.
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export interface HostPortRequest {
  proto: 'tcp' | 'udp' | 'sctp';
  hostIp: string;
  /** 0: any free port; [lo, hi]: the first free one in that range. */
  hostPort: number | [number, number];
}

export interface HeldPort {
  proto: 'tcp' | 'udp' | 'sctp';
  hostIp: string;
  hostPort: number;
  close(): void;
}

export class PortInUseError extends Error {
  constructor(readonly where: string, readonly why: string) {
    super(`failed to bind host port ${where}: ${why}`);
  }
}

function bindTcp(host: string, port: number): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const s = net.createServer({ pauseOnConnect: true }, (c) => c.destroy());
    s.once('error', reject);
    s.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      s.removeListener('error', reject);
      s.unref();
      resolve({ port: (s.address() as net.AddressInfo).port, close: () => s.close() });
    });
  });
}

function bindUdp(host: string, port: number): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4' });
    s.once('error', reject);
    s.bind({ address: host, port, exclusive: true }, () => {
      s.removeListener('error', reject);
      s.unref();
      resolve({ port: s.address().port, close: () => s.close() });
    });
  });
}

async function bindOne(proto: HostPortRequest['proto'], host: string, port: number): Promise<{ port: number; close(): void }> {
  if (proto === 'udp') return bindUdp(host, port);
  // sctp: Node has no SCTP sockets; the port is not held, only mapped.
  if (proto === 'sctp') return { port, close: () => undefined };
  return bindTcp(host, port);
}

function why(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'EADDRINUSE') return 'address already in use';
  if (code === 'EADDRNOTAVAIL') return 'cannot assign requested address';
  return (e as Error).message;
}

export async function holdPort(r: HostPortRequest): Promise<HeldPort> {
  const host = r.hostIp || '0.0.0.0';
  const tries = Array.isArray(r.hostPort)
    ? Array.from({ length: r.hostPort[1] - r.hostPort[0] + 1 }, (_, i) => (r.hostPort as [number, number])[0] + i)
    : [r.hostPort];
  let last: unknown;
  for (const p of tries) {
    try {
      const s = await bindOne(r.proto, host, p);
      return { proto: r.proto, hostIp: r.hostIp, hostPort: s.port, close: s.close };
    } catch (e) {
      last = e;
    }
  }
  const shown = Array.isArray(r.hostPort) ? `${r.hostPort[0]}-${r.hostPort[1]}` : String(r.hostPort);
  throw new PortInUseError(`${host}:${shown}/${r.proto}`, why(last));
}
