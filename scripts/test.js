#!/usr/bin/env node
// Runs every test (unit, integration with a real berthd and runc, e2e with the real docker
// CLI) from the built tree, one file at a time: the files share the machine's cgroups and mounts.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'test');
const suites = (process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'e2e'])
  .map((s) => path.join(dist, s)).filter((p) => fs.existsSync(p));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...suites], { stdio: 'inherit' });
process.exit(r.status ?? 1);
