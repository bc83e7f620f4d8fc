// A spare CLI process (native/launcher.c starts it; bundled as dist/cli/spare.js): Node started
// and the CLI bundle loaded ahead of time, waiting on a listening socket (fd 3) for ONE
// invocation. Taken, it becomes that invocation: the caller's fds 0-2, cwd, umask, environ and
// argv, then the CLI's main, as a cold start would run it. It never runs a second command, so
// nothing of one command leaks into another.
//
// Until it is taken it must not touch process.stdin/stdout/stderr (Node makes them at first use
// and fixes their kind then: a spare's are /dev/null) nor keep a libuv handle (the taken process
// must end when its command does): the wait is synchronous, in the addon.
//
// argv: node spare.js SOCKET_PATH SOCKET_INODE
import { chmodSync, closeSync, lstatSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { cacheFileFor, compileBundle, type CompiledBundle } from '../lib/codecache';
import { loadNative } from '../lib/sys/native';
import { BUNDLE, CACHE_DIR } from './launch';
import { cacheName, cacheWorthSaving } from './words';

const LISTENER = 3;
const PROTOCOL = 'berth-spare-2';
const NAMESPACES = ['mnt', 'pid', 'net', 'user', 'uts', 'ipc', 'cgroup'];
/** How often a waiting spare looks whether it is still wanted. */
const CHECK_MS = 1500;
/** A caller that connected has its request written at once; this only bounds a broken one. */
const REQUEST_MS = 5000;
const idleMs = () => Number(process.env.BERTH_CLI_SPARE_IDLE_MS) || 10 * 60_000;
/** The marker spare.ts sets so that the bundle's entry (bin.ts) does not run main at its load. */
export const SPARE_MARK = Symbol.for('berth.cli.spare');

interface Request { cwd: string; umask: number; namespaces: string[]; root: string; confinement: string; argv: string[]; env: string[] }

function parseRequest(data: Buffer): Request | undefined {
  const f = data.toString('utf8').split('\0');
  if (f.pop() !== '' || f[0] !== PROTOCOL) return undefined;
  const [, cwd, umask] = f;
  const namespaces = f.slice(3, 3 + NAMESPACES.length);
  let i = 3 + NAMESPACES.length;
  const root = f[i++];
  const confinement = f[i++];
  const argc = Number(f[i++]);
  if (!Number.isInteger(argc) || argc < 0 || i + argc > f.length) return undefined;
  return { cwd, umask: parseInt(umask, 8), namespaces, root, confinement, argv: f.slice(i, i + argc), env: f.slice(i + argc) };
}

const rootId = () => { const s = statSync('/'); return `${s.dev}:${s.ino}`; };

/** As native/launcher.c reads it: capabilities, no_new_privs, seccomp, and the LSM label. */
function confinement(): string {
  const status = readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /^(Cap|NoNewPrivs|Seccomp)/.test(l));
  let label = '';
  try { label = readFileSync('/proc/self/attr/current', 'utf8'); } catch { /* no LSM */ }
  return status.map((l) => `${l}\n`).join('') + label;
}

/**
 * Same user and group (the kernel's word; the launcher's hash of the install keeps callers of
 * other groups apart), same namespaces and root, confined alike (a caller with fewer
 * capabilities, or under seccomp or no_new_privs, must not have a freer process run its
 * command), and a cwd it can enter.
 */
function acceptable(peer: { uid: number; gid: number }, fds: number[], r: Request | undefined): r is Request {
  if (!r || peer.uid !== process.geteuid!() || peer.gid !== process.getegid!() || fds.length !== 3 || !Number.isInteger(r.umask)) return false;
  if (NAMESPACES.some((n, i) => readlinkSync(`/proc/self/ns/${n}`) !== r.namespaces[i]) || rootId() !== r.root) return false;
  if (confinement() !== r.confinement) return false;
  try {
    process.chdir(r.cwd);
    return true;
  } catch {
    return false;
  }
}

const int32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };

/** Becomes the caller: its fds, environ (through process.env, so that Node sees TZ change), umask, argv. */
function become(r: Request, fds: number[]): void {
  const native = loadNative();
  fds.forEach((fd, i) => native.dup2(fd, i));
  for (const fd of fds) if (fd > 2) closeSync(fd);
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const e of r.env) {
    const eq = e.indexOf('=');
    if (eq > 0) process.env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  process.umask(r.umask);
  process.argv = [process.argv[0], BUNDLE.replace(/berth\.js$/, 'launch.js'), ...r.argv];
}

/** The socket's name no longer names this spare's socket, or the bundle was rebuilt. */
function stale(socketPath: string, inode: number, bundle: { size: number; mtimeMs: number }): boolean {
  try {
    const b = statSync(BUNDLE);
    return lstatSync(socketPath).ino !== inode || b.size !== bundle.size || b.mtimeMs !== bundle.mtimeMs;
  } catch {
    return true;
  }
}

/**
 * The spares' code cache holds what the commands run in spares so far compiled: a spare whose
 * command is not in it yet writes it again (all it compiled: what the cache gave it, and its
 * command's functions), and adds the command's name to the list beside it.
 */
function saveCoverage(c: CompiledBundle, command: string): void {
  const list = `${c.cacheFile}.commands`;
  let covered: string[] = [];
  try { covered = readFileSync(list, 'utf8').split('\n'); } catch { /* none yet */ }
  if (covered.includes(command) && !c.wantsCache) return;
  c.save();
  try { writeFileSync(`${list}.${process.pid}`, [...covered.filter(Boolean), command].join('\n') + '\n'); renameSync(`${list}.${process.pid}`, list); } catch { /* read-only: again next time */ }
}

/** Removes the socket's name when it still names this spare's socket (a spare that will take no call). */
function unlinkIfMine(socketPath: string, inode: number): void {
  try {
    if (lstatSync(socketPath).ino === inode) unlinkSync(socketPath);
  } catch { /* gone already */ }
}

function serve(socketPath: string, inode: number): void {
  const native = loadNative();
  const bundleStat = statSync(BUNDLE);
  // one cache for every spare of this build: what the top level and the first taken command compiled
  const compiled = compileBundle(BUNDLE, cacheFileFor(CACHE_DIR, 'spare', bundleStat));
  (globalThis as Record<symbol, unknown>)[SPARE_MARK] = true;
  const cli = compiled.run(require) as { runMain(): void };
  // Node's own modules behind process.stdout/stdin (net for a pipe or socket, tty for a
  // terminal) and the client's streams: loaded here, not at the call (~8 ms of a cold `ps` is
  // Node compiling them). Loading them makes no stdio stream and reads nothing of the caller's.
  for (const m of ['node:net', 'node:tty', 'node:stream', 'node:readline']) require(m);
  // ready: the launcher prefers spares with u+x to ones still booting
  if (!stale(socketPath, inode, bundleStat)) chmodSync(socketPath, 0o700);
  const until = Date.now() + idleMs();
  let conn = -1;
  while (conn < 0) {
    conn = native.spareAccept(LISTENER, CHECK_MS);
    if (conn >= 0) break;
    if (stale(socketPath, inode, bundleStat)) return unlinkIfMine(socketPath, inode);
    if (Date.now() > until) return unlinkIfMine(socketPath, inode);
  }
  // one call only: a second launcher that raced into the backlog gets a reset, and goes cold;
  // the name is for the next spare
  closeSync(LISTENER);
  unlinkIfMine(socketPath, inode);
  let req: ReturnType<typeof native.spareReceive>;
  try {
    req = native.spareReceive(conn, REQUEST_MS);
  } catch {
    return;
  }
  const r = parseRequest(req.data);
  if (!acceptable(req, req.fds, r)) {
    try { writeSync(conn, int32(-1)); } catch { /* the launcher goes cold either way */ }
    return;
  }
  // the ack before the caller's fds are taken: a launcher that gave up meanwhile (it waits
  // for the ack a few seconds at most) leaves this spare nothing to answer to, and it just ends
  try { writeSync(conn, int32(process.pid)); } catch { return; }
  become(r, req.fds);
  // the launcher killed (SIGKILL: any other signal it forwards): this process ends with it.
  // The status goes at exit(3), after anything Node prints on its way out (an uncaught
  // exception's text comes after 'exit')...
  native.spareTaken(conn);
  let fatal = false;
  process.on('uncaughtExceptionMonitor', () => { fatal = true; });
  process.once('exit', (code) => {
    if (fatal) return;
    // ...else at 'exit' (the launcher waits on it; what the command wrote is written: Node
    // writes stdout and stderr synchronously to files, pipes and terminals), and the caller's
    // fds go before the code cache is written
    native.spareFinish(code);
    if (cacheWorthSaving(r.argv, code)) saveCoverage(compiled, cacheName(r.argv));
  });
  cli.runMain();
}

if (require.main === module) serve(process.argv[2], Number(process.argv[3]));
