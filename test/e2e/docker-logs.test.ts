// Logs a service can live with: rotation (max-size/max-file) read across files in order,
// follow across rotation, the none driver, partial lines.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logFiles(id: string): { name: string; size: number }[] {
  const dir = path.join(d.dataRoot, 'containers', id);
  // A rotation may rename a file between the listing and the stat: skip what vanished.
  return fs.readdirSync(dir).filter((n) => n.startsWith('container.log'))
    .flatMap((n) => { const st = fs.statSync(path.join(dir, n), { throwIfNoEntry: false }); return st ? [{ name: n, size: st.size }] : []; });
}

/** Lines "N" must be consecutive integers, each once. */
function assertContiguous(out: string): number[] {
  const nums = out.trim().split('\n').map((l) => Number(l.replace(/^line /, '')));
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1] + 1, `gap or duplicate after ${nums[i - 1]}: ${nums[i]}`);
  return nums;
}

describe('log rotation', () => {
  test('max-size=10k max-file=3: a contiguous tail, bounded files', async () => {
    const run = await docker('run', '-d', '--name', 'lg-rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox',
      'sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); if [ $((i % 50)) = 0 ]; then usleep 2000; fi; done');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    let maxTotal = 0;
    for (let i = 0; i < 20; i++) {
      await sleep(150);
      const files = logFiles(id);
      maxTotal = Math.max(maxTotal, files.reduce((a, f) => a + f.size, 0));
      assert.ok(files.length <= 3, `files: ${JSON.stringify(files)}`);
    }
    const l = await docker('logs', 'lg-rot');
    assert.equal(l.code, 0, l.stderr);
    const nums = assertContiguous(l.stdout);
    assert.ok(nums[0] > 0, 'the oldest lines were rotated away');
    assert.ok(nums.length > 100, `only ${nums.length} lines`);
    const tail = await docker('logs', '--tail', '5', 'lg-rot');
    assert.equal(tail.stdout.trim().split('\n').length, 5);
    assertContiguous(tail.stdout);
    await docker('rm', '-f', 'lg-rot');
    // bounded: 3 files of about 10k (plus what conmon wrote while berthd reacted)
    assert.ok(maxTotal < 3 * 10_000 + 200_000, `on disk: ${maxTotal}`);
  });

  test('logs -f follows across rotations and ends when the container stops', async () => {
    const run = await docker('run', '-d', '--name', 'lg-f', '--log-opt', 'max-size=5k', '--log-opt', 'max-file=2', 'busybox',
      'sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); if [ $((i % 20)) = 0 ]; then usleep 10000; fi; done');
    assert.equal(run.code, 0, run.stderr);
    const f = await d.docker(['logs', '-f', 'lg-f'], { timeout: 60_000 });
    assert.equal(f.code, 0, f.stderr);
    const nums = assertContiguous(f.stdout);
    assert.equal(nums[nums.length - 1], 2999);
    await docker('rm', '-f', 'lg-f');
  });
});

describe('log drivers', () => {
  test('none keeps no log and docker logs says so', async () => {
    const r = await docker('run', '--name', 'lg-none', '--log-driver', 'none', 'busybox', 'echo', 'hello');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n'); // attach still works
    const l = await docker('logs', 'lg-none');
    assert.notEqual(l.code, 0);
    assert.match(l.stderr, /configured logging driver does not support reading/);
    const id = (JSON.parse((await docker('inspect', 'lg-none')).stdout)[0]).Id;
    assert.deepEqual(logFiles(id), []);
    await docker('rm', '-f', 'lg-none');
  });

  for (const driver of ['local', 'json-file']) {
    test(`${driver} is readable`, async () => {
      const r = await docker('run', '--name', `lg-${driver}`, '--log-driver', driver, 'busybox', 'sh', '-c', 'echo a; echo b >&2');
      assert.equal(r.code, 0, r.stderr);
      const l = await docker('logs', `lg-${driver}`);
      assert.equal(l.stdout, 'a\n');
      assert.equal(l.stderr, 'b\n');
      await docker('rm', '-f', `lg-${driver}`);
    });
  }

  test('a partial last line stays without newline; a long line comes back whole', async () => {
    await docker('run', '--name', 'lg-part', 'busybox', 'sh', '-c', 'printf "%020000d\\n" 0; printf "no newline"');
    const l = await docker('logs', 'lg-part');
    assert.equal(l.stdout, '0'.repeat(20000) + '\nno newline');
    const t = await docker('logs', '--tail', '1', 'lg-part');
    assert.equal(t.stdout, 'no newline');
    await docker('rm', '-f', 'lg-part');
  });
});
