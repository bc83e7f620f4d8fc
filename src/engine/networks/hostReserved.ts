// What the host already uses of the address space, which a network given a subnet from the
// address pools must not take. Docker (libnetwork, since 23.0) reserves the host's nameservers
// and its on-link IPv4 routes in the main table: the subnets the host itself sits on (its LAN,
// other bridges, other engines' and daemons' networks, a VPN's tunnel). Routes through a gateway
// are not reserved: a VPN's aggregates (10.0.0.0/8 via ...) or OpenVPN's 0.0.0.0/1 and
// 128.0.0.0/1 would leave no pool at all, and say nothing of which subnets are in use.
import * as fs from 'node:fs';
import { isIpv4, parseIp, type Cidr } from '../../network/ipv4';
import type { Cidr6 } from '../../network/ipv6';

/** The nameservers of a resolv.conf text, in order. */
export function nameserversIn(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
}

/**
 * The on-link (scope link) unicast routes of the main table in a /proc/net/fib_trie text:
 * /proc/net/route would show the table without the routes' scope. Its "Main:" section lists
 * leaves ("|-- 10.1.2.0") each followed by their prefixes ("/24 link UNICAST"); the local
 * table's entries (host LOCAL, link BROADCAST) may be merged into it and are not routes.
 */
export function onLinkRoutesIn(fibTrie: string): Cidr[] {
  const out: Cidr[] = [];
  let inMain = false;
  let leaf: number | undefined;
  for (const line of fibTrie.split('\n')) {
    if (line && !/^\s/.test(line)) { inMain = line.trim() === 'Main:'; leaf = undefined; continue; }
    if (!inMain) continue;
    const l = /^\s*\|-- (\S+)$/.exec(line);
    if (l) { leaf = isIpv4(l[1]) ? parseIp(l[1]) : undefined; continue; }
    const p = /^\s*\/(\d+) (\S+) (\S+)/.exec(line);
    if (p && leaf !== undefined && p[2] === 'link' && p[3] === 'UNICAST' && p[1] !== '0') out.push({ addr: leaf, prefix: Number(p[1]) });
  }
  return out;
}

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

/** The host's resolvers for forwarding (loopback ones too: berthd runs in the host's namespace); Docker's fallback when it names none. */
export function hostResolvers(): string[] {
  const out = nameserversIn(readOr('/etc/resolv.conf'));
  return out.length ? out : ['8.8.8.8', '8.8.4.4'];
}

/** The host's on-link IPv4 routes in its main table (none when /proc/net/fib_trie cannot be read). */
export function hostOnLinkRoutes(): Cidr[] {
  return onLinkRoutesIn(readOr('/proc/net/fib_trie'));
}

/** IPv4 subnets the host uses (Docker's reserved networks): its on-link routes, its nameservers. */
export function hostReserved4(): Cidr[] {
  const servers = nameserversIn(readOr('/etc/resolv.conf')).filter(isIpv4).map((s) => ({ addr: parseIp(s), prefix: 32 }));
  return [...hostOnLinkRoutes(), ...servers];
}

/** The host's IPv6 routes (other than default, link-local, multicast and host routes): subnets a new network must not take. */
export function hostRoutes6(): Cidr6[] {
  const out: Cidr6[] = [];
  for (const line of readOr('/proc/net/ipv6_route').split('\n')) {
    const [dest, plen] = line.trim().split(/\s+/);
    if (!dest || dest.length !== 32) continue;
    const c: Cidr6 = { addr: BigInt('0x' + dest), prefix: parseInt(plen, 16) };
    if (c.prefix === 0 || c.prefix === 128 || dest.startsWith('fe80') || dest.startsWith('ff')) continue;
    out.push(c);
  }
  return out;
}
