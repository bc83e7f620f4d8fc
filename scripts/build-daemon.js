#!/usr/bin/env node
// Bundles berthd (dist/src/daemon/main.js, as tsc built it) into one file, dist/daemon/berthd.js,
// which bin/berthd runs through dist/src/daemon/launch.js (with a V8 code cache) when it is
// there. The native addon and berth-logwriter stay files of their own under native/build
// (found at run time from the bundle's directory, as from dist/src).
const { bundle, runBuild } = require('./bundle');

runBuild('build-daemon', () => bundle({ entry: 'dist/src/daemon/main.js', outfile: 'dist/daemon/berthd.js' }));
