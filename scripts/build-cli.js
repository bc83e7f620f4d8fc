#!/usr/bin/env node
// Bundles the berth CLI (dist/src/cli/bin.js, as tsc built it) into dist/cli/: the core,
// berth.js, which bin/berth runs through dist/src/cli/launch.js (with a V8 code cache), and one
// part per big command that most runs never need (PARTS): the part's own modules in a file of its
// own, loaded the first time the core requires the part's entry (src/cli/parts.ts). A module the
// core has is not copied into a part: the part gets the core's instance (one StatusError, one
// commander, one client), so instanceof holds across the files. dist/cli/manifest.json lists
// what each file holds (the tests read it).
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { bundle, runBuild, root } = require('./bundle');

/** The parts: name -> the module (as tsc built it) that is its entry. */
const PARTS = {
  compose: 'dist/src/cli/commands/compose/index.js',
  registry: 'dist/src/cli/commands/registryserver.js',
  build: 'dist/src/cli/commands/build.js',
};
const OUT = 'dist/cli';
const SHARED = 'berth-shared-modules';
const entries = new Map(Object.entries(PARTS).map(([name, file]) => [path.join(root, file), name]));
const rel = (file) => path.relative(root, file);

// commander requires node:child_process at load time (5-7 ms of a CLI start here) for
// executable subcommands, which berth has none of: hand it a getter that loads it when used.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`${path.sep}commander${path.sep}`) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "module.exports = { get spawn() { return require('node:child_process').spawn; } };",
      loader: 'js',
    }));
  },
};

// tsc's `import * as fs from 'node:fs'` calls its __importStar helper, which copies every export
// of the module into a fresh namespace object: ~100 for node:fs, in each of the 13 modules that
// import it (~2 ms of every start). The bundle's modules share one namespace per module object
// instead (made by tsc's own helper, so it is the same object tsc would make).
const STAR = 'berth-import-star';
const TSC_IMPORT_STAR = /var __importStar = (\(this && this\.__importStar\) \|\| \(function \(\) \{[\s\S]*?\n\}\)\(\));/;
const sharedImportStar = {
  name: 'shared-import-star',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^${STAR}$`) }, () => ({ path: STAR, namespace: STAR }));
    build.onLoad({ filter: /.*/, namespace: STAR }, () => ({
      loader: 'js',
      contents: `const made = new WeakMap();
module.exports = (importStar) => (mod) => {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return importStar(mod);
  let ns = made.get(mod);
  if (ns === undefined) made.set(mod, ns = importStar(mod));
  return ns;
};`,
    }));
    build.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8');
      if (!TSC_IMPORT_STAR.test(text)) return undefined;
      return { loader: 'js', contents: text.replace(TSC_IMPORT_STAR, (_m, helper) => `var __importStar = require(${JSON.stringify(STAR)})(${helper});`) };
    });
  },
};

/** Calls `decide(resolvedPath)` for every bundled import; a result replaces esbuild's own. */
function onResolved(name, decide) {
  return {
    name,
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === name || args.namespace !== 'file' || args.kind === 'entry-point') return undefined;
        const r = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: name });
        if (r.errors.length || r.external || !path.isAbsolute(r.path)) return r.errors.length ? { errors: r.errors } : r;
        return decide(r.path) ?? r;
      });
    },
  };
}

/**
 * The core: a part's entry becomes a stub that loads the part, handing it the core's modules it
 * needs (`shared`: part name -> the core files it imports; empty on the first pass).
 */
function corePlugin(shared) {
  const needed = [...new Set(Object.values(shared).flat())].sort();
  return {
    name: 'berth-core',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${SHARED}$`) }, () => ({ path: SHARED, namespace: 'berth-part' }));
      onResolved('berth-core-parts', (file) => entries.has(file) ? { path: entries.get(file), namespace: 'berth-part' } : undefined).setup(build);
      build.onLoad({ filter: /.*/, namespace: 'berth-part' }, (args) => ({
        resolveDir: root,
        loader: 'js',
        contents: args.path === SHARED
          // the one loader of the bundle's parts, with a getter for every module a part takes from the core
          ? `const { BundleParts } = require(${JSON.stringify(path.join(root, 'dist/src/cli/parts.js'))});
module.exports = new BundleParts(__dirname, require, {
${needed.map((f) => `  ${JSON.stringify(rel(f))}: () => require(${JSON.stringify(f)}),`).join('\n')}
});`
          : `module.exports = require(${JSON.stringify(SHARED)}).load(${JSON.stringify(args.path)});`,
      }));
    },
  };
}

/** A part: what the core has, and the other parts' entries, are required from the core at run time. */
function partPlugin(self, core) {
  return onResolved('berth-part', (file) => {
    if (entries.has(file) && entries.get(file) !== self) return { path: `berth:part/${entries.get(file)}`, external: true };
    if (core.has(file)) return { path: `berth:core/${rel(file)}`, external: true };
    return undefined;
  });
}

const inputsOf = (meta) => Object.keys(Object.values(meta.outputs)[0].inputs).map((f) => path.resolve(root, f)).filter((f) => !f.includes(':'));

async function main() {
  fs.rmSync(path.join(root, OUT), { recursive: true, force: true });
  const coreArgs = { entry: 'dist/src/cli/bin.js', outfile: `${OUT}/berth.js` };
  // 1. what the core holds (the parts' entries only stubbed)
  const first = await bundle({ ...coreArgs, clean: false, plugins: [sharedImportStar, lazyChildProcess, corePlugin({})] });
  const core = new Set(inputsOf(first));
  // 2. each part without what the core holds
  const manifest = { core: [], parts: {} };
  const shared = {};
  for (const [name, entry] of Object.entries(PARTS)) {
    const meta = await bundle({ entry, outfile: `${OUT}/${name}.js`, clean: false, plugins: [sharedImportStar, lazyChildProcess, partPlugin(name, core)] });
    const imports = Object.values(meta.outputs)[0].imports.filter((i) => i.external && i.path.startsWith('berth:'));
    shared[name] = [...new Set(imports.filter((i) => i.path.startsWith('berth:core/')).map((i) => path.join(root, i.path.slice('berth:core/'.length))))].sort();
    manifest.parts[name] = { file: `${name}.js`, entry, inputs: inputsOf(meta).map(rel).sort(), fromCore: shared[name].map(rel), parts: [...new Set(imports.filter((i) => i.path.startsWith('berth:part/')).map((i) => i.path.slice(11)))] };
  }
  // 3. the core again, now handing the parts what they take from it (the same modules as in 1)
  const second = await bundle({ ...coreArgs, clean: false, plugins: [sharedImportStar, lazyChildProcess, corePlugin(shared)] });
  manifest.core = inputsOf(second).map(rel).sort();
  const missing = Object.values(shared).flat().filter((f) => !core.has(f));
  if (missing.length || manifest.core.length !== core.size) throw new Error(`the core changed between its passes: ${missing.map(rel).join(' ')}`);
  fs.writeFileSync(path.join(root, OUT, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  // 4. the launcher (bin/berth's entry) with the two modules it imports: one file, not three
  await bundle({ entry: 'dist/src/cli/launch.js', outfile: `${OUT}/launch.js`, clean: false, plugins: [sharedImportStar] });
  // 5. the warm path: the spare (a node process with the core loaded, waiting for one call) and
  // the native launcher that hands it a call (native/launcher.c); bin/berth runs cold without them
  await bundle({ entry: 'dist/src/cli/spare.js', outfile: `${OUT}/spare.js`, clean: false, plugins: [sharedImportStar] });
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', path.join(root, OUT, 'berth-launch'), path.join(root, 'native', 'launcher.c')], { stdio: 'inherit' });
}

runBuild('build-cli', main);
