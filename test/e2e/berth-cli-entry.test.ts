// bin/berth's two ways in, against a real berthd: the bundle (dist/cli/berth.js through
// launch.js and its code cache) and dist/ as tsc built it (BERTH_CLI_BUNDLE=0) print the same,
// exit the same and do the same, for commands that succeed and for each kind of failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';
import { BUNDLE, cachePath } from '../../src/cli/launch';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const BIN = path.join(REPO, 'bin', 'berth');
const berth = (args: string[], bundle: boolean, input?: string) =>
  runCmd(BIN, args, { ...d.env, BERTH_CLI_BUNDLE: bundle ? '1' : '0' }, { input });

test('the bundle is built and not older than dist/ (else bin/berth would not use it)', () => {
  assert.ok(fs.existsSync(BUNDLE), `${BUNDLE} is missing: npm run build (or npm run build:cli after tsc)`);
  assert.ok(fs.statSync(BUNDLE).mtimeMs >= fs.statSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js')).mtimeMs - 1000, 'the bundle is older than dist/: npm run build:cli');
});

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
  for (const c of cases) {
    const viaBundle = await berth(c.args, true, c.input);
    const viaDist = await berth(c.args, false, c.input);
    assert.deepEqual(viaBundle, viaDist, `berth ${c.args.join(' ')}`);
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
  // a command word no other test uses (an unknown command: exit 1 and the usage error), so
  // that no parallel file writes this cache meanwhile
  const args = ['cli-entry-probe'];
  // bin/berth starts node with no flags (not this test runner's)
  const file = cachePath(args, fs.statSync(BUNDLE), []);
  fs.rmSync(file, { force: true });
  try {
    const first = await berth(args, true);
    assert.equal(first.code, 1);
    assert.match(first.stderr, /unknown command/);
    assert.ok(fs.existsSync(file), `${file} was not written`);
    assert.ok(fs.statSync(file).size > 1000, `cache of ${fs.statSync(file).size} bytes`);
    // a cache V8 takes is not rewritten
    const mtime = fs.statSync(file).mtimeMs;
    assert.deepEqual(await berth(args, true), first);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    // a torn or foreign cache is refused by V8, the run goes on, and the cache is replaced
    fs.writeFileSync(file, Buffer.alloc(64, 7));
    assert.deepEqual(await berth(args, true), first);
    assert.ok(fs.statSync(file).size > 1000);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
