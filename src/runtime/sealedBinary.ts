// runc and crun guard against a container overwriting the host binary through /proc/self/exe
// (CVE-2019-5736) by re-executing themselves from a sealed copy on every call: crun 1.8 bind
// mounts itself read-only and execs again, runc copies itself into a memfd. Both skip that when
// /proc/self/exe already is a sealed memfd (F_SEAL_SEAL|SHRINK|GROW|WRITE). The daemon keeps one
// such copy per runtime binary and has conmon run the runtime from it (/proc/<pid>/fd/<fd>): one
// exec and a copy fewer per call, the same protection (nothing can write into the copy).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNative } from '../lib/sys/native';

/** Runtimes known to accept a sealed memfd as their own clone (by file name: crun-<handler> needs its name). */
const SELF_CLONING = new Set(['crun', 'runc']);

const copies = new Map<string, { version: string; fd: number }>();

/**
 * A path that executes `binary` from its sealed copy, or `binary` itself for other runtimes
 * and when no copy can be made. A binary replaced on disk (an upgrade) gets a new copy.
 */
export function sealedBinaryPath(binary: string): string {
  if (!path.isAbsolute(binary) || !SELF_CLONING.has(path.basename(binary))) return binary;
  let version: string;
  try {
    const st = fs.statSync(binary);
    version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return binary;
  }
  let copy = copies.get(binary);
  if (copy?.version !== version) {
    try {
      // The copy it replaces stays open: a conmon started a moment ago may still exec it.
      copy = { version, fd: loadNative().sealedCopy(binary) };
    } catch {
      return binary;
    }
    copies.set(binary, copy);
  }
  return `/proc/${process.pid}/fd/${copy.fd}`;
}
