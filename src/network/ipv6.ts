// IPv6 addresses as 128-bit bigints, and CIDR blocks: what IPAM and the rules of IPv6 networks
// need. Text is RFC 5952's (lower case, the longest run of zero groups as "::").
import { isIPv6 } from 'node:net';
import { InvalidParameterError } from '../lib/errors';

export interface Cidr6 { readonly addr: bigint; readonly prefix: number }

const ALL = (1n << 128n) - 1n;

export function isIpv6(s: string): boolean {
  return isIPv6(s.trim());
}

export function parseIp6(s: string): bigint {
  const t = s.trim();
  if (!isIPv6(t) || t.includes('%')) throw new InvalidParameterError(`invalid IPv6 address: ${s}`);
  let text = t;
  // a trailing dotted quad ("::ffff:10.0.0.1") is two groups
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (x: string | undefined) => (x ? x.split(':') : []);
  const h = groups(head);
  const tl = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // the longest run (of two or more) of zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

/** "fd00::/64" (a host address with a prefix keeps its address). */
export function parseCidr6(s: string): Cidr6 {
  const [a, p, extra] = s.trim().split('/');
  const prefix = Number(p);
  if (extra !== undefined || p === undefined || !/^\d+$/.test(p) || prefix > 128) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  return { addr: parseIp6(a), prefix };
}

export function networkOf6(c: Cidr6): Cidr6 {
  return { addr: c.addr & mask6(c.prefix), prefix: c.prefix };
}

export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.addr)}/${c.prefix}`;
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.prefix)) === (c.addr & mask6(c.prefix));
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  const m = mask6(Math.min(a.prefix, b.prefix));
  return (a.addr & m) === (b.addr & m);
}

/** The last address of the block. */
export function lastOf6(c: Cidr6): bigint {
  return networkOf6(c).addr | (~mask6(c.prefix) & ALL);
}
