// Which runtime gets which fast paths (start, delete of a stopped container, kill of a live
// init done in-process: runc.ts, crun.ts). Each set follows one runtime's internals at one
// minor version, so a binary gets them only when it is named for that runtime, has no extra
// global args, and its `--version` (asked once per binary) says that version.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as pathMod from 'node:path';
import type { RuntimeConfig } from './types';
import * as runc from './runc';
import * as crun from './crun';

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

// One `--version` per binary; keyed by inode and mtime as well, so an upgrade in place is seen.
const probes = new Map<string, Promise<FastPaths | undefined>>();

/** The kind the binary's `--version` names at a supported version, null for none, undefined when it could not be run (ask again later). */
function probeVersion(binary: string, kind: Kind): Promise<FastPaths | null | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const v = kind.version(stdout);
      resolve(v !== undefined && v[0] === kind.supported.major && v[1] === kind.supported.minor ? kind.paths : null);
    });
  });
}

/** The fast paths for this runtime, or undefined when it gets the plain CLI. */
export async function fastPathsFor(runtime: RuntimeConfig): Promise<FastPaths | undefined> {
  if ((runtime.args ?? []).length > 0) return undefined;
  const kind = KINDS.find((k) => runtime.name === k.paths.kind || pathMod.basename(runtime.path) === k.paths.kind);
  if (!kind) return undefined;
  let st: fs.Stats;
  try {
    st = await fsp.stat(runtime.path);
  } catch {
    return undefined;
  }
  const key = `${runtime.path}\0${st.ino}\0${st.mtimeMs}\0${kind.paths.kind}`;
  let p = probes.get(key);
  if (!p) {
    p = probeVersion(runtime.path, kind).then((r) => {
      if (r === undefined) probes.delete(key);
      return r ?? undefined;
    });
    probes.set(key, p);
  }
  return p;
}

/** Whether the runtime gets fast paths (for runc 1.1.x and crun 1.8.x). */
export async function fastPathsApply(runtime: RuntimeConfig): Promise<boolean> {
  return (await fastPathsFor(runtime)) !== undefined;
}
