#!/usr/bin/env node
// Bundles the berth CLI (dist/src/cli/bin.js, as tsc built it) into one file, dist/cli/berth.js,
// which bin/berth runs through dist/src/cli/launch.js (with a V8 code cache) when it is there.
const path = require('node:path');
const { bundle, runBuild } = require('./bundle');

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

runBuild('build-cli', () => bundle({ entry: 'dist/src/cli/bin.js', outfile: 'dist/cli/berth.js', plugins: [lazyChildProcess] }));
