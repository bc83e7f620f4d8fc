#!/usr/bin/env node
// Bundles the berth CLI (dist/src/cli/bin.js, as tsc built it) into one file, dist/cli/berth.js,
// which bin/berth runs through dist/src/cli/launch.js (with a V8 code cache) when it is there.
// One file instead of ~100: Node resolves, reads and compiles one script. The command modules
// stay lazy inside it (esbuild wraps each CommonJS module; a require runs it on first use).
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'cli', 'bin.js');
const outdir = path.join(root, 'dist', 'cli');

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

async function main() {
  if (!fs.existsSync(entry)) throw new Error(`${path.relative(root, entry)} is missing: run tsc first (npm run build:ts)`);
  fs.rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile: path.join(outdir, 'berth.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // whitespace and syntax only: names stay as written, so stack traces still read
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [lazyChildProcess],
  });
  // Pure ASCII, so that launch.js can read it as latin1 (a copy) instead of decoding UTF-8. esbuild
  // escapes non-ASCII in strings but not in regex literals: \uXXXX means the same in both, and in
  // identifiers and templates too.
  const out = path.join(outdir, 'berth.js');
  const text = fs.readFileSync(out, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) fs.writeFileSync(out, ascii);
}

main().catch((e) => {
  process.stderr.write(`build-cli: ${e.stack || e}\n`);
  process.exit(1);
});
