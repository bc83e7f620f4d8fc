// crun (1.8): whether it can run containers on this host, its error texts in Docker's
// wording, and its fast paths (see fastpaths.ts).
import * as fs from 'node:fs';
import { CGROUP_ROOT } from './cgroups';

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
