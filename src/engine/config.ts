// The daemon's configuration as the engine sees it (flags + daemon.json, resolved).
import * as path from 'node:path';
import type { RuntimeConfig } from '../runtime/types';
import type { DockerSeccompProfile } from '../runtime/seccomp';

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
  /** daemon.json seccomp-profile as given: 'builtin' (absent), 'unconfined' or a file's path. */
  seccompProfile?: string;
  /** That file's profile, read when the daemon starts (as dockerd does). */
  customSeccomp?: DockerSeccompProfile;
  /** daemon.json no-new-privileges: the default of every container. */
  noNewPrivileges?: boolean;
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
