// One safe way into a directory that someone else controls (a container's rootfs, an
// unpacked archive): every path is resolved by the kernel, openat2(2) with RESOLVE_IN_ROOT,
// relative to a descriptor of the root held open for the handle's life. Symlinks (absolute or
// relative) and `..` are followed as if the root were `/`, so no path can lead outside it, and
// because the kernel resolves each path in one call there is no check-then-use window that a
// racing symlink swap could exploit (the userspace walk this replaces had one per component).
//
// Operations that Node only offers by path (mkdir, symlink, readlink, lchown, xattrs) are done
// on `/proc/self/fd/<parent fd>/<name>`: the parent is opened in the root first, and then only
// the last, single name is looked up by path, in a directory pinned by its descriptor. Only
// calls that never follow that last name are made this way (mkdir, symlink, readlink, lchown,
// lutimes, link, unlink, l*xattr): a followed symlink would resolve from the host's /. What
// must follow it (chmod, reads, writes) goes through a descriptor opened in the root.
//
// Paths are lexically cleaned first ('/a/../b' is '/b', as Docker's `filepath.Clean("/" + p)`),
// then resolved. Errors are Node-style (Error with .code: ENOENT, ENOTDIR, ELOOP, EEXIST...).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { openat2, O_PATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from './openat2';
import { mkfifo, mknod } from './fsnode';
import { readXattrs, setXattr } from './xattr';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW, O_DIRECTORY } = fs.constants;
const RESOLVE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
/** openat2 returns EAGAIN when a rename raced a `..` lookup; the kernel asks us to retry. */
const EAGAIN_RETRIES = 64;

const fstat = promisify(fs.fstat);
const readFd = promisify(fs.readFile) as (fd: number) => Promise<Buffer>;
const closeFd = promisify(fs.close);

export interface WriteOptions {
  /** Permission bits of a file that is created (subject to the umask). Default 0o644. */
  mode?: number;
  /** Fail with EEXIST if something is there (default: truncate a regular file). */
  exclusive?: boolean;
  uid?: number;
  gid?: number;
}

export interface MkdirOptions {
  /** Mode of the directories created (existing ones are left alone). Default 0o755. */
  mode?: number;
  /** Owner of the directories created. */
  uid?: number;
  gid?: number;
}

/** `p` cleaned as an absolute path inside the root ('/' for the root itself). */
export function cleanInRoot(p: string): string {
  return path.posix.normalize('/' + p).replace(/(.)\/+$/, '$1');
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  e.code = code;
  return e;
}

/** A directory opened as a root. Close it when done (or use InRoot.with). */
export class InRoot {
  private fd: number;

  private constructor(readonly dir: string, fd: number) {
    this.fd = fd;
  }

  /** Opens `dir` (a host path that must be a directory) as the root of later lookups. */
  static open(dir: string): InRoot {
    return new InRoot(dir, fs.openSync(dir, O_PATH | O_DIRECTORY));
  }

  /** Opens `dir`, runs `fn` with it, closes it. */
  static async with<T>(dir: string, fn: (root: InRoot) => Promise<T>): Promise<T> {
    const r = InRoot.open(dir);
    try { return await fn(r); } finally { r.close(); }
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * A new descriptor for `p` inside the root (the caller closes it). `flags` are
   * fs.constants.O_* plus O_PATH; O_NOFOLLOW makes a symlink as the last component fail
   * (ELOOP) or, with O_PATH, opens the symlink itself.
   */
  openFd(p: string, flags: number, mode = 0o644): number {
    if (this.fd < 0) throw new Error(`InRoot ${this.dir} is closed`);
    for (let i = 0; ; i++) {
      try {
        return openat2(this.fd, cleanInRoot(p), flags, mode, RESOLVE);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || i >= EAGAIN_RETRIES) throw e;
      }
    }
  }

  /** Runs `fn` with a descriptor of `p`, closing it afterwards. */
  private async withFd<T>(p: string, flags: number, fn: (fd: number) => Promise<T> | T, mode?: number): Promise<T> {
    const fd = this.openFd(p, flags, mode);
    try { return await fn(fd); } finally { fs.closeSync(fd); }
  }

  /**
   * Runs `fn` with `/proc/self/fd/<parent>/<name>` for `p`'s last component, its parent
   * resolved in the root. `p` must not be the root itself.
   */
  private async atParent<T>(p: string, fn: (procPath: string, name: string) => Promise<T> | T): Promise<T> {
    const clean = cleanInRoot(p);
    if (clean === '/') throw errnoError('EINVAL', `${this.dir}: the operation needs a path below the root`);
    const name = path.posix.basename(clean);
    return this.withFd(path.posix.dirname(clean), O_PATH | O_DIRECTORY, (dfd) => fn(`/proc/self/fd/${dfd}/${name}`, name));
  }

  /** stat(2) of `p`, symlinks followed inside the root. */
  stat(p: string): Promise<fs.Stats> {
    return this.withFd(p, O_PATH, (fd) => fstat(fd));
  }

  /** lstat(2) of `p`: a symlink as the last component is described, not followed. */
  lstat(p: string): Promise<fs.Stats> {
    return this.withFd(p, O_PATH | O_NOFOLLOW, (fd) => fstat(fd));
  }

  /** Whether `p` resolves to something inside the root (symlinks followed). */
  async exists(p: string): Promise<boolean> {
    try {
      fs.closeSync(this.openFd(p, O_PATH));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /** Where `p` leads, symlinks followed, as an absolute path inside the root ('/etc/passwd'). */
  realpath(p: string): Promise<string> {
    return this.withFd(p, O_PATH, (fd) => this.inRootPathOf(fd, p));
  }

  /**
   * Opens the regular file at `p` for reading. Anything else (a FIFO that would block the
   * daemon, a device that never ends) is refused with EINVAL before it is opened for reading:
   * it is looked at through an O_PATH descriptor, then that same inode is reopened.
   */
  openRegularFd(p: string): number {
    const pfd = this.openFd(p, O_PATH);
    try {
      const st = fs.fstatSync(pfd);
      if (st.isDirectory()) throw errnoError('EISDIR', `${p}: is a directory`);
      if (!st.isFile()) throw errnoError('EINVAL', `${p}: not a regular file`);
      return fs.openSync(`/proc/self/fd/${pfd}`, O_RDONLY);
    } finally {
      fs.closeSync(pfd);
    }
  }

  /**
   * The whole content of the regular file at `p` (symlinks followed inside the root).
   * EFBIG past `maxBytes`.
   */
  async readFile(p: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    const fd = this.openRegularFd(p);
    try {
      if (opts.maxBytes !== undefined && (await fstat(fd)).size > opts.maxBytes) {
        throw errnoError('EFBIG', `${p}: larger than ${opts.maxBytes} bytes`);
      }
      return await readFd(fd);
    } finally {
      await closeFd(fd);
    }
  }

  /** As readFile, or undefined when `p` does not exist, is a directory or a parent is not one. */
  async readFileIfExists(p: string, opts: { maxBytes?: number } = {}): Promise<Buffer | undefined> {
    try {
      return await this.readFile(p, opts);
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw e;
    }
  }

  /** A read stream of the regular file at `p`, opened now (so a missing file throws here). */
  createReadStream(p: string): fs.ReadStream {
    return fs.createReadStream('', { fd: this.openRegularFd(p), autoClose: true });
  }

  /**
   * A write stream to the file at `p`, created (or truncated) now. A symlink as the last
   * component is refused (ELOOP) rather than written through.
   */
  createWriteStream(p: string, opts: WriteOptions = {}): fs.WriteStream {
    const fd = this.openFd(p, O_WRONLY | O_CREAT | O_NOFOLLOW | (opts.exclusive ? O_EXCL : O_TRUNC), opts.mode ?? 0o644);
    try {
      if (opts.uid !== undefined || opts.gid !== undefined) fs.fchownSync(fd, opts.uid ?? -1, opts.gid ?? -1);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return fs.createWriteStream('', { fd, autoClose: true });
  }

  /** Writes `data` to the file at `p` (see createWriteStream for what is refused). */
  async writeFile(p: string, data: Buffer | string, opts: WriteOptions = {}): Promise<void> {
    const fd = this.openFd(p, O_WRONLY | O_CREAT | O_NOFOLLOW | (opts.exclusive ? O_EXCL : O_TRUNC), opts.mode ?? 0o644);
    try {
      if (opts.uid !== undefined || opts.gid !== undefined) fs.fchownSync(fd, opts.uid ?? -1, opts.gid ?? -1);
      await promisify(fs.writeFile)(fd, data);
    } finally {
      await closeFd(fd);
    }
  }

  /** The names in the directory at `p`. */
  readdir(p: string): Promise<string[]> {
    // readdir needs a real (not O_PATH) descriptor; Node reads it through /proc.
    return this.withFd(p, O_RDONLY | O_DIRECTORY, (fd) => fs.promises.readdir(`/proc/self/fd/${fd}`));
  }

  /** The target of the symlink at `p` (the last component is not followed). */
  readlink(p: string): Promise<string> {
    return this.atParent(p, (at) => fs.promises.readlink(at));
  }

  /** Creates the symlink `p` -> `target` (the target is stored as given, never resolved). */
  async symlink(target: string, p: string, owner?: { uid: number; gid: number }): Promise<void> {
    await this.atParent(p, async (at) => {
      await fs.promises.symlink(target, at);
      if (owner) await fs.promises.lchown(at, owner.uid, owner.gid);
    });
  }

  /** Creates a device node (`mode` with S_IFCHR or S_IFBLK) or, with S_IFIFO, a FIFO at `p`. */
  async mknod(p: string, mode: number, major = 0, minor = 0): Promise<void> {
    await this.atParent(p, (at) => {
      if ((mode & fs.constants.S_IFMT) === fs.constants.S_IFIFO) mkfifo(at, mode & 0o7777);
      else mknod(at, mode, major, minor);
    });
  }

  /** Creates one directory; its parent must exist. EEXIST if anything is at `p`. */
  async mkdir(p: string, opts: MkdirOptions = {}): Promise<void> {
    await this.atParent(p, async (at) => {
      await fs.promises.mkdir(at, { mode: opts.mode ?? 0o755 });
      if (opts.uid !== undefined || opts.gid !== undefined) await fs.promises.lchown(at, opts.uid ?? -1, opts.gid ?? -1);
    });
  }

  /**
   * `mkdir -p p` inside the root: missing directories are created (with `opts`), existing
   * ones kept. A symlink on the way is followed inside the root, a dangling one too (its
   * target is created, as Docker does for a WorkingDir). ENOTDIR if something on the way is
   * not a directory, ELOOP after 40 symlinks. Returns the first directory created, if any.
   */
  async mkdirAll(p: string, opts: MkdirOptions = {}): Promise<string | undefined> {
    let todo = cleanInRoot(p).split('/').filter(Boolean);
    let base = '/'; // the directory reached so far, resolved (so a lexical `..` on it is right)
    let first: string | undefined;
    let hops = 0;
    let retries = 0;
    while (todo.length > 0) {
      const part = todo.shift()!;
      if (part === '.') continue;
      if (part === '..') { base = path.posix.dirname(base); continue; }
      const cur = path.posix.join(base, part);
      const resolved = this.resolvedDir(cur);
      if (resolved !== undefined) { base = resolved; continue; }
      let st: fs.Stats | undefined;
      try { st = await this.lstat(cur); } catch (e) { if (!isMissing(e)) throw e; }
      if (st?.isSymbolicLink()) {
        // dangling: go on from its target
        if (++hops > 40) throw errnoError('ELOOP', `${p}: too many levels of symbolic links`);
        const target = await this.readlink(cur);
        if (target.startsWith('/')) base = '/';
        todo = [...target.split('/').filter(Boolean), ...todo];
        continue;
      }
      try {
        await this.mkdir(cur, opts);
        first ??= cur;
        base = cur;
      } catch (e) {
        // made meanwhile by someone else: look again
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || ++retries > 40) throw e;
        todo.unshift(part);
      }
    }
    return first;
  }

  /** The resolved in-root path of the directory at `p`, or undefined if nothing is there. */
  private resolvedDir(p: string): string | undefined {
    let fd: number;
    try {
      fd = this.openFd(p, O_PATH | O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try { return this.inRootPathOf(fd, p); } finally { fs.closeSync(fd); }
  }

  /** The in-root absolute path of an open descriptor (from /proc/self/fd). */
  private inRootPathOf(fd: number, p: string): string {
    const root = fs.readlinkSync(`/proc/self/fd/${this.fd}`);
    const at = fs.readlinkSync(`/proc/self/fd/${fd}`);
    if (at === root) return '/';
    if (!at.startsWith(root === '/' ? '/' : root + '/')) {
      throw errnoError('EXDEV', `${this.dir}: ${p} resolves to ${at}, which is not below the root (moved meanwhile?)`);
    }
    return at.slice(root === '/' ? 0 : root.length);
  }

  /** lchown(2) of `p` (a symlink itself, not its target). */
  lchown(p: string, uid: number, gid: number): Promise<void> {
    return this.atParent(p, (at) => fs.promises.lchown(at, uid, gid));
  }

  /**
   * chmod(2) of what `p` leads to (symlinks followed inside the root). The inode is changed
   * through its O_PATH descriptor: a path-based chmod would follow a symlink from the host's /.
   */
  chmod(p: string, mode: number): Promise<void> {
    return this.withFd(p, O_PATH, (fd) => fs.promises.chmod(`/proc/self/fd/${fd}`, mode));
  }

  /** Sets the times of `p` itself (a symlink's own). */
  lutimes(p: string, atime: Date, mtime: Date): Promise<void> {
    return this.atParent(p, (at) => fs.promises.lutimes(at, atime, mtime));
  }

  /** A hard link `newP` to the entry at `existingP` (not followed if it is a symlink), both inside. */
  link(existingP: string, newP: string): Promise<void> {
    return this.atParent(existingP, (from) => this.atParent(newP, (to) => fs.promises.link(from, to)));
  }

  /** Removes the non-directory entry at `p` (a symlink itself, never its target). */
  unlink(p: string): Promise<void> {
    return this.atParent(p, (at) => fs.promises.unlink(at));
  }

  /** Removes the empty directory at `p`. */
  rmdir(p: string): Promise<void> {
    return this.atParent(p, (at) => fs.promises.rmdir(at));
  }

  /** The extended attributes of `p` itself (a symlink's own), raw bytes. */
  readXattrs(p: string): Promise<Map<string, Buffer>> {
    return this.atParent(p, (at) => readXattrs(at));
  }

  /** Sets an extended attribute on `p` itself (a symlink's own), raw bytes. */
  setXattr(p: string, name: string, value: Buffer): Promise<void> {
    return this.atParent(p, (at) => setXattr(at, name, value));
  }
}

/** The errors that mean "nothing there" for a path inside a root. */
export function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
