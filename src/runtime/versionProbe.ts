// `<runtime> --version`, asked once per binary: keyed by path, inode and mtime, so an upgrade in
// place is asked again. The fast paths and the seccomp hand-over each read what they need from it.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';

const asked = new Map<string, Promise<string | undefined>>();

/** The binary's `--version` output; undefined when it could not be run (asked again next time). */
export async function runtimeVersionText(binary: string): Promise<string | undefined> {
  let key: string;
  try {
    const st = await fsp.stat(binary);
    key = `${binary}\0${st.ino}\0${st.mtimeMs}`;
  } catch {
    return undefined;
  }
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
