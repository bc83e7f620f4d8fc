// docker's DisplayablePorts for the PORTS column.
import type { Port } from '../../client/types';

function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let groupType = parts[0];
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0];
    groupType = parts[1];
  }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip) group = `${ip}:${group}->${group}`;
  return `${group}/${groupType}`;
}

export function displayablePorts(input: Port[] | null | undefined): string {
  const ports = [...(input ?? [])].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    const ai = a.IP ?? '', bi = b.IP ?? '';
    if (ai !== bi) return ai < bi ? -1 : 1;
    const ap = a.PublicPort ?? 0, bp = b.PublicPort ?? 0;
    if (ap !== bp) return ap - bp;
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    // a new group for this key keeps the key's original position (Go re-assigns the map entry)
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}
