// `<runtime> --version`, asked once per binary: keyed by path, inode and mtime, so an upgrade in
// place is asked again. The fast paths and the seccomp hand-over each read what they need from it.
// The binary is stat'ed at most once a second: each start, kill and delete asks (a stat through
// the pool and its promise were 5% of berthd's event loop in a burst of rm -f), and an upgrade
// seen a second late costs nothing.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';

const asked = new Map<string, Promise<string | undefined>>();
const RESTAT_MS = 1000;
const statted = new Map<string, { key: string; at: number }>();

async function binaryKey(binary: string): Promise<string | undefined> {
  const now = Date.now();
  const seen = statted.get(binary);
  if (seen && now - seen.at < RESTAT_MS) return seen.key;
  try {
    const st = await fsp.stat(binary);
    const key = `${binary}\0${st.ino}\0${st.mtimeMs}`;
    statted.set(binary, { key, at: now });
    return key;
  } catch {
    statted.delete(binary);
    return undefined;
  }
}

/** The binary's `--version` output; undefined when it could not be run (asked again next time). */
export async function runtimeVersionText(binary: string): Promise<string | undefined> {
  const key = await binaryKey(binary);
  if (key === undefined) return undefined;
  let answer = asked.get(key);
  if (!answer) {
    answer = new Promise((resolve) => {
      execFile(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout) => {
        if (err) asked.delete(key);
        resolve(err ? undefined : stdout);
      });
    });
    asked.set(key, answer);
  }
  return answer;
}
