// berthd's flags and daemon.json, resolved into one DaemonOptions. Flags win over the file,
// and a key given in both is an error, as dockerd does.
import * as fs from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_ADDRESS_POOLS, type DaemonConfig } from '../engine/config';
import { parseSeccompProfile } from '../runtime/seccomp';
import { crunRefusal } from '../runtime/crun';
import { findInPath } from '../lib/sys/spawn';

export interface DaemonOptions extends DaemonConfig {
  hosts: string[];
  pidfile: string;
  logLevel: string;
  tls?: { ca: string; cert: string; key: string };
  /** The unix socket's group (-G, daemon.json group): 'berth' unless given. */
  socketGroup: { name: string; explicit: boolean };
}

interface DaemonJson {
  'data-root'?: string;
  'exec-root'?: string;
  pidfile?: string;
  hosts?: string[];
  'log-level'?: string;
  debug?: boolean;
  'default-runtime'?: string;
  runtimes?: Record<string, { path: string; runtimeArgs?: string[] }>;
  'log-driver'?: string;
  'log-opts'?: Record<string, string>;
  'live-restore'?: boolean;
  'cgroup-parent'?: string;
  'init-path'?: string;
  'seccomp-profile'?: string;
  group?: string;
  'no-new-privileges'?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  'registry-mirrors'?: string[];
  'insecure-registries'?: string[];
  'max-concurrent-downloads'?: number;
  bridge?: string;
  bip?: string;
  'fixed-cidr'?: string;
  mtu?: number;
  'ip-masq'?: boolean;
  icc?: boolean;
  iptables?: boolean;
  'default-address-pools'?: { base: string; size: number }[];
  /** berth's own: the name of its nftables tables (default "berth"); two daemons on one host need two. */
  'nftables-table'?: string;
  'userns-remap'?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function which(names: string[]): string {
  return found(names) ?? names[0];
}

/** The first of `names` that exists (an absolute path, or a name looked up in PATH). */
function found(names: string[]): string | undefined {
  for (const n of names) {
    const hit = n.startsWith('/') ? (fs.existsSync(n) ? n : undefined) : findInPath(n);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * runc always; crun when it is on PATH. The default is crun where it can run containers on
 * this host (it starts one in less than half of runc's CPU), else runc; `docker info` says why
 * (engine/system/info.ts).
 */
function builtinRuntimes(): { runtimes: DaemonConfig['runtimes']; preferred: string } {
  const crun = found(['crun']);
  const runtimes: DaemonConfig['runtimes'] = { runc: { name: 'runc', path: which(['runc']) } };
  if (crun) runtimes.crun = { name: 'crun', path: crun };
  return { runtimes, preferred: crun && crunRefusal() === undefined ? 'crun' : 'runc' };
}

/** A repeatable flag and its daemon.json list: both given is a conflict, as dockerd says. */
function listOption(flag: string[], file: DaemonJson, key: 'registry-mirrors' | 'insecure-registries', conflicts: string[]): string[] {
  const v = file[key];
  if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) throw new Error(`invalid ${key} in the configuration file: a list of strings`);
  if (flag.length && v !== undefined) conflicts.push(`${key}: (from flag: [${flag.join(' ')}], from file: [${v.join(' ')}])`);
  return flag.length ? flag : v ?? [];
}

function positiveInt(n: number, key: string): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid ${key}: ${n} (a positive integer)`);
  return n;
}

/** daemon.json seccomp-profile (a file read now, as dockerd does) and no-new-privileges. */
function securityDefaults(file: DaemonJson): Pick<DaemonConfig, 'seccompProfile' | 'customSeccomp' | 'noNewPrivileges'> {
  const out: Pick<DaemonConfig, 'seccompProfile' | 'customSeccomp' | 'noNewPrivileges'> = { noNewPrivileges: file['no-new-privileges'] === true };
  const p = file['seccomp-profile'];
  if (p === undefined || p === '' || p === 'builtin') return { ...out, seccompProfile: 'builtin' };
  if (p === 'unconfined') return { ...out, seccompProfile: p };
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    throw new Error(`opening seccomp profile (${p}) failed: ${(e as Error).message}`);
  }
  try {
    return { ...out, seccompProfile: p, customSeccomp: parseSeccompProfile(text) };
  } catch (e) {
    throw new Error(`${p}: ${(e as Error).message}`);
  }
}

export function parseDaemonOptions(argv: string[]): DaemonOptions {
  const cmd = new Command('berthd')
    .description('berth daemon: serves the Docker Engine API')
    .option('-H, --host <address>', 'daemon socket(s) to listen on (unix:///path or tcp://host:port with TLS)', collect, [])
    .option('--data-root <dir>', 'root of persistent state', undefined)
    .option('--exec-root <dir>', 'root of runtime state (sockets, bundles)', undefined)
    .option('-p, --pidfile <file>', 'path of the daemon PID file', undefined)
    .option('--config-file <file>', 'daemon configuration file', '/etc/berth/daemon.json')
    .option('-l, --log-level <level>', 'debug, info, warn, error, fatal', undefined)
    .option('-D, --debug', 'debug logging')
    .option('--default-runtime <name>', 'default OCI runtime for containers (crun where it can run here, else runc)', undefined)
    .option('-G, --group <group>', 'group of the unix socket(s)', undefined)
    .option('--live-restore', 'keep containers running while the daemon is down')
    .option('--tlsverify', 'require mutual TLS on TCP listeners')
    .option('--tlscacert <file>', 'CA that client certificates must be signed by')
    .option('--tlscert <file>', 'server certificate')
    .option('--tlskey <file>', 'server key')
    .option('--registry-mirror <url>', 'preferred Docker Hub mirror (repeatable)', collect, [])
    .option('--insecure-registry <host|cidr>', 'registry reached over HTTP or unverified TLS (repeatable)', collect, [])
    .option('--max-concurrent-downloads <n>', 'layer downloads at once per pull', undefined)
    .option('-b, --bridge <name>', 'the default bridge network\'s device (default "berth0")')
    .option('--bip <cidr>', 'the default bridge\'s address and subnet ("10.1.0.1/24")')
    .option('--fixed-cidr <cidr>', 'the part of the default bridge\'s subnet containers get addresses from')
    .option('--mtu <bytes>', 'MTU of the default bridge and its containers\' interfaces', (v) => Number(v))
    .option('--ip-masq <bool>', 'outbound NAT for the default bridge (true)', (v) => v !== 'false')
    .option('--icc <bool>', 'traffic between containers on the default bridge (true)', (v) => v !== 'false')
    .option('--iptables <bool>', 'write packet filter rules (nftables; true)', (v) => v !== 'false')
    .option('--default-address-pool <base=CIDR,size=N>', 'where new networks\' subnets come from', collect, [])
    .option('--nftables-table <name>', 'name of berth\'s nftables tables (default "berth")')
    .option('--userns-remap <user[:group]|uid[:gid]|default>', 'user/group setting for user namespaces (container root becomes that user\'s subordinate ids)')
    .version('0.1.0', '-v, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts<{
    host: string[]; dataRoot?: string; execRoot?: string; pidfile?: string; configFile: string; logLevel?: string; debug?: boolean;
    defaultRuntime?: string; group?: string; liveRestore?: boolean; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string;
    registryMirror: string[]; insecureRegistry: string[]; maxConcurrentDownloads?: string;
    bridge?: string; bip?: string; fixedCidr?: string; mtu?: number; ipMasq?: boolean; icc?: boolean; iptables?: boolean;
    defaultAddressPool: string[]; nftablesTable?: string; usernsRemap?: string;
  }>();
  let file: DaemonJson = {};
  const explicitFile = cmd.getOptionValueSource('configFile') === 'cli';
  if (fs.existsSync(f.configFile)) {
    try {
      file = JSON.parse(fs.readFileSync(f.configFile, 'utf8')) as DaemonJson;
    } catch (e) {
      throw new Error(`unable to configure the daemon with file ${f.configFile}: ${(e as Error).message}`);
    }
  } else if (explicitFile) {
    throw new Error(`unable to configure the daemon with file ${f.configFile}: open ${f.configFile}: no such file or directory`);
  }
  const conflicts: string[] = [];
  const pick = <T>(flag: T | undefined, key: keyof DaemonJson, dflt: T): T => {
    if (flag !== undefined && file[key] !== undefined) conflicts.push(`${key}: (from flag: ${String(flag)}, from file: ${String(file[key])})`);
    return flag ?? (file[key] as T | undefined) ?? dflt;
  };
  const execRoot = pick(f.execRoot, 'exec-root', '/run/berth');
  const builtin = builtinRuntimes();
  const opts: DaemonOptions = {
    hosts: f.host.length ? f.host : file.hosts ?? [`unix://${execRoot}/berth.sock`],
    dataRoot: pick(f.dataRoot, 'data-root', '/var/lib/berth'),
    execRoot,
    pidfile: pick(f.pidfile, 'pidfile', `${execRoot}/berthd.pid`),
    logLevel: f.debug || file.debug ? 'debug' : pick(f.logLevel, 'log-level', 'info'),
    defaultRuntime: pick(f.defaultRuntime, 'default-runtime', builtin.preferred),
    runtimes: {
      ...builtin.runtimes,
      ...Object.fromEntries(Object.entries(file.runtimes ?? {}).map(([name, r]) => [name, { name, path: which([r.path]), args: r.runtimeArgs ?? [] }])),
    },
    logDriver: file['log-driver'] ?? 'json-file',
    logOpts: file['log-opts'] ?? {},
    liveRestore: f.liveRestore ?? file['live-restore'] ?? false,
    conmonPath: which(['conmon', '/usr/libexec/podman/conmon']),
    initPath: file['init-path'] ?? which(['tini-static', 'catatonit', 'tini']),
    cgroupParent: file['cgroup-parent'] ?? '/berth',
    registryMirrors: listOption(f.registryMirror, file, 'registry-mirrors', conflicts),
    insecureRegistries: listOption(f.insecureRegistry, file, 'insecure-registries', conflicts),
    maxConcurrentDownloads: positiveInt(pick(f.maxConcurrentDownloads === undefined ? undefined : Number(f.maxConcurrentDownloads), 'max-concurrent-downloads', 3), 'max-concurrent-downloads'),
    network: {
      bridge: pick(f.bridge, 'bridge', 'berth0'),
      bip: pick<string | undefined>(f.bip, 'bip', undefined),
      fixedCidr: pick<string | undefined>(f.fixedCidr, 'fixed-cidr', undefined),
      mtu: pick(f.mtu, 'mtu', 1500),
      ipMasq: pick(f.ipMasq, 'ip-masq', true),
      icc: pick(f.icc, 'icc', true),
      iptables: pick(f.iptables, 'iptables', true),
      nftTable: pick(f.nftablesTable, 'nftables-table', 'berth'),
      addressPools: f.defaultAddressPool.length ? f.defaultAddressPool.map(parsePool) : file['default-address-pools'] ?? DEFAULT_ADDRESS_POOLS,
    },
    ...securityDefaults(file),
    usernsRemap: pick<string | undefined>(f.usernsRemap, 'userns-remap', undefined) || undefined,
    socketGroup: { name: pick(f.group, 'group', 'berth'), explicit: f.group !== undefined || file.group !== undefined },
  };
  if (!/^[a-zA-Z0-9_-]{1,32}$/.test(opts.network!.nftTable)) throw new Error(`invalid nftables-table ${opts.network!.nftTable}`);
  if (opts.network!.bridge.length > 15) throw new Error(`invalid bridge name ${opts.network!.bridge}: at most 15 characters`);
  if (conflicts.length) {
    throw new Error(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  if (!opts.runtimes[opts.defaultRuntime]) throw new Error(`default runtime ${opts.defaultRuntime} is not among the configured runtimes`);
  const tlsverify = f.tlsverify ?? file.tlsverify ?? false;
  if (tlsverify) {
    const ca = f.tlscacert ?? file.tlscacert;
    const cert = f.tlscert ?? file.tlscert;
    const key = f.tlskey ?? file.tlskey;
    if (!ca || !cert || !key) throw new Error('--tlsverify needs --tlscacert, --tlscert and --tlskey');
    opts.tls = { ca, cert, key };
  }
  for (const h of opts.hosts) {
    if (h.startsWith('tcp://') && !opts.tls) {
      throw new Error(`refusing to listen on ${h} without mutual TLS (--tlsverify --tlscacert --tlscert --tlskey)`);
    }
    if (!h.startsWith('tcp://') && !h.startsWith('unix://')) throw new Error(`invalid host ${h}: use unix:///path or tcp://host:port`);
  }
  return opts;
}

/** --default-address-pool base=10.10.0.0/16,size=24 */
function parsePool(v: string): { base: string; size: number } {
  const kv = Object.fromEntries(v.split(',').map((p) => p.split('=', 2) as [string, string]));
  const size = Number(kv.size);
  if (!kv.base || !Number.isInteger(size)) throw new Error(`invalid default-address-pool ${v}: want base=CIDR,size=N`);
  return { base: kv.base, size };
}
