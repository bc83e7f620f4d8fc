// Logs a service can live with: max-size a bound and max-file files kept however fast the
// container writes, read across files in order, followed across rotations, through a kill -9
// of berthd; the none driver, partial lines.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The log's generation files (container.<gen>.log), oldest first. */
function logFiles(id: string): { name: string; size: number; gen: number }[] {
  const dir = path.join(d.dataRoot, 'containers', id);
  // The writer may delete an old generation between the listing and the stat: skip what vanished.
  return fs.readdirSync(dir).flatMap((n) => {
    const m = /^container\.(\d+)\.log$/.exec(n);
    const st = m && fs.statSync(path.join(dir, n), { throwIfNoEntry: false });
    return m && st ? [{ name: n, size: st.size, gen: Number(m[1]) }] : [];
  }).sort((x, y) => x.gen - y.gen);
}

/** Lines "N" must be consecutive integers, each once. */
function assertContiguous(out: string): number[] {
  const nums = out.trim().split('\n').map((l) => Number(l.replace(/^line /, '')));
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1] + 1, `gap or duplicate after ${nums[i - 1]}: ${nums[i]}`);
  return nums;
}

/** Every generation within max-size plus one line (a k8s-file line of these tests is < 100 bytes). */
function assertBounded(id: string, maxSize: number): void {
  for (const f of logFiles(id)) assert.ok(f.size <= maxSize + 100, `${f.name} has ${f.size} bytes`);
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; !(await cond()); i++) {
    if (i > 600) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const burst = (n: number) => `seq 1 ${n}`;
const shortLines = (n: number) => `i=1; while [ $i -le ${n} ]; do echo $i; i=$((i+1)); done`;

describe('log rotation: max-size is a bound, max-file files are kept', () => {
  for (const maxFile of [2, 3]) {
    for (const [what, cmd, last] of [['3000 short lines', shortLines(3000), 3000], ['a fast writer', burst(200_000), 200_000]] as const) {
      test(`${what}, max-size=10k max-file=${maxFile}`, async () => {
        const name = `lg-b${maxFile}-${last}`;
        const run = await docker('run', '-d', '--name', name, '--log-opt', 'max-size=10k', '--log-opt', `max-file=${maxFile}`, 'busybox', 'sh', '-c', cmd);
        assert.equal(run.code, 0, run.stderr);
        const id = run.stdout.trim();
        assert.equal((await d.docker(['wait', name], { timeout: 120_000 })).stdout.trim(), '0');
        const files = logFiles(id);
        assert.equal(files.length, maxFile, `files: ${JSON.stringify(files)}`);
        assertBounded(id, 10_000);
        const l = await docker('logs', name);
        assert.equal(l.code, 0, l.stderr);
        const nums = assertContiguous(l.stdout);
        assert.equal(nums[nums.length - 1], last, 'the last line is there');
        assert.ok(nums[0] > 1, 'the oldest lines were rotated away');
        // All that the kept files hold, and nothing else (a line ends with its F record).
        const lines = files.reduce((n, f) => n + (fs.readFileSync(path.join(d.dataRoot, 'containers', id, f.name), 'utf8').match(/ stdout F /g) ?? []).length, 0);
        assert.equal(nums.length, lines);
        await docker('rm', name);
      });
    }
  }

  test('a record longer than max-size is a file of its own; lines come back whole', async () => {
    const run = await docker('run', '-d', '--name', 'lg-long', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox',
      'sh', '-c', 'for c in a b c d; do l=$(printf "%03000d" 0 | tr 0 $c); echo "$l"; done');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    await docker('wait', 'lg-long');
    const files = logFiles(id);
    assert.equal(files.length, 3);
    for (const f of files) {
      // One record each: a line, or the piece of one that conmon read at once (P).
      const text = fs.readFileSync(path.join(d.dataRoot, 'containers', id, f.name), 'utf8');
      assert.equal(text.split('\n').length - 1, 1, `${f.name} holds one record`);
    }
    const out = (await docker('logs', 'lg-long')).stdout;
    // The last two lines whole; before them, the rest of what the oldest file kept.
    assert.ok(out.endsWith('c'.repeat(3000) + '\n' + 'd'.repeat(3000) + '\n'), out.slice(0, 80));
    assert.match(out.slice(0, -6002), /^(b+\n)?$/);
    await docker('rm', 'lg-long');
  });

  test('a restarted container goes on from its newest file', async () => {
    const run = await docker('run', '--name', 'lg-again', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'seq', '1', '200');
    assert.equal(run.code, 0, run.stderr);
    const id = JSON.parse((await docker('inspect', 'lg-again')).stdout)[0].Id;
    const first = logFiles(id).map((f) => f.gen);
    assert.equal(first.length, 3);
    assert.equal((await docker('start', '-a', 'lg-again')).code, 0);
    const second = logFiles(id).map((f) => f.gen);
    assert.equal(second.length, 3);
    assert.ok(second[0] > first[2], `generations ${first} then ${second}`);
    assert.deepEqual(second, [second[0], second[0] + 1, second[0] + 2]);
    const nums = assertContiguous((await docker('logs', 'lg-again')).stdout);
    assert.equal(nums[nums.length - 1], 200);
    await docker('rm', 'lg-again');
  });

  test('a log of the earlier layout (container.log, container.log.N) is read, then taken over at start', async () => {
    assert.equal((await docker('run', '--name', 'lg-old', 'busybox', 'echo', 'new')).code, 0);
    const id = JSON.parse((await docker('inspect', 'lg-old')).stdout)[0].Id;
    const dir = path.join(d.dataRoot, 'containers', id);
    for (const f of fs.readdirSync(dir)) if (/^container\./.test(f)) fs.rmSync(path.join(dir, f));
    const line = (t: string) => `2026-01-01T00:00:0${t.length}.000000000Z stdout F ${t}\n`;
    fs.writeFileSync(path.join(dir, 'container.log.2'), line('a'));
    fs.writeFileSync(path.join(dir, 'container.log.1'), line('b'));
    fs.writeFileSync(path.join(dir, 'container.log'), line('c'));
    assert.equal((await docker('logs', 'lg-old')).stdout, 'a\nb\nc\n');
    assert.equal((await docker('start', '-a', 'lg-old')).stdout, 'new\n');
    assert.equal((await docker('logs', 'lg-old')).stdout, 'a\nb\nc\nnew\n');
    assert.deepEqual(logFiles(id).map((f) => f.gen), [1, 2, 3]);
    await docker('rm', 'lg-old');
  });

  test('while the container writes: never more files than max-file, each bounded', async () => {
    const run = await docker('run', '-d', '--name', 'lg-rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox',
      'sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); if [ $((i % 50)) = 0 ]; then usleep 2000; fi; done');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      const files = logFiles(id);
      assert.ok(files.length <= 3, `files: ${JSON.stringify(files)}`);
      assertBounded(id, 10_000);
    }
    const l = await docker('logs', 'lg-rot');
    assert.equal(l.code, 0, l.stderr);
    const nums = assertContiguous(l.stdout);
    assert.ok(nums[0] > 0, 'the oldest lines were rotated away');
    const tail = await docker('logs', '--tail', '5', 'lg-rot');
    assert.equal(tail.stdout.trim().split('\n').length, 5);
    assertContiguous(tail.stdout);
    await docker('rm', '-f', 'lg-rot');
  });

  test('logs -f started before a burst sees every line once, across rotations', async () => {
    const run = await docker('run', '-d', '--name', 'lg-f', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=2', 'busybox',
      'sh', '-c', `while [ ! -e /tmp/go ]; do usleep 10000; done; ${burst(100_000)}`);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const f = d.docker(['logs', '-f', 'lg-f'], { timeout: 120_000 });
    // The follower is in place once it has pinned the log; then the burst starts.
    const pin = path.join(d.dataRoot, 'containers', id, 'container.log.pin');
    await until('the follower', () => fs.existsSync(pin));
    await docker('exec', 'lg-f', 'touch', '/tmp/go');
    const out = await f;
    assert.equal(out.code, 0, out.stderr);
    const nums = assertContiguous(out.stdout);
    assert.equal(nums[0], 1);
    assert.equal(nums[nums.length - 1], 100_000);
    // Once the follower is gone, the writer keeps max-file files again.
    await until('the writer to drop what the follower held', () => logFiles(id).length === 2);
    assertBounded(id, 10_000);
    await docker('rm', '-f', 'lg-f');
  });

  test('berthd killed with -9, then stopped with live-restore, mid-stream: every line once, none lost while it was away', async () => {
    const run = await docker('run', '-d', '--name', 'lg-lr', '--log-opt', 'max-size=100k', '--log-opt', 'max-file=50', 'busybox',
      'sh', '-c', 'i=1; while true; do echo $i; i=$((i+1)); if [ $((i % 20)) = 0 ]; then usleep 5000; fi; done');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const cfgFile = path.join(d.root, 'daemon.json');
    const cfg = fs.readFileSync(cfgFile, 'utf8');
    try {
      await sleep(500);
      await d.kill9();
      const before = logFiles(id).length;
      await sleep(1500);
      const away = logFiles(id).length;
      assert.ok(away > before, `the log rotated while berthd was killed (${before} -> ${away} files)`);
      fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(cfg), 'live-restore': true }));
      await d.start();
      await sleep(500);
      await d.stopDaemon(); // live-restore: the container and its log writer go on
      const stopped = logFiles(id).length;
      await sleep(1500);
      assert.ok(logFiles(id).length > stopped, 'the log rotated while berthd was stopped');
      fs.writeFileSync(cfgFile, cfg);
      await d.start();
      await sleep(500);
      await docker('stop', '-t', '1', 'lg-lr');
    } finally {
      fs.writeFileSync(cfgFile, cfg);
      if (d.proc?.exitCode !== null) await d.start();
    }
    const l = await d.docker(['logs', 'lg-lr'], { timeout: 120_000 });
    assert.equal(l.code, 0, l.stderr);
    const nums = assertContiguous(l.stdout);
    assert.equal(nums[0], 1, 'nothing rotated away: the log starts at 1');
    assertBounded(id, 100_000);
    await docker('rm', 'lg-lr');
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

  test('log opts berth does not apply are refused, naming the option', async () => {
    for (const opt of ['compress=true', 'mode=non-blocking', 'max-buffer-size=4m']) {
      const r = await docker('run', '--rm', '--log-opt', 'max-size=10k', '--log-opt', opt, 'busybox', 'true');
      assert.notEqual(r.code, 0, opt);
      assert.match(r.stderr, new RegExp(opt.split('=')[0] === 'mode' ? 'non-blocking' : opt.split('=')[0]), r.stderr);
    }
    const ok = await docker('run', '--rm', '--log-opt', 'compress=false', '--log-opt', 'mode=blocking', 'busybox', 'true');
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('a partial last line stays without newline; a long line comes back whole', async () => {
    await docker('run', '--name', 'lg-part', 'busybox', 'sh', '-c', 'printf "%020000d\\n" 0; printf "no newline"');
    const l = await docker('logs', 'lg-part');
    assert.equal(l.stdout, '0'.repeat(20000) + '\nno newline');
    const t = await docker('logs', '--tail', '1', 'lg-part');
    assert.equal(t.stdout, 'no newline');
    await docker('rm', '-f', 'lg-part');
  });
});
