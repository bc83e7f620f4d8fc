// mount(2)/umount2(2) without forking `mount`. Used for overlay rootfs mounts.
import * as path from 'node:path';
import { isNativeError, loadNative } from './native';

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MNT_FORCE = 0x1;
export const MNT_DETACH = 0x2;

/** Thin wrapper: throws an Error with .code ('EINVAL', ...) on failure. */
export function mount(source: string | null, target: string, fstype: string | null, flags = 0, data: string | null = null): void {
  loadNative().mount(source, target, fstype, flags, data);
}

export function umount2(target: string, flags = 0): void {
  loadNative().umount2(target, flags);
}

const PAGE_SIZE = 4096;

function escapeOverlayPath(p: string): string {
  // overlayfs splits options on ',' and lowerdir on ':'; both must be escaped.
  return p.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/:/g, '\\:');
}

/**
 * Mounts an overlay at `target`. `lowerDirs` is top-most first (as in lowerdir=).
 * If the option string is longer than a page (many layers), the mount is done with short
 * relative paths from the common parent directory of the layers.
 */
export function mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): void {
  const data = overlayData(lowerDirs, upperDir, workDir);
  if (data.length < PAGE_SIZE - 1) {
    mount('overlay', target, 'overlay', 0, data);
    return;
  }
  mountOverlayRelative(lowerDirs, upperDir, workDir, target);
}

/**
 * mountOverlay with the mount(2) on a libuv pool thread: the overlay's setup is milliseconds of
 * kernel time the event loop need not wait out. Options longer than a page need the process's
 * cwd (relative lower dirs): those are mounted as mountOverlay does, on this thread.
 */
export async function mountOverlayAsync(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void> {
  const data = overlayData(lowerDirs, upperDir, workDir);
  if (data.length < PAGE_SIZE - 1 && lowerDirs.every((d) => path.isAbsolute(d)) && path.isAbsolute(upperDir) && path.isAbsolute(workDir)) {
    await loadNative().mountAsync('overlay', target, 'overlay', 0, data);
    return;
  }
  mountOverlay(lowerDirs, upperDir, workDir, target);
}

function overlayData(lowerDirs: string[], upperDir: string, workDir: string): string {
  if (lowerDirs.length === 0) throw new Error('mountOverlay: at least one lower dir is required');
  return `lowerdir=${lowerDirs.map(escapeOverlayPath).join(':')},upperdir=${escapeOverlayPath(upperDir)},workdir=${escapeOverlayPath(workDir)}`;
}

function mountOverlayRelative(lowerDirs: string[], upperDir: string, workDir: string, target: string): void {
  // Too long: chdir into the common parent and use relative lower dirs. process.chdir is
  // process-wide and synchronous; nothing else runs on this thread in between.
  const common = commonParent(lowerDirs);
  if (!common) throw new Error('mountOverlay: overlay options exceed a page and the layers share no parent');
  const rel = lowerDirs.map((d) => escapeOverlayPath(d.slice(common.length + 1)));
  const shortData = `lowerdir=${rel.join(':')},upperdir=${escapeOverlayPath(upperDir)},workdir=${escapeOverlayPath(workDir)}`;
  if (shortData.length >= PAGE_SIZE - 1) throw new Error('mountOverlay: too many layers for one overlay mount');
  const cwd = process.cwd();
  process.chdir(common);
  try {
    mount('overlay', target, 'overlay', 0, shortData);
  } finally {
    process.chdir(cwd);
  }
}

function commonParent(dirs: string[]): string | undefined {
  let parts = dirs[0].split('/');
  for (const d of dirs.slice(1)) {
    const p = d.split('/');
    let i = 0;
    while (i < parts.length && i < p.length && parts[i] === p[i]) i++;
    parts = parts.slice(0, i);
  }
  // the parent must be a strict prefix directory of every layer
  while (parts.length > 0 && dirs.some((d) => d === parts.join('/'))) parts.pop();
  const c = parts.join('/');
  return c.length > 0 ? c : undefined;
}

/** Unmounts `target`; a path that is not mounted (EINVAL) or does not exist (ENOENT) is fine. */
export function unmount(target: string, flags = 0): void {
  try {
    umount2(target, flags);
  } catch (e) {
    if (!notMounted(e)) throw e;
  }
}

/** unmount with the umount2(2) on a libuv pool thread. */
export async function unmountAsync(target: string, flags = 0): Promise<void> {
  await loadNative().umount2Async(target, flags).catch((e: unknown) => {
    if (!notMounted(e)) throw e;
  });
}

function notMounted(e: unknown): boolean {
  return isNativeError(e) && (e.code === 'EINVAL' || e.code === 'ENOENT');
}
