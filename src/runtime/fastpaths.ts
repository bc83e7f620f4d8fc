// Which runtime gets which fast paths (start, delete of a stopped container, kill of a live
// init done in-process: runc.ts, crun.ts). Each set follows one runtime's internals at one
// minor version, so a binary gets them only when it is named for that runtime, has no extra
// global args, and its `--version` (asked once per binary) says that version.
import * as pathMod from 'node:path';
import type { RuntimeConfig } from './types';
import * as runc from './runc';
import * as crun from './crun';
import { runtimeVersionText } from './versionProbe';

export interface FastPaths {
  /** The runtime they follow. */
  kind: 'runc' | 'crun';
  /** Starts a created container; false: use `<runtime> start`. */
  start(root: string, id: string): Promise<boolean>;
  /** Removes a stopped container's state (true also when there was none); false: use `<runtime> delete`. */
  deleteStopped(root: string, id: string): Promise<boolean>;
  /** Signals a live, unfrozen init; false: use `<runtime> kill`. */
  killInit(root: string, id: string, signal: number): Promise<boolean>;
}

interface Kind {
  paths: FastPaths;
  version(out: string): [number, number, number] | undefined;
  supported: { major: number; minor: number };
}

const KINDS: Kind[] = [
  { paths: { kind: 'runc', start: runc.startViaExecFifo, deleteStopped: runc.deleteStopped, killInit: runc.killInit }, version: runc.parseRuncVersion, supported: runc.FAST_PATH_RUNC },
  { paths: { kind: 'crun', start: crun.startCreated, deleteStopped: crun.deleteStoppedCrun, killInit: crun.killInitCrun }, version: crun.parseCrunVersion, supported: crun.FAST_PATH_CRUN },
];

/** BERTH_RUNTIME_FAST_PATHS=0 (or the older BERTH_RUNC_FAST_PATHS=0) turns every runtime's fast paths off. */
export function fastPathsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BERTH_RUNTIME_FAST_PATHS !== '0' && env.BERTH_RUNC_FAST_PATHS !== '0';
}

/** The fast paths for this runtime, or undefined when it gets the plain CLI. */
export async function fastPathsFor(runtime: RuntimeConfig): Promise<FastPaths | undefined> {
  if ((runtime.args ?? []).length > 0) return undefined;
  const kind = KINDS.find((k) => runtime.name === k.paths.kind || pathMod.basename(runtime.path) === k.paths.kind);
  if (!kind) return undefined;
  const out = await runtimeVersionText(runtime.path);
  const v = out === undefined ? undefined : kind.version(out);
  return v !== undefined && v[0] === kind.supported.major && v[1] === kind.supported.minor ? kind.paths : undefined;
}

/** Whether the runtime gets fast paths (for runc 1.1.x and crun 1.8.x). */
export async function fastPathsApply(runtime: RuntimeConfig): Promise<boolean> {
  return (await fastPathsFor(runtime)) !== undefined;
}
