// A berthd with two logging wrappers of a real runtime, for the tests of which steps a runtime
// gets in-process (the fast paths) and which through its CLI: `<name>-next` reports `next` for
// --version, `<name>-same` passes --version on. Each logs every argv it is given.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_RUNTIME, TestDaemon } from './daemon';

/** A wrapper named `name` (so only its version tells it apart) that logs its argv to `<dir>/calls`. */
function wrapper(dir: string, name: string, real: string, versionLines?: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, name);
  const fake = versionLines ? `if [ "$1" = --version ]; then printf '%s\\n' ${versionLines.split('\n').map((l) => JSON.stringify(l)).join(' ')}; exit 0; fi\n` : '';
  fs.writeFileSync(bin, `#!/bin/sh\necho "$*" >> ${path.join(dir, 'calls')}\n${fake}exec ${real} "$@"\n`, { mode: 0o755 });
  return bin;
}

export interface WrappedDaemon {
  d: TestDaemon;
  /** What the wrapper `next` or `same` was given, one line per call. */
  calls(which: 'next' | 'same'): string;
  /** The docker CLI; fails the test unless it exits 0. Trimmed stdout. */
  docker(...args: string[]): Promise<string>;
  /** run -d, exec, stop, start, kill, rm under `runtime`: every step that starts, signals or deletes a task. */
  lifecycle(runtime: string, whileRunning?: (id: string) => void): Promise<string>;
}

/** Starts the daemon (busybox loaded) with runtimes `<name>-next` (its --version says `nextVersion`) and `<name>-same`. */
export async function startWrappedDaemon(name: string, real: string, nextVersion: string): Promise<WrappedDaemon> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  const d = new TestDaemon(root);
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({
    'cgroup-parent': `/berth-test-${path.basename(root)}`, ...(TEST_RUNTIME ? { 'default-runtime': TEST_RUNTIME } : {}),
    runtimes: { [`${name}-next`]: { path: wrapper(path.join(root, 'next'), name, real, nextVersion) }, [`${name}-same`]: { path: wrapper(path.join(root, 'same'), name, real) } },
  }));
  await d.start();
  await d.ensureBusybox();
  const docker = async (...args: string[]) => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  return {
    d,
    docker,
    calls: (which) => fs.readFileSync(path.join(root, which, 'calls'), 'utf8'),
    async lifecycle(runtime, whileRunning) {
      const id = await docker('run', '-d', '--runtime', runtime, 'busybox', 'sleep', '1000');
      assert.equal(await docker('exec', id, 'echo', 'hi'), 'hi');
      whileRunning?.(id);
      await docker('stop', '-t', '0', id);
      await docker('start', id);
      assert.equal(await docker('inspect', '-f', '{{.State.Running}} {{.HostConfig.Runtime}}', id), `true ${runtime}`);
      await docker('kill', id);
      await docker('wait', id);
      await docker('rm', id);
      return id;
    },
  };
}
