#!/usr/bin/env node
// Runs every test (unit, integration with a real berthd and runc, e2e with the real docker CLI)
// from the built tree. `node scripts/test.js [unit|integration|e2e|FILE.js ...]`.
//
// Each test file starts its own berthd on private roots (data, exec root, socket, cgroup parent,
// DOCKER_CONFIG, tmux socket, a TLS port the kernel picks), so files run BERTH_TEST_CONCURRENCY
// (default 2) at a time. A new file keeps to that: no fixed port, path, name or cgroup outside
// its own root; one that cannot, or that measures, goes in SERIAL. Afterwards the SERIAL files run one at a time on an otherwise quiet runner: they
// measure memory or time. Daemons run containers under crun where it can run (berthd's default),
// else runc; the lifecycle files run a second time under runc (BERTH_TEST_RUNTIME=runc), and the
// runtime files and a lifecycle one with BERTH_RUNTIME_FAST_PATHS=0, so that runc and the plain
// `<runtime> start` / `kill` / `delete` paths stay tested too.
// Each file's TAP output is printed whole when the file ends; a summary follows.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'test');
// berthd's RSS under a 100 MB log (daemon-life); run+start timings against bare runc (runtime-oci).
// (docker-tty is parallel again: its two failures under load were conmon < 2.2 applying the
// first of two resizes that met in its fifo, and tmux losing a pane's last line; ctl.ts, terminal.ts.)
const SERIAL = new Set(['e2e/docker-daemon-life.test.js', 'integration/runtime-oci.test.js']);
// runtime-version and runtime-crun check that the switch reaches berthd
const FAST_PATHS_OFF = ['e2e/docker-restart.test.js', 'e2e/runtime-version.test.js', 'e2e/runtime-crun.test.js'];
const UNDER_RUNC = ['e2e/docker-containers.test.js', 'e2e/docker-restart.test.js', 'e2e/docker-exec.test.js'];
const concurrency = Math.max(1, Number(process.env.BERTH_TEST_CONCURRENCY) || 2);

function testFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(dir, f));
}

const args = process.argv.slice(2);
const files = (args.length ? args : ['unit', 'integration', 'e2e']).flatMap((a) => {
  const p = fs.existsSync(path.join(dist, a)) ? path.join(dist, a) : path.resolve(a);
  if (!fs.existsSync(p)) return [];
  return fs.statSync(p).isDirectory() ? testFiles(p) : [p];
});
const rel = (f) => path.relative(dist, f);

// The unit files are quick and need no daemon: one job. e2e before integration: the long ones first.
const unit = files.filter((f) => rel(f).startsWith('unit/'));
const others = files.filter((f) => !unit.includes(f)).sort((a, b) => (rel(a).startsWith('e2e/') ? 0 : 1) - (rel(b).startsWith('e2e/') ? 0 : 1));
const job = (name, list, env = {}) => ({ name, files: list, env });
const parallel = others.filter((f) => !SERIAL.has(rel(f))).map((f) => job(rel(f), [f]));
const plain = [
  ...others.filter((f) => FAST_PATHS_OFF.includes(rel(f))).map((f) => job(`${rel(f)} BERTH_RUNTIME_FAST_PATHS=0`, [f], { BERTH_RUNTIME_FAST_PATHS: '0' })),
  ...others.filter((f) => UNDER_RUNC.includes(rel(f))).map((f) => job(`${rel(f)} BERTH_TEST_RUNTIME=runc`, [f], { BERTH_TEST_RUNTIME: 'runc' })),
];
// interleave the second pass with the first, so that both slots stay busy to the end
const pool = [];
for (let i = 0; i < Math.max(parallel.length, plain.length); i++) pool.push(...[parallel[i], plain[i]].filter(Boolean));
if (unit.length) pool.push(job('unit', unit));
const serial = others.filter((f) => SERIAL.has(rel(f))).map((f) => job(rel(f), [f]));

const running = new Set();
let interrupted = false;
const results = [];

function run(j) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...j.files], {
      // its own process group: an interrupt reaches the file's berthd too (see below)
      env: { ...process.env, ...j.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    running.add(child);
    let out = '';
    child.stdout.on('data', (b) => { out += b; });
    child.stderr.on('data', (b) => { out += b; });
    child.on('close', (code, signal) => {
      running.delete(child);
      const r = { name: j.name, code: code ?? 1, signal, secs: (Date.now() - t0) / 1000, out };
      process.stdout.write(`# ---- ${j.name} (${r.secs.toFixed(1)} s, exit ${signal ?? code}) ----\n${out}\n`);
      results.push(r);
      resolve();
    });
  });
}

async function runAll(jobs, width) {
  const queue = [...jobs];
  const worker = async () => { for (let j = queue.shift(); j && !interrupted; j = queue.shift()) await run(j); };
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, worker));
}

function count(out, what) {
  return [...out.matchAll(new RegExp(`^# ${what} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // no new files; each running file's group (node --test, the test, its berthd) gets the signal,
    // as the whole foreground group does on Ctrl-C in a terminal: berthd stops its containers
    interrupted = true;
    for (const c of running) {
      try { process.kill(-c.pid, sig); } catch { /* already gone */ }
    }
    process.exitCode = 130;
  });
}

(async () => {
  const t0 = Date.now();
  await runAll(pool, concurrency);
  const tPool = Date.now();
  await runAll(serial, 1);
  const failed = results.filter((r) => r.code !== 0);
  console.log(`# ---- summary: ${pool.length} jobs ${concurrency} at a time in ${((tPool - t0) / 1000).toFixed(0)} s, ${serial.length} serial in ${((Date.now() - tPool) / 1000).toFixed(0)} s ----`);
  for (const r of [...results].sort((a, b) => b.secs - a.secs)) console.log(`# ${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.secs.toFixed(1).padStart(6)} s  ${r.name}`);
  for (const what of ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) console.log(`# ${what} ${results.reduce((n, r) => n + count(r.out, what), 0)}`);
  console.log(`# duration_ms ${Date.now() - t0}`);
  if (failed.length) console.log(`# failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exitCode = process.exitCode || (failed.length ? 1 : 0);
})();
