// The CLI bundle's parts (scripts/build-cli.js): compose, the registry server and build are
// bundles of their own beside the core (dist/cli/<part>.js), so that the other commands neither
// read nor compile them. The core requires a part's entry through a stub that calls load(); the
// part then requires the core's modules it shares (`berth:core/<file>`) from the core, so each
// module has one instance (instanceof StatusError, ApiError, commander's classes hold across
// files). Each part has its V8 code cache per command, as the core (launch.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheFileFor, compileBundle, saveAtExit } from '../lib/codecache';
import { cacheName, cacheWorthSaving } from './words';

const CORE = 'berth:core/';
const PART = 'berth:part/';

export class BundleParts {
  private readonly loaded = new Map<string, { exports: unknown }>();

  /**
   * @param dir the bundle's directory
   * @param req the core's own require (built-ins, files)
   * @param shared the core's modules the parts take, by their path in the repository
   */
  constructor(private readonly dir: string, private readonly req: (id: string) => unknown, private readonly shared: Record<string, () => unknown>) {}

  /** The part's module.exports (run once, on its first load). */
  load(name: string): unknown {
    let mod = this.loaded.get(name);
    if (!mod) {
      const file = path.join(this.dir, `${name}.js`);
      const argv = process.argv.slice(2);
      const compiled = compileBundle(file, cacheFileFor(path.join(this.dir, 'cache'), `${name}.${cacheName(argv)}`, fs.statSync(file)));
      // at exit, as the core's: the cache holds what this command ran
      saveAtExit(compiled, (code) => cacheWorthSaving(argv, code));
      mod = { exports: undefined };
      this.loaded.set(name, mod);
      mod.exports = compiled.run((id) => this.require(id));
    }
    return mod.exports;
  }

  private require(id: string): unknown {
    if (id.startsWith(CORE)) {
      const get = this.shared[id.slice(CORE.length)];
      // only a part from another build can ask for what this core does not hand out
      if (!get) throw new Error(`the CLI bundle's core does not have ${id.slice(CORE.length)} (dist/cli is from two builds: npm run build:cli)`);
      return get();
    }
    if (id.startsWith(PART)) return this.load(id.slice(PART.length));
    return this.req(id);
  }
}
