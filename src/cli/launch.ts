// bin/berth's way into the CLI bundle (dist/cli/berth.js, scripts/build-cli.js): compiles it with
// a V8 code cache, so that a run deserializes the functions it needs instead of parsing and
// compiling them (Node 20 has no module.enableCompileCache). One cache per command (`ps`,
// `run`, ...), written at the exit of that command's first run, holds what that command ran;
// its name carries the bundle's size and mtime, so a rebuilt bundle never meets an old cache
// (V8 itself checks only the source's length). Without a writable cache directory, or when V8
// rejects a cache (another Node), the bundle is compiled as usual and the cache is rewritten.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { commandWords } from './words';

export const BUNDLE = path.resolve(__dirname, '..', '..', 'cli', 'berth.js');
const CACHE_DIR = path.join(path.dirname(BUNDLE), 'cache');

/** The cache file for this command line and this build of the bundle. */
export function cachePath(argv: readonly string[], bundle: fs.Stats, execArgv: readonly string[] = process.execArgv): string {
  const word = commandWords(argv)[0] ?? '';
  const name = /^[a-z][a-z0-9-]{0,40}$/.test(word) ? word : '_';
  // V8 refuses a cache made under other flags (bin/berth gives `registry serve` its own): a name each
  const flags = execArgv.length ? `.${execArgv.join(' ').replace(/[^a-zA-Z0-9]+/g, '_').slice(0, 60)}` : '';
  return path.join(CACHE_DIR, `${name}${flags}.${bundle.size.toString(36)}-${Math.floor(bundle.mtimeMs).toString(36)}.v8`);
}

function readCache(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Temp file and rename: a run that reads the cache while another writes it sees all or nothing. */
function writeCache(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

export function launch(argv = process.argv.slice(2)): void {
  const cacheFile = cachePath(argv, fs.statSync(BUNDLE));
  // the bundle is ASCII (scripts/build-cli.js): latin1 is a plain copy, utf8 a decode (~1.5 ms)
  const source = fs.readFileSync(BUNDLE).toString('latin1');
  const cachedData = readCache(cacheFile);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    // at exit, the cache holds every function this run compiled, not only the top level
    process.once('exit', () => writeCache(cacheFile, script.createCachedData()));
  }
  const mod = { exports: {} };
  // this module's own require: the bundle requires only built-ins and absolute paths (node:module's
  // createRequire would load that module for nothing)
  script.runInThisContext()(mod.exports, require, mod, BUNDLE, path.dirname(BUNDLE));
}

if (require.main === module) launch();
