// The daemon's configuration as the engine sees it (flags + daemon.json, resolved).
import * as path from 'node:path';
import type { RuntimeConfig } from '../runtime/types';

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
