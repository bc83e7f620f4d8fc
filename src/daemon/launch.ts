// bin/berthd's way into the daemon bundle (dist/daemon/berthd.js, scripts/build-daemon.js): runs
// it with a V8 code cache (lib/codecache.ts). The cache is written once the engine is ready
// after a start that had none (a daemon rarely exits cleanly: kill -9 is a start's usual
// predecessor), so it holds every function a start compiles: option parsing, the listeners, the
// engine's open and reconcile, the routes.
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheFileFor, runBundle } from '../lib/codecache';
import { DAEMON_READY } from './readyChannel';

export const BUNDLE = path.resolve(__dirname, '..', '..', 'daemon', 'berthd.js');
const CACHE_DIR = path.join(path.dirname(BUNDLE), 'cache');

/** The cache for this build of the bundle, under these Node flags. */
export function cachePath(bundle: fs.Stats, execArgv: readonly string[] = process.execArgv): string {
  return cacheFileFor(CACHE_DIR, 'berthd', bundle, execArgv);
}

export function launch(): void {
  runBundle(BUNDLE, cachePath(fs.statSync(BUNDLE)), (c) => {
    if (!c.wantsCache) return;
    const onReady = () => {
      dc.unsubscribe(DAEMON_READY, onReady);
      setImmediate(() => c.save());
    };
    dc.subscribe(DAEMON_READY, onReady);
  });
}

if (require.main === module) launch();
