// Running a short-lived program (ip, nft, ...) without forking the daemon: posix_spawn on a
// libuv pool thread (native/spawn.c), where child_process.spawn forks the whole berthd and
// waits for the exec on the event loop (~5-10 ms of main thread per process under load).
// Pipes for stdin (when there is input), stdout and stderr; the exit status is read once both
// outputs are closed.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { loadNative } from './native';

/** spawnDetached's fd slots: /dev/null, a pipe we read, a pipe we write. */
const NULL_FD = -1;
const READ_PIPE = -2;
const WRITE_PIPE = -3;

export interface ProgramResult { code: number; stdout: string; stderr: string }

/** The first `dir/name` on PATH that is executable (execvp's lookup), uncached. */
export function findInPath(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const found = new Map<string, string>();

/** The program's path from PATH, as execvp finds it (posix_spawn takes a path); cached. */
function which(cmd: string): string {
  if (cmd.includes('/')) return cmd;
  const hit = found.get(cmd) ?? findInPath(cmd);
  if (!hit) throw Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: 'ENOENT' });
  found.set(cmd, hit);
  return hit;
}

function collect(fd: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = new net.Socket({ fd, readable: true, writable: false });
    s.setEncoding('utf8');
    s.on('data', (d: string) => { text += d; });
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
  });
}

/** The exit status of a child whose outputs have closed: it is exiting, reaped within moments. */
async function exitOf(pid: number): Promise<number> {
  const native = loadNative();
  for (let delay = 0; ; delay = Math.min(Math.max(1, delay * 2), 50)) {
    const st = native.waitpidNohang(pid);
    if (st !== -1) return st === -2 ? 255 : st;
    await new Promise((r) => setTimeout(r, delay));
  }
}

let envp: string[] | undefined;

/** Where the program runs: in the network namespace bound at `path` (made there with `create`). */
export interface ProgramNetns { path: string; create?: boolean }

/**
 * Runs `cmd args` with `input` on its stdin (else /dev/null); resolves with its status and
 * outputs. With `netns`, in that network namespace (as `nsenter --net=` or `unshare --net=`
 * would run it, without their exec).
 */
export async function runProgram(cmd: string, args: string[], input?: string, netns?: ProgramNetns): Promise<ProgramResult> {
  // berthd's environment, read once: each process.env read is a call into C++, ~1 ms per spawn
  // under load for the whole table.
  envp ??= Object.entries(process.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const [pid, stdin, stdout, stderr] = await loadNative().spawnDetachedAsync(which(cmd), [cmd, ...args], envp, '/',
    [input === undefined ? NULL_FD : WRITE_PIPE, READ_PIPE, READ_PIPE], netns?.path ?? null, !!netns?.create);
  const outputs = Promise.all([collect(stdout), collect(stderr)]);
  if (stdin >= 0) {
    const w = new net.Socket({ fd: stdin, readable: false, writable: true });
    w.on('error', () => undefined); // the program exited without reading all of it
    w.end(input ?? '');
  }
  const [out, err] = await outputs;
  return { code: await exitOf(pid), stdout: out, stderr: err };
}
