// Port syntaxes to the long form: "8080:80", "127.0.0.1:8080:80/udp", "80", "[::1]:80:80",
// "8000-8001:80-81" (one entry per port), "8000-8010:80" (one entry with a host range).
import type { PortConfig } from '../model';
import { str, toInt } from './cast';
import { ComposeFileError } from '../model';

function range(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new ComposeFileError(`invalid port "${spec}": "${s}" is not a port or a range`);
  const a = parseInt(m[1], 10);
  const b = m[2] ? parseInt(m[2], 10) : a;
  if (b < a || b > 65535) throw new ComposeFileError(`invalid port "${spec}": invalid range ${s}`);
  return [a, b];
}

export function parsePortShort(spec: string | number): PortConfig[] {
  const text = str(spec).trim();
  let rest = text;
  let protocol: PortConfig['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new ComposeFileError(`invalid port "${text}": invalid proto: ${p}`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  // the last part is the container port, the one before it the host port, anything before that the IP
  const parts = rest.split(':');
  const container = parts.pop()!;
  const host = parts.length ? parts.pop()! : '';
  let ip = parts.join(':');
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const [cs, ce] = range(container, text);
  const base = { protocol, mode: 'ingress' as const, ...(ip ? { host_ip: ip } : {}) };
  if (host === '') {
    const out: PortConfig[] = [];
    for (let p = cs; p <= ce; p++) out.push({ ...base, target: p });
    return out;
  }
  const [hs, he] = range(host, text);
  if (cs === ce && he > hs) return [{ ...base, target: cs, published: `${hs}-${he}` }];
  if (ce - cs !== he - hs) throw new ComposeFileError(`invalid port "${text}": invalid ranges specified for container and host Ports: ${container} and ${host}`);
  const out: PortConfig[] = [];
  for (let i = 0; i <= ce - cs; i++) out.push({ ...base, target: cs + i, published: String(hs + i) });
  return out;
}

export function canonicalPort(v: Record<string, unknown>): PortConfig {
  const p: PortConfig = {
    target: toInt(v.target, 'ports.target'),
    protocol: (v.protocol ? str(v.protocol).toLowerCase() : 'tcp') as PortConfig['protocol'],
    mode: (v.mode ? str(v.mode) : 'ingress') as PortConfig['mode'],
  };
  if (v.published !== undefined && v.published !== null && v.published !== '') p.published = str(v.published);
  if (v.host_ip) p.host_ip = str(v.host_ip);
  if (v.name) p.name = str(v.name);
  if (v.app_protocol) p.app_protocol = str(v.app_protocol);
  return p;
}

export function canonicalPorts(v: unknown): PortConfig[] {
  const out: PortConfig[] = [];
  for (const item of Array.isArray(v) ? v : []) {
    if (typeof item === 'string' || typeof item === 'number') out.push(...parsePortShort(item));
    else out.push(canonicalPort(item as Record<string, unknown>));
  }
  return out;
}
