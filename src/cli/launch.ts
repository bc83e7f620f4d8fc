// bin/berth's way into the CLI bundle (dist/cli/berth.js, scripts/build-cli.js): runs it with a
// V8 code cache (lib/codecache.ts). One cache per command (`ps`, `run`, `compose-up`, ...), written at the
// exit of that command's first successful run, holds what that command ran. bin/berth runs this
// module bundled with the two it imports, as dist/cli/launch.js (one file for Node to resolve,
// read and compile, ~1 ms of every start); as tsc built it, it is dist/src/cli/launch.js.
import { statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { cacheFileFor, runBundle, saveAtExit } from '../lib/codecache';
import { cacheName, cacheWorthSaving } from './words';

const BUNDLED = basename(__dirname) === 'cli' && basename(dirname(__dirname)) === 'dist';
export const BUNDLE = BUNDLED ? join(__dirname, 'berth.js') : resolve(__dirname, '..', '..', 'cli', 'berth.js');
export const CACHE_DIR = join(dirname(BUNDLE), 'cache');

/** The cache file for this command line and this build of the bundle. */
export function cachePath(argv: readonly string[], bundle: Stats, execArgv: readonly string[] = process.execArgv): string {
  // bin/berth gives `registry serve` flags of its own: a cache name of its own
  return cacheFileFor(CACHE_DIR, cacheName(argv), bundle, execArgv);
}

export function launch(argv = process.argv.slice(2)): void {
  // at exit, the cache holds every function this run compiled, not only the top level
  runBundle(BUNDLE, cachePath(argv, statSync(BUNDLE)), (c) => saveAtExit(c, (code) => cacheWorthSaving(argv, code)));
}

if (require.main === module) launch();
