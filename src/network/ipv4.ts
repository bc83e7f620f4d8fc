// IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks. Enough for IPAM and rule text.
import { InvalidParameterError } from '../lib/errors';

export interface Cidr { readonly addr: number; readonly prefix: number }

export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) throw new InvalidParameterError(`invalid IPv4 address: ${s}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new InvalidParameterError(`invalid IPv4 address: ${s}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function isIpv4(s: string): boolean {
  try { parseIp(s); return true; } catch { return false; }
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.0.0/24" (a host address with a prefix, "10.1.0.1/24", keeps its address). */
export function parseCidr(s: string): Cidr {
  const [a, p, extra] = s.trim().split('/');
  const prefix = Number(p);
  if (extra !== undefined || p === undefined || !/^\d+$/.test(p) || prefix > 32) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  return { addr: parseIp(a), prefix };
}

export function networkOf(c: Cidr): Cidr {
  return { addr: (c.addr & maskOf(c.prefix)) >>> 0, prefix: c.prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.addr)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === ((c.addr & maskOf(c.prefix)) >>> 0);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.addr & maskOf(p)) >>> 0) === ((b.addr & maskOf(p)) >>> 0);
}

/** Broadcast (last) address of the block. */
export function lastOf(c: Cidr): number {
  return (networkOf(c).addr | (~maskOf(c.prefix) >>> 0)) >>> 0;
}

/** Docker's MAC for an address: 02:42 then the four bytes of the IPv4 address. */
export function macForIp(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
