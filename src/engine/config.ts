// The daemon's configuration as the engine sees it (flags + daemon.json, resolved).
import * as path from 'node:path';
import type { RuntimeConfig } from '../runtime/types';
import type { DockerSeccompProfile } from '../runtime/seccomp';
import type { RemapConfig } from './usernsRemap';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  defaultRuntime: string;
  runtimes: Record<string, RuntimeConfig>;
  logDriver: string;
  logOpts: Record<string, string>;
  liveRestore: boolean;
  conmonPath: string;
  /** The init binary for `--init` (tini, static). */
  initPath: string;
  /** cgroup parent of every container, e.g. "/berth". */
  cgroupParent: string;
  /** daemon.json `registry-mirrors` (tried first for Docker Hub images). Optional: tools and tests may omit it. */
  registryMirrors?: string[];
  /** daemon.json `insecure-registries` / `--insecure-registry`: hosts and CIDRs (127.0.0.0/8 always). */
  insecureRegistries?: string[];
  /** daemon.json `max-concurrent-downloads` (3). */
  maxConcurrentDownloads?: number;
  /** Networking (networkConfigOf gives the defaults when absent). */
  network?: NetworkConfig;
  /** daemon.json seccomp-profile as given: 'builtin' (absent), 'unconfined' or a file's path. */
  seccompProfile?: string;
  /** That file's profile, read when the daemon starts (as dockerd does). */
  customSeccomp?: DockerSeccompProfile;
  /** daemon.json no-new-privileges: the default of every container. */
  noNewPrivileges?: boolean;
  /** daemon.json userns-remap as given (resolved into `remap` when the daemon starts). */
  usernsRemap?: string;
  /** The resolved remapping: every container but --userns=host runs in a user namespace with it. */
  remap?: RemapConfig;
}

export function containersDir(c: DaemonConfig): string {
  return path.join(c.dataRoot, 'containers');
}

export function bundleDir(c: DaemonConfig, id: string): string {
  return path.join(c.execRoot, 'bundles', id);
}

export function runtimeOf(c: DaemonConfig, name: string): RuntimeConfig {
  const rt = c.runtimes[name];
  if (!rt) throw new Error(`unknown runtime ${name}`);
  return rt;
}

/** The daemon's networking settings (flags and daemon.json: bridge, bip, fixed-cidr, mtu, ip-masq, icc, iptables, default-address-pools). */
export interface NetworkConfig {
  /** The default bridge network's device ("berth0"). */
  bridge: string;
  /** The default bridge's gateway address with prefix ("10.1.0.1/24"); else the first free pool. */
  bip?: string;
  /** Where the default bridge hands out addresses (a part of its subnet). */
  fixedCidr?: string;
  mtu: number;
  ipMasq: boolean;
  icc: boolean;
  /** false: berth writes no nftables rules at all (no NAT, no port maps, no isolation). */
  iptables: boolean;
  /** The name of berth's nftables tables (`table ip <name>`, `table bridge <name>`). */
  nftTable: string;
  /** Where subnets of new networks come from: blocks of `base`, `size` bits each. */
  addressPools: { base: string; size: number }[];
}

export const DEFAULT_ADDRESS_POOLS = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

export function networkConfigOf(c: DaemonConfig): NetworkConfig {
  return c.network ?? {
    bridge: 'berth0', mtu: 1500, ipMasq: true, icc: true, iptables: true, nftTable: 'berth', addressPools: DEFAULT_ADDRESS_POOLS,
  };
}
