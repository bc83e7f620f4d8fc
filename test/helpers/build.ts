// Shared by the build test files: the real docker CLI's classic builder (DOCKER_BUILDKIT=0)
// against a test daemon, and context directories made from a map of files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCmd, type TestDaemon } from './daemon';

export function classicBuild(d: TestDaemon, dir: string, ...args: string[]): ReturnType<typeof runCmd> {
  return runCmd('docker', ['build', ...args, dir], { ...d.env, DOCKER_BUILDKIT: '0' });
}

/** A context directory `name` under the daemon's root with these files (relative path -> content). */
export function buildContext(d: TestDaemon, name: string, files: Record<string, string>): string {
  const dir = path.join(d.root, 'ctx', name);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}
