// One esbuild bundle of a program that tsc built into dist/ (the CLI: build-cli.js; berthd:
// build-daemon.js). One file instead of hundreds: Node resolves, reads and compiles one script.
// Modules stay lazy inside it (esbuild wraps each CommonJS module; a require runs it on first
// use). Dynamic requires (the native addon, found at run time) stay requires of real files.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/**
 * Bundles dist/<entry> into <outfile> (relative to the repo), after emptying the outfile's
 * directory unless `clean` is false. Returns esbuild's metafile.
 */
async function bundle({ entry, outfile, plugins = [], clean = true }) {
  const from = path.join(root, entry);
  const out = path.join(root, outfile);
  if (!fs.existsSync(from)) throw new Error(`${entry} is missing: run tsc first (npm run build:ts)`);
  if (clean) fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: [from],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // whitespace and syntax only: names stay as written, so stack traces still read
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins,
  });
  // Pure ASCII, so that the launcher can read it as latin1 (a copy) instead of decoding UTF-8.
  // esbuild escapes non-ASCII in strings but not in regex literals: \uXXXX means the same in
  // both, and in identifiers and templates too.
  const text = fs.readFileSync(out, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) fs.writeFileSync(out, ascii);
  return result.metafile;
}

/** Runs `main` as a build script: its error is printed and the exit status is 1. */
function runBuild(name, main) {
  main().catch((e) => {
    process.stderr.write(`${name}: ${e.stack || e}\n`);
    process.exit(1);
  });
}

module.exports = { bundle, runBuild, root };
