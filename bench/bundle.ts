// A runc bundle of the test busybox image (ensureBusybox's archive), for the bare-runc figures.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestDaemon } from '../test/helpers/daemon';

/** The parts of `runc spec`'s config the benches change. */
export interface BundleSpec { process: Record<string, unknown>; linux: Record<string, unknown>; [key: string]: unknown }

/** `runc spec`'s config, not yet written, for a busybox rootfs unpacked into `dir`/rootfs; `args` its process. */
export function busyboxBundle(d: TestDaemon, dir: string, args: string[]): BundleSpec {
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs, { recursive: true });
  execFileSync('tar', ['-xf', path.join(d.root, 'busybox.tar'), '-C', rootfs]);
  execFileSync('runc', ['spec'], { cwd: dir });
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as BundleSpec;
  spec.process.terminal = false;
  spec.process.args = args;
  return spec;
}
