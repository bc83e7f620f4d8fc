// The files a container gets from the daemon: /etc/hostname, /etc/hosts, /etc/resolv.conf.
// They live in the container's directory and are bind-mounted in.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { batchesAvailable, readSmallFiles, writeFilesAtomically } from '../../lib/sys/fsbatch';
import type { MountSpec } from '../../runtime/types';
import type { ContainerRecord } from './Container';

export interface ContainerFiles { hostname: string; hosts: string; resolvConf: string }

export function containerFiles(dir: string): ContainerFiles {
  return { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') };
}

const LOCALHOST_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** A host file's text (undefined when it cannot be read): one pool job where the addon loads. */
async function hostFile(file: string): Promise<string | undefined> {
  if (batchesAvailable()) return (await readSmallFiles([file]).catch(() => [undefined]))[0]?.text;
  return fsp.readFile(file, 'utf8').catch(() => undefined);
}

async function hostResolvConf(): Promise<string> {
  const text = (await hostFile('/etc/resolv.conf')) ?? '';
  // Loopback resolvers of the host are unreachable from a container's own network namespace.
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l));
  const hasServer = lines.some((l) => /^\s*nameserver\s/.test(l));
  if (!hasServer) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.join('\n').replace(/\n*$/, '\n');
}

/** What the network attachment adds: the container's own address line, links, the embedded DNS. */
export interface NetworkFileInput { hosts?: string[]; nameservers?: string[]; hostGateway?: string }

export async function writeContainerFiles(dir: string, c: ContainerRecord, net: NetworkFileInput = {}): Promise<void> {
  const files = containerFiles(dir);
  const hostNetwork = c.HostConfig.NetworkMode === 'host';
  const hostname = c.Config.Hostname;
  const hosts = hostNetwork
    ? ((await hostFile('/etc/hosts')) ?? LOCALHOST_HOSTS.join('\n') + '\n').replace(/\n*$/, '\n')
      + extraHosts(c.HostConfig.ExtraHosts, net.hostGateway).map((l) => l + '\n').join('')
    : [...LOCALHOST_HOSTS, ...extraHosts(c.HostConfig.ExtraHosts, net.hostGateway), ...(net.hosts ?? [])].join('\n') + '\n';
  let resolv = await hostResolvConf();
  // User networks: the embedded DNS (on the network's gateway) answers, and forwards the rest
  // to the host's resolvers, or to --dns servers when given (as Docker's 127.0.0.11 does);
  // search and options stay the host's unless --dns-search/--dns-option say otherwise.
  const embedded = !!net.nameservers?.length;
  if (embedded) {
    resolv = resolv.split('\n').filter((l) => l && !/^\s*nameserver\s/.test(l)).concat(net.nameservers!.map((n) => `nameserver ${n}`)).join('\n') + '\n';
  }
  const dns = embedded ? [] : c.HostConfig.Dns;
  if (dns.length > 0 || c.HostConfig.DnsSearch.length > 0 || c.HostConfig.DnsOptions.length > 0) {
    const lines = resolv.split('\n').filter((l) => l && !(dns.length > 0 && /^\s*nameserver\s/.test(l))
      && !(c.HostConfig.DnsSearch.length > 0 && /^\s*search\s/.test(l)) && !(c.HostConfig.DnsOptions.length > 0 && /^\s*options\s/.test(l)));
    for (const d of dns) lines.push(`nameserver ${d}`);
    if (c.HostConfig.DnsSearch.length > 0) lines.push(`search ${c.HostConfig.DnsSearch.join(' ')}`);
    if (c.HostConfig.DnsOptions.length > 0) lines.push(`options ${c.HostConfig.DnsOptions.join(' ')}`);
    resolv = lines.join('\n') + '\n';
  }
  // Written before each start, when no task has them bind-mounted (only this container's
  // does, and its last one is gone). Not records: no fsync (a file a power loss takes back is
  // written again by the next start, nothing reads it before). The three in one pool job, each
  // through a temp file and a rename; node:fs in place where the addon does not load.
  const contents: [string, string][] = [[files.hostname, hostname + '\n'], [files.hosts, hosts], [files.resolvConf, resolv]];
  if (batchesAvailable()) {
    await writeFilesAtomically(contents.map(([file, data]) => ({ tmp: `${file}.tmp`, file, data })), 0o644, { file: false, dir: false });
  } else {
    await Promise.all(contents.map(([file, data]) => fsp.writeFile(file, data, { mode: 0o644 })));
  }
}

/** --add-host NAME:IP lines; `host-gateway` is the host's address on the container's network. */
function extraHosts(list: string[] | null, hostGateway?: string): string[] {
  return (list ?? []).map((h) => {
    const i = h.indexOf(':');
    if (i < 0) return h;
    const ip = h.slice(i + 1);
    return `${ip === 'host-gateway' && hostGateway ? hostGateway : ip}\t${h.slice(0, i)}`;
  });
}

export function containerFileMounts(dir: string, readonlyRootfs: boolean): MountSpec[] {
  const files = containerFiles(dir);
  const opts = ['rbind', 'rprivate', readonlyRootfs ? 'ro' : 'rw'];
  return [
    { destination: '/etc/resolv.conf', source: files.resolvConf, type: 'bind', options: opts },
    { destination: '/etc/hostname', source: files.hostname, type: 'bind', options: opts },
    { destination: '/etc/hosts', source: files.hosts, type: 'bind', options: opts },
  ];
}
