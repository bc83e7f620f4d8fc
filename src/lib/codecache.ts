// Running a bundle (dist/cli/berth.js, dist/daemon/berthd.js) with a V8 code cache, so that a start
// deserializes the functions it needs instead of parsing and compiling them (Node 20 has no
// module.enableCompileCache). The cache's name carries the bundle's size and mtime, so a rebuilt
// bundle never meets an old cache (V8 itself checks only the source's length). Without a
// writable cache directory, or when V8 rejects a cache (another Node, other flags), the bundle
// is compiled as usual and the cache can be written again.
// Named imports, not `import * as`: tsc's namespace helper copies every export of node:fs at
// each start (launch.ts too).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * `<dir>/<name>[.<flags>].<bundle size>-<bundle mtime>.v8`: one name per build of the bundle,
 * and per set of Node flags (V8 refuses a cache made under other flags).
 */
export function cacheFileFor(dir: string, name: string, bundle: Stats, execArgv: readonly string[] = process.execArgv): string {
  const flags = execArgv.length ? `.${execArgv.join(' ').replace(/[^a-zA-Z0-9]+/g, '_').slice(0, 60)}` : '';
  return join(dir, `${name}${flags}.${bundle.size.toString(36)}-${Math.floor(bundle.mtimeMs).toString(36)}.v8`);
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Temp file and rename: a start that reads the cache while another writes it sees all or nothing. */
function writeCache(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

export interface CachedBundle {
  /** Where its cache is read from and written to. */
  readonly cacheFile: string;
  /** True when no cache was there or V8 refused it: call save() once the run has compiled what it needs. */
  readonly wantsCache: boolean;
  /** Writes the cache: every function compiled so far, not only the top level. */
  save(): void;
}

/**
 * Writes the cache at the process's exit, when there was none or V8 refused it, and `worth(code)`
 * says this run is one to keep: a cache holds only what its run compiled, and V8 takes it from
 * then on, so a run that took a short way (an error, a help text) would leave every later run
 * compiling the rest.
 */
export function saveAtExit(c: CachedBundle, worth: (code: number) => boolean): void {
  if (c.wantsCache) process.once('exit', (code) => { if (worth(code)) c.save(); });
}

/** A bundle compiled against its cache, not run yet. */
export interface CompiledBundle extends CachedBundle {
  /** Runs it as a CommonJS module whose `require` is `req`; its module.exports. */
  run(req: (id: string) => unknown): unknown;
}

/** Compiles `bundle` (an ASCII CommonJS file) with the cache in `cacheFile`. */
export function compileBundle(bundle: string, cacheFile: string): CompiledBundle {
  // the bundle is ASCII (scripts/bundle.js): latin1 is a plain copy, utf8 a decode (~1.5 ms)
  const source = readFileSync(bundle).toString('latin1');
  const cachedData = readCache(cacheFile);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  return {
    cacheFile,
    wantsCache: !cachedData || script.cachedDataRejected === true,
    save: () => writeCache(cacheFile, script.createCachedData()),
    run(req) {
      const mod = { exports: {} };
      script.runInThisContext()(mod.exports, req, mod, bundle, dirname(bundle));
      return mod.exports;
    },
  };
}

/**
 * Compiles `bundle` with the cache in `cacheFile` and runs it as a module; `beforeRun` sees the
 * compiled script first (to arrange when to save its cache: the run may end the process).
 */
export function runBundle(bundle: string, cacheFile: string, beforeRun: (c: CachedBundle) => void): void {
  const compiled = compileBundle(bundle, cacheFile);
  beforeRun(compiled);
  // this module's own require: a bundle requires only built-ins and absolute paths (node:module's
  // createRequire would load that module for nothing)
  compiled.run(require);
}
