// bin/berth's two ways in, against a real berthd: the bundle (dist/cli/berth.js through
// launch.js and its code cache) and dist/ as tsc built it (BERTH_CLI_BUNDLE=0) print the same,
// exit the same and do the same, for commands that succeed and for each kind of failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';
import { BUNDLE, cachePath } from '../../src/cli/launch';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const BIN = path.join(REPO, 'bin', 'berth');
const berth = (args: string[], bundle: boolean, input?: string, env: NodeJS.ProcessEnv = {}) =>
  runCmd(BIN, args, { ...d.env, ...env, BERTH_CLI_BUNDLE: bundle ? '1' : '0' }, { input });
const PARTS = ['compose', 'registry', 'build'];
const partFile = (name: string) => path.join(path.dirname(BUNDLE), `${name}.js`);

/** A compose project of one service, and one file the schema refuses. */
function composeFiles(): { dir: string; good: string; bad: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-cli-entry-'));
  const good = path.join(dir, 'compose.yaml');
  fs.writeFileSync(good, 'services:\n  web:\n    image: busybox\n    command: ["sleep", "${NAP:-5}"]\n    ports: ["8080:80"]\n');
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'services:\n  web:\n    image: busybox\n    ports: 80\n');
  return { dir, good, bad };
}

test('the bundle is built and not older than dist/ (else bin/berth would not use it)', () => {
  assert.ok(fs.existsSync(BUNDLE), `${BUNDLE} is missing: npm run build (or npm run build:cli after tsc)`);
  assert.ok(fs.statSync(BUNDLE).mtimeMs >= fs.statSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js')).mtimeMs - 1000, 'the bundle is older than dist/: npm run build:cli');
});

/** Each command line through the bundle and through dist/: the same stdout, stderr and status. */
async function compareBoth(cases: Array<{ args: string[]; input?: string }>): Promise<void> {
  for (const c of cases) {
    const viaBundle = await berth(c.args, true, c.input);
    const viaDist = await berth(c.args, false, c.input);
    assert.deepEqual(viaBundle, viaDist, `berth ${c.args.join(' ')}`);
  }
}

test('bundled and unbundled: same output and exit status', async () => {
  const cases: Array<{ args: string[]; input?: string }> = [
    { args: ['--help'] },
    { args: ['run', '--help'] },
    { args: ['container', 'ls', '--help'] },
    { args: ['version', '--format', '{{.Client.Version}} {{.Server.APIVersion}}'] },
    { args: ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'] },
    { args: ['run', '--rm', '-i', 'busybox', 'cat'], input: 'piped\n' },
    { args: ['ps', '-a', '--format', '{{.Image}}'] },
    { args: ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'] },
    { args: ['nosuch'] },
    { args: ['help', 'ps'] },
    { args: ['ps', '--bogus'] },
    { args: ['rm', 'no-such-container'] },
    { args: ['run', '--rm', 'busybox', 'nonexistentcmd'] },
    { args: ['-H', 'unix:///nonexistent/berth.sock', 'ps'] },
    // create's 404 with no pull (125); output of many reads through the hijacked attach stream
    { args: ['run', '--pull', 'never', '--rm', 'no-such-image-cli-entry'] },
    { args: ['run', '--rm', 'busybox', 'seq', '1', '20000'] },
  ];
  // the bundle's parts (scripts/build-cli.js): compose, the registry server, build
  const files = composeFiles();
  try {
    cases.push(
      { args: ['compose', '-f', files.good, '-p', 'entry', 'config'] },
      { args: ['compose', '-f', files.bad, 'config'] },
      { args: ['compose', '-f', files.good, '-p', 'entry', 'ps', '-a'] },
      { args: ['compose', 'version'] },
      { args: ['compose', 'nosuch'] },
      { args: ['registry', '--help'] },
      { args: ['registry', 'serve', '--bogus'] },
      { args: ['build', '--help'] },
      { args: ['build', '-t', 'x', path.join(files.dir, 'no-such-context')] },
    );
    await compareBoth(cases);
    const config = await berth(['compose', '-f', files.good, '-p', 'entry', 'config'], true);
    assert.equal(config.code, 0, config.stderr);
    assert.match(config.stdout, /^name: entry\n/);
    assert.match(config.stdout, /- "5"\n/);
    const bad = await berth(['compose', '-f', files.bad, 'config'], true);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /bad\.yaml/);
  } finally {
    fs.rmSync(files.dir, { recursive: true, force: true });
  }
  // and they are right, not merely equal
  assert.equal((await berth(['run', '--rm', '-i', 'busybox', 'cat'], true, 'piped\n')).stdout, 'piped\n');
  const failed = await berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'], true);
  assert.deepEqual([failed.code, failed.stdout, failed.stderr], [3, 'out\n', 'err\n']);
  assert.deepEqual(await berth(['nosuch'], true), { code: 1, stdout: '', stderr: "berth: unknown command: berth nosuch\n\nRun 'berth --help' for more information\n" });
  assert.equal((await berth(['ps', '--bogus'], true)).code, 125);
  assert.equal((await berth(['run', '--pull', 'never', '--rm', 'no-such-image-cli-entry'], true)).code, 125);
  const many = await berth(['run', '--rm', 'busybox', 'seq', '1', '20000'], true);
  assert.equal(many.code, 0);
  assert.equal(many.stdout, Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(''));
  const gone = await berth(['-H', 'unix:///nonexistent/berth.sock', 'ps'], true);
  assert.deepEqual([gone.code, gone.stderr], [1, 'Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n']);
});

test('a run through the bundle writes its command\'s code cache and the next run takes it', async () => {
  // command words no other test uses, so that no parallel file writes these caches meanwhile:
  // `system <word>` prints the group's help and exits 0; an unknown command exits 1
  const args = ['system', 'cli-entry-probe'];
  // the cold path's caches (launch.ts): a spare (spare.ts) has one cache of its own
  const cold = { BERTH_CLI_SPARE: '0' };
  const failing = ['cli-entry-probe'];
  // bin/berth starts node with no flags (not this test runner's)
  const file = cachePath(args, fs.statSync(BUNDLE), []);
  const failingFile = cachePath(failing, fs.statSync(BUNDLE), []);
  assert.notEqual(file, failingFile);
  fs.rmSync(file, { force: true });
  fs.rmSync(failingFile, { force: true });
  try {
    // a run that fails took a short way: its cache would leave later runs compiling the rest
    const failed = await berth(failing, true, undefined, cold);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /unknown command/);
    assert.ok(!fs.existsSync(failingFile), `${failingFile} was written by a failing run`);
    assert.equal((await berth(['system', 'cli-entry-probe', '--help'], true, undefined, cold)).code, 0);
    assert.ok(!fs.existsSync(file), 'a help text wrote the cache');
    const first = await berth(args, true, undefined, cold);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Manage Docker|Usage/);
    assert.ok(fs.existsSync(file), `${file} was not written`);
    assert.ok(fs.statSync(file).size > 1000, `cache of ${fs.statSync(file).size} bytes`);
    // a cache V8 takes is not rewritten
    const mtime = fs.statSync(file).mtimeMs;
    assert.deepEqual(await berth(args, true, undefined, cold), first);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    // a torn or foreign cache is refused by V8, the run goes on, and the cache is replaced
    fs.writeFileSync(file, Buffer.alloc(64, 7));
    assert.deepEqual(await berth(args, true, undefined, cold), first);
    assert.ok(fs.statSync(file).size > 1000);
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(failingFile, { force: true });
  }
});

test('the core bundle holds none of the parts\' own modules, and each part takes the core\'s instances', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(path.dirname(BUNDLE), 'manifest.json'), 'utf8')) as {
    core: string[]; parts: Record<string, { file: string; entry: string; inputs: string[]; fromCore: string[] }>;
  };
  assert.deepEqual(Object.keys(manifest.parts).sort(), [...PARTS].sort());
  const core = new Set(manifest.core);
  for (const heavy of [/^dist\/src\/compose\/load\//, /^dist\/src\/registry\//, /^node_modules\/(yaml|ajv|jose|bcryptjs)\//, /^dist\/src\/cli\/commands\/(compose\/|registryserver|build\.js)/]) {
    assert.deepEqual(manifest.core.filter((f) => heavy.test(f)), [], `in the core: ${heavy}`);
  }
  for (const [name, part] of Object.entries(manifest.parts)) {
    assert.ok(part.inputs.includes(part.entry), `${name}: its entry`);
    assert.ok(fs.existsSync(partFile(name)), `${partFile(name)} missing`);
    assert.deepEqual(part.inputs.filter((f) => core.has(f)), [], `${name} copies modules of the core`);
    assert.deepEqual(part.fromCore.filter((f) => !core.has(f)), [], `${name} takes what the core does not have`);
  }
  // the classes checked with instanceof across files come from the core
  for (const f of ['dist/src/cli/cli.js', 'dist/src/client/errors.js', 'node_modules/commander/index.js']) assert.ok(manifest.parts.compose.fromCore.includes(f), f);
});

test('a command reads only its own part of the bundle, and the part\'s code cache is written', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-cli-entry-'));
  try {
    // a preload that records every file the CLI reads with readFileSync (the bundle's files are read so)
    const preload = path.join(dir, 'readlog.js');
    fs.writeFileSync(preload, `const fs = require('node:fs'); const read = fs.readFileSync; const seen = [];
fs.readFileSync = function (f, ...rest) { if (typeof f === 'string') seen.push(f); return read.call(this, f, ...rest); };
process.on('exit', () => fs.writeFileSync(process.env.READ_LOG, seen.join('\\n')));\n`);
    const reads = async (args: string[]) => {
      const log = path.join(dir, 'read.log');
      const r = await berth(args, true, undefined, { NODE_OPTIONS: `--require ${preload}`, READ_LOG: log });
      assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
      const files = fs.readFileSync(log, 'utf8').split('\n');
      return { parts: PARTS.filter((p) => files.includes(partFile(p))), core: files.includes(BUNDLE) };
    };
    assert.deepEqual(await reads(['version']), { parts: [], core: true });
    assert.deepEqual(await reads(['ps', '-a']), { parts: [], core: true });
    assert.deepEqual(await reads(['compose', 'version']), { parts: ['compose'], core: true });
    assert.deepEqual(await reads(['registry', '--help']), { parts: ['registry'], core: true });
    assert.deepEqual(await reads(['build', '--help']), { parts: ['build'], core: true });
    // its cache beside the core's, named by the part and the command
    const caches = fs.readdirSync(path.join(path.dirname(BUNDLE), 'cache'));
    assert.ok(caches.some((f) => f.startsWith('compose.compose-version.') && f.endsWith('.v8')), caches.join(' '));
    assert.ok(caches.some((f) => f.startsWith('compose-version.') && f.endsWith('.v8')), caches.join(' '));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
