// crun (1.8): whether it can run containers on this host, its error texts in Docker's
// wording, and its fast paths (see fastpaths.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CGROUP_ROOT } from './cgroups';
import { isGone, procState, readJsonFile, readJsonFiles, removeStopped, signalInit } from './initproc';

const CGROUP2_SUPER_MAGIC = 0x63677270;

function fsType(p: string): number | undefined {
  try {
    return fs.statfsSync(p).type;
  } catch {
    return undefined;
  }
}

/**
 * Why crun 1.8 would refuse every container on this host, or undefined when it would not.
 * crun supports a hybrid cgroup host (v1 hierarchies plus a cgroup2 at /sys/fs/cgroup/unified)
 * only while that cgroup2 holds no controller (libcrun_cgroup_enter); systemd's hybrid mode
 * leaves there the controllers no v1 hierarchy took (hugetlb on kernels where systemd mounts
 * no hugetlb hierarchy).
 */
export function crunRefusal(root = CGROUP_ROOT): string | undefined {
  if (fsType(root) === CGROUP2_SUPER_MAGIC) return undefined; // unified: fine
  const unified = `${root}/unified`;
  if (fsType(unified) !== CGROUP2_SUPER_MAGIC) return undefined; // v1 only: fine
  let controllers: string;
  try {
    controllers = fs.readFileSync(`${unified}/cgroup.controllers`, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (controllers === '') return undefined;
  return `its cgroup2 hierarchy ${unified} holds controllers (${controllers.split(/\s+/).join(', ')}) and crun 1.8 refuses a hybrid cgroup host unless it holds none`;
}

/** What a runtime error is about: the process it could not start, and the container's mounts. */
export interface ErrorContext {
  op: 'create' | 'exec';
  args?: string[];
  cwd?: string;
  mounts?: { destination: string; source?: string }[];
  /** The container's root on the host: crun names some paths under it. */
  rootfs?: string;
}

/** crun's strerror() text ("No such file or directory") as Go and so runc print it. */
const goErrno = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * crun's failures to start a process, in the words runc gives them (what dockerd shows, and the
 * phrases the docker CLI derives exit codes 126 and 127 from: "executable file not found", "no
 * such file or directory", "permission denied"). Anything else is left as crun said it.
 */
export function crunInDockerTerms(msg: string, ctx: ErrorContext): string {
  const started = (what: string) => `${ctx.op === 'exec' ? 'exec failed: ' : ''}unable to start container process: ${what}`;
  let m = /executable file `([^`]*)` not found in \$PATH: (.*)$/.exec(msg);
  if (m) {
    const [, file, why] = m;
    return started(file.includes('/') ? `exec: "${file}": stat ${file}: ${goErrno(why)}` : `exec: "${file}": executable file not found in $PATH`);
  }
  m = /^open executable: (.*)$/.exec(msg);
  if (m) {
    // a directory is EPERM to crun's open(O_PATH)+execveat and EACCES to runc's execve: both are Docker's "permission denied"
    const why = m[1] === 'Operation not permitted' ? 'permission denied' : goErrno(m[1]);
    return started(ctx.args?.[0] !== undefined ? `exec: "${ctx.args[0]}": ${why}` : `exec: ${why}`);
  }
  m = /^chdir `([^`]*)`: (.*)$/.exec(msg);
  if (m) return started(`chdir to cwd ("${m[1]}") set in config.json failed: ${goErrno(m[2])}`);
  m = /^([a-z][a-z ]*) `([^`]*)`: (.*)$/.exec(msg);
  if (m) {
    const [, op, p, why] = m;
    const root = ctx.rootfs?.replace(/\/+$/, '');
    const inside = root && p.startsWith(`${root}/`) ? p.slice(root.length) : p;
    const mount = [...(ctx.mounts ?? [])].sort((a, b) => b.destination.length - a.destination.length)
      .find((x) => inside === x.destination || inside.startsWith(`${x.destination.replace(/\/$/, '')}/`));
    if (mount) return `error mounting "${mount.source ?? ''}" to rootfs at "${mount.destination}": ${op} ${p}: ${goErrno(why)}`;
  }
  return msg;
}

// ---- fast paths for crun 1.8 --------------------------------------------------------------
// `crun start`, `crun delete` and `crun kill` are each a process start (~5-8 ms here) for work
// that is a few system calls. berth does them itself where they are that simple, following
// crun 1.8's libcrun, and leaves anything else to the CLI (hooks, a systemd cgroup, no PID
// namespace of its own, a live init, a busy cgroup):
//   state     <root>/<id>/status (JSON: pid, process-start-time, cgroup-path, scope,
//             systemd-cgroup...) and <root>/<id>/config.json (status.c)
//   start     the init waits reading <root>/<id>/exec.fifo; `crun start` opens it for
//             writing, unlinks it and writes one byte (libcrun_status_write_exec_fifo)
//   delete    of a stopped container: rmdir of the cgroup in every hierarchy of
//             /proc/self/cgroup (cgroup-path below /sys/fs/cgroup/<controllers>, "unified" for
//             the v2 line; the v2 tree alone on a unified host), then the state dir
//             (container_delete_internal, destroy_cgroup_path)
//   kill      of a live init: one signal to its PID once its start time matches (libcrun_kill_linux)

/** The crun releases whose state layout the fast paths follow. */
export const FAST_PATH_CRUN = { major: 1, minor: 8 };

/** `crun --version`'s first line, `crun version 1.8.1`, as [major, minor, patch]; undefined for another runtime. */
export function parseCrunVersion(out: string): [number, number, number] | undefined {
  const m = /^crun version (\d+)\.(\d+)(?:\.(\d+))?/.exec(out.trimStart());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

interface CrunStatus {
  pid: number;
  'process-start-time': number;
  'cgroup-path'?: string;
  scope?: string;
  'systemd-cgroup'?: boolean;
}

interface CrunConfig {
  hooks?: Record<string, unknown[] | undefined>;
  linux?: { namespaces?: { type: string; path?: string }[] };
}

const stateFile = (root: string, id: string, name: string) => path.join(root, id, name);
const hasHooks = (cfg: CrunConfig | undefined, kind: string) => (cfg?.hooks?.[kind]?.length ?? 0) > 0;

/** Starts a created container through its exec fifo; false: use `crun start`. */
export async function startCreated(root: string, id: string): Promise<boolean> {
  const fifo = stateFile(root, id, 'exec.fifo');
  // poststart hooks run in `crun start` after the write
  const cfg = await readJsonFile<CrunConfig>(stateFile(root, id, 'config.json'));
  if (!cfg || hasHooks(cfg, 'poststart')) return false;
  let fd: number;
  try {
    // O_NONBLOCK: ENXIO instead of a wait when no init holds the reading end any more
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    fs.unlinkSync(fifo);
    fs.writeSync(fd, Buffer.alloc(1));
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** The cgroup directories crun made for `cgroupPath` on this host (destroy_cgroup_path's list). */
export function crunCgroupDirs(cgroupPath: string, root = CGROUP_ROOT, selfCgroup = '/proc/self/cgroup'): string[] {
  const rel = cgroupPath.replace(/^\/+/, '');
  return hierarchyRoots(root, selfCgroup).map((h) => path.join(h, rel));
}

/** The hierarchies' mount points crun deletes in, read once per root (they do not change while berthd runs). */
const hierarchies = new Map<string, string[]>();

function hierarchyRoots(root: string, selfCgroup: string): string[] {
  const key = `${root}\0${selfCgroup}`;
  let roots = hierarchies.get(key);
  if (roots) return roots;
  if (fsType(root) === CGROUP2_SUPER_MAGIC) roots = [root];
  else {
    const hybrid = fsType(path.join(root, 'unified')) === CGROUP2_SUPER_MAGIC;
    let lines: string[];
    try {
      lines = fs.readFileSync(selfCgroup, 'utf8').split('\n').filter(Boolean);
    } catch {
      return []; // not remembered: read again next time
    }
    roots = lines.flatMap((line) => {
      // hierarchy-ID:controller-list:path
      const controllers = line.split(':')[1]?.replace(/^name=/, '') ?? '';
      const subsystem = controllers === '' ? 'unified' : controllers;
      if (subsystem === 'unified' && !hybrid) return [];
      return [path.join(root, subsystem)];
    });
  }
  hierarchies.set(key, roots);
  return roots;
}

/** Deletes a stopped container's cgroups and state; false: use `crun delete`. */
export async function deleteStoppedCrun(root: string, id: string): Promise<boolean> {
  const dir = path.join(root, id);
  const [st, cfg] = await readJsonFiles<[CrunStatus, CrunConfig]>([stateFile(root, id, 'status'), stateFile(root, id, 'config.json')]);
  if (!st) return isGone(dir);
  if (!cfg || hasHooks(cfg, 'poststop') || st['systemd-cgroup'] || st.scope) return false;
  if (!(cfg.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path)) return false;
  if ((await procState(st.pid, st['process-start-time'])) === 'alive') return false; // created or running
  return removeStopped(st['cgroup-path'] ? crunCgroupDirs(st['cgroup-path']) : [], dir);
}

/** Sends `signal` to a live init, as `crun kill ID SIGNAL`; false: use `crun kill`. */
export async function killInitCrun(root: string, id: string, signal: number): Promise<boolean> {
  const st = await readJsonFile<CrunStatus>(stateFile(root, id, 'status'));
  return st !== undefined && signalInit(st.pid, st['process-start-time'], signal);
}
