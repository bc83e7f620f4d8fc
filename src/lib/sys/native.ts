// Loader of the C addon in native/ (built by `npm run build`). Everything that needs a syscall
// Node lacks goes through here; callers use the typed wrappers in this directory.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Event types passed to a seqpacket handle's callback. */
export const SP_EV_DATA = 1;
export const SP_EV_EOF = 2;
export const SP_EV_WRITABLE = 3;
export const SP_EV_ERROR = 4;

export type SeqpacketCallback = (type: number, payload: Buffer | number | undefined) => void;

/** Opaque handle owned by the addon. */
export interface NativeSeqpacketHandle { readonly __brand?: 'seqpacket' }

export interface BerthNative {
  seqpacketConnect(path: string): number;
  seqpacketOpen(fd: number, cb: SeqpacketCallback): NativeSeqpacketHandle;
  /** Bytes sent, or -errno (e.g. -11 for EAGAIN). */
  seqpacketSend(h: NativeSeqpacketHandle, data: Buffer): number;
  seqpacketWantWrite(h: NativeSeqpacketHandle, want: boolean): void;
  /** Stops (false) or resumes (true) reading: backpressure from a slow consumer. */
  seqpacketSetReading(h: NativeSeqpacketHandle, reading: boolean): void;
  seqpacketShutdown(h: NativeSeqpacketHandle, how: number): void;
  seqpacketClose(h: NativeSeqpacketHandle): void;
  /** 1: the listener has accepted the connection; 0: still in its backlog; -107 (ENOTCONN): the
   *  peer went away and nothing is left to read; other -errno: the kernel cannot tell. */
  seqpacketPeerAccepted(h: NativeSeqpacketHandle): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  /** mount on a libuv pool thread (absolute paths only: the cwd may change meanwhile). */
  mountAsync(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): Promise<void>;
  /** umount2 on a libuv pool thread. */
  umount2Async(target: string, flags: number): Promise<void>;
  setns(fd: number, nstype: number): void;
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** mode includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
  mknod(path: string, mode: number, major: number, minor: number): void;
  mkfifo(path: string, mode: number): void;
  /** follow=false (default) is lsetxattr. Values are raw bytes. */
  setxattr(path: string, name: string, value: Buffer, flags?: number, follow?: boolean): void;
  /** follow=false (default) is llistxattr. */
  listxattr(path: string, follow?: boolean): string[];
  /** follow=false (default) is lgetxattr. */
  getxattr(path: string, name: string, follow?: boolean): Buffer;
  /** Extracts the tar read from `fd` into `dest` on a thread of its own (native/extract.c). */
  extractTar(opts: { fd: number; dest: string; teeFd?: number; hash?: number }, cb: NativeExtractCallback): void;
  /** The same, fed with Buffers through extractFeed instead of read from an fd: returns the feed. */
  extractTar(opts: { feed: 1; dest: string; teeFd?: number; hash?: number }, cb: NativeExtractCallback): NativeFeedHandle;
  /** Queues a chunk (null: the end); false: wait for the callback's `drained` before the next. */
  extractFeed(h: NativeFeedHandle, chunk: Buffer | null): boolean;
  /** A hard link at `path` to the file open as `fd` (then fdatasync of it). */
  linkFd(fd: number, path: string): void;
  /** chattr +T of a directory (ext4's Orlov spreads the directories made in it), best effort. */
  spreadDirs(path: string): boolean;
  /** gzip of srcFd (read to its end) into dstFd on a thread of its own (native/gzip.c). */
  gzipFile(srcFd: number, dstFd: number, level: number, cb: (err: { message: string } | null, result?: { digest: string; size: number; inBytes: number }) => void): void;
  /** A user namespace with these uid_map / gid_map texts, as an fd (native/idmap.c). */
  usernsOpen(uidMap: string, gidMap: string): number;
  /** An idmapped clone of the mount at `src` (through the user namespace `usernsFd`), moved onto `dst`. */
  idmapMount(src: string, dst: string, usernsFd: number): void;
  /** A user namespace with these maps and a network namespace it owns, bound at the two existing files. */
  usernsNetns(uidMap: string, gidMap: string, usernsFile: string, netnsFile: string): void;
  /**
   * posix_spawn in a new session (native/spawn.c). `fds[i]` is child fd i: a parent fd, -1 for
   * /dev/null, -2 for a new pipe's write end, -3 for its read end. Returns [pid, our end of
   * each pipe or -1...].
   */
  spawnDetached(path: string, argv: string[], envp: string[], cwd: string, fds: number[]): number[];
  /**
   * spawnDetached on a libuv pool thread (the event loop goes on while the child execs); the
   * parent fds in `fds` must stay open until it settles. With `netns` the child starts in the
   * network namespace bound at that file; `createNetns` makes one and binds it there first.
   */
  spawnDetachedAsync(path: string, argv: string[], envp: string[], cwd: string, fds: number[], netns?: string | null, createNetns?: boolean): Promise<number[]>;
  /** Exit status once reaped, -1 while running, -2 when not our child. */
  waitpidNohang(pid: number): number;
  /** An OCI linux.seccomp section compiled to BPF as crun 1.8.1 compiles it (native/seccomp.c). */
  compileSeccomp(section: object, failUnknown?: boolean): Promise<{ bpf: Buffer; unknown: string[] }>;
  /** A sealed memfd copy of the executable at `path` (native/spawn.c); close-on-exec. */
  sealedCopy(path: string): number;
  /** rm -rf of each absolute path in one pool job (native/fsbatch.c); rejects with the first failure. */
  removeTreesAsync(paths: string[]): Promise<void>;
  /** rmdir of each absolute path in one pool job: the errno of each (0: removed). */
  rmdirsAsync(paths: string[]): Promise<number[]>;
  /** open, umount2, close of `target` in one pool job; false: nothing there or nothing mounted. */
  unmountHeldAsync(target: string, flags: number): Promise<boolean>;
  /** Up to maxBytes of each absolute path with its mtime, in one pool job; null: missing. */
  readFilesAsync(paths: string[], maxBytes: number): Promise<({ text: string; mtimeMs: number } | null)[]>;
  /** tmp written (mode), fsynced (durability >= 1), renamed over file, its directory fsynced (2): one pool job. */
  writeFileAtomicAsync(paths: string[], data: string | Uint8Array | (string | Uint8Array)[], mode: number, durability: number): Promise<void>;
  // The spare CLI process (src/cli/spare.ts, native/spare.c).
  /** A connected fd, or -1 when none came within timeoutMs. */
  spareAccept(listenFd: number, timeoutMs: number): number;
  /** One request of native/launcher.c: the peer's kernel credentials, the fds it passed, the bytes. */
  spareReceive(fd: number, timeoutMs: number): { uid: number; gid: number; pid: number; fds: number[]; data: Buffer };
  dup2(from: number, to: number): number;
  /** The exit status goes to fd at exit (or at spareFinish); SIGKILL when the peer of fd hangs up. */
  spareTaken(fd: number): void;
  /** Sends the exit status now, and puts /dev/null on fds 0-2. */
  spareFinish(code: number): void;
}

export interface NativeExtractResult {
  /** sha256 hex of the bytes read (the blob). */
  rawDigest: string;
  /** sha256 hex of the uncompressed tar (the diff ID). */
  diffId: string;
  rawBytes: number;
  tarBytes: number;
  /** Bytes of regular files written (hard links once). */
  size: number;
  compression: 'none' | 'gzip' | 'zstd';
}

/** Progress: (null, undefined, tarBytes); the end: (error, undefined) or (null, result). */
export type NativeExtractCallback = (err: { kind: 'invalid' | 'system'; message: string } | null, result?: NativeExtractResult, progress?: number, drained?: boolean) => void;

/** Opaque handle of a fed extraction. */
export interface NativeFeedHandle { readonly __brand?: 'feed' }

/** Errors thrown by the addon carry Node-style fields. */
export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

let cached: BerthNative | undefined;

function candidates(): string[] {
  const out: string[] = [];
  if (process.env.BERTH_NATIVE) out.push(process.env.BERTH_NATIVE);
  // src/lib/sys (ts-node) or dist/src/lib/sys (compiled): walk up to the directory with native/.
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    out.push(path.join(dir, 'native', 'build', 'Release', 'berth_native.node'));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}

export function loadNative(): BerthNative {
  if (cached) return cached;
  const tried = candidates();
  for (const p of tried) {
    if (fs.existsSync(p)) {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      cached = require(p) as BerthNative;
      return cached;
    }
  }
  throw new Error(`berth native addon not found (run \`npm run build\`); looked in: ${tried.join(', ')}`);
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as NativeError).code === 'string' && typeof (e as NativeError).errno === 'number';
}
