// What users take for granted inside a container (/etc files, --init, stop signals), and live
// restore: berthd killed with -9 while containers run and write logs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);

test('/etc/hosts, /etc/hostname, /etc/resolv.conf with --add-host, --dns, --dns-search', async () => {
  const r = await docker('run', '--rm', '-h', 'web1', '--add-host', 'db.local:10.1.2.3', '--dns', '10.0.0.53', '--dns-search', 'example.test',
    'busybox', 'sh', '-c', 'cat /etc/hostname; cat /etc/hosts; cat /etc/resolv.conf');
  assert.match(r.stdout, /^web1\n/);
  assert.match(r.stdout, /127\.0\.0\.1\s+localhost/);
  assert.match(r.stdout, /10\.1\.2\.3\s+db\.local/);
  assert.match(r.stdout, /nameserver 10\.0\.0\.53/);
  assert.match(r.stdout, /search example\.test/);
  await docker('create', '--name', 'etc-ins', 'busybox');
  const ins = JSON.parse((await docker('inspect', 'etc-ins')).stdout)[0];
  assert.match(ins.HostsPath, /\/hosts$/);
  assert.match(ins.ResolvConfPath, /\/resolv\.conf$/);
  await docker('rm', 'etc-ins');
});

test('--stop-signal, --stop-timeout and STOPSIGNAL from the image', async () => {
  await docker('run', '-d', '--name', 'sig1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "exit 11" USR1; while true; do sleep 0.1; done');
  await docker('stop', 'sig1');
  assert.equal((await docker('inspect', '-f', '{{.State.ExitCode}}', 'sig1')).stdout.trim(), '11');
  await docker('run', '-d', '--name', 'sig2', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done');
  const t0 = Date.now();
  await docker('stop', 'sig2');
  assert.ok(Date.now() - t0 < 6000, 'stop-timeout 1 was not honoured');
  assert.equal((await docker('inspect', '-f', '{{.State.ExitCode}}', 'sig2')).stdout.trim(), '137');
  const tar = `${d.root}/busybox.tar`;
  await docker('import', '-c', 'STOPSIGNAL SIGUSR2', tar, 'sig-image:1');
  await docker('run', '-d', '--name', 'sig3', 'sig-image:1', 'sh', '-c', 'trap "exit 12" USR2; while true; do sleep 0.1; done');
  assert.equal((await docker('inspect', '-f', '{{.Config.StopSignal}}', 'sig3')).stdout.trim(), 'SIGUSR2');
  await docker('stop', 'sig3');
  assert.equal((await docker('inspect', '-f', '{{.State.ExitCode}}', 'sig3')).stdout.trim(), '12');
  await docker('rm', 'sig1', 'sig2', 'sig3');
  await docker('rmi', 'sig-image:1');
});

test('--init reaps zombies and forwards signals', async () => {
  const r = await docker('run', '--rm', '--init', 'busybox', 'sh', '-c', '(sleep 0.1 &) ; sleep 0.5; ps -o stat,comm | grep -c "^Z" || true');
  assert.equal(r.stdout.trim(), '0');
  await docker('run', '-d', '--init', '--name', 'init-sig', 'busybox', 'sh', '-c', 'trap "exit 13" TERM; while true; do sleep 0.1; done');
  await docker('stop', '-t', '5', 'init-sig');
  assert.equal((await docker('inspect', '-f', '{{.State.ExitCode}}', 'init-sig')).stdout.trim(), '13');
  await docker('rm', 'init-sig');
});

test('live restore: kill -9 of berthd; same PIDs, logs without gap or duplicate, stop/wait/logs work', async () => {
  await docker('run', '-d', '--name', 'lr-log', 'busybox', 'sh', '-c', 'i=0; while true; do echo "n $i"; i=$((i+1)); sleep 0.05; done');
  await docker('run', '-d', '-t', '--name', 'lr-tty', 'busybox', 'sh', '-c', 'while true; do sleep 1; done');
  await docker('run', '-d', '--name', 'lr-exit', 'busybox', 'sh', '-c', 'sleep 1.5; exit 6');
  const pids = (await docker('inspect', '-f', '{{.State.Pid}}', 'lr-log', 'lr-tty')).stdout.trim();
  await d.kill9();
  await new Promise((r) => setTimeout(r, 2500));
  await d.start();
  assert.equal((await docker('inspect', '-f', '{{.State.Pid}}', 'lr-log', 'lr-tty')).stdout.trim(), pids);
  const exited = (await docker('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.FinishedAt}}', 'lr-exit')).stdout.trim().split(' ');
  assert.deepEqual(exited.slice(0, 2), ['exited', '6']);
  assert.ok(Date.parse(exited[2]) < Date.now() - 500, 'finish time is the real exit time');
  // exec and attach work on re-adopted containers
  const ex = await docker('exec', 'lr-tty', 'sh', '-c', 'echo $((6*7))');
  assert.equal(ex.stdout, '42\n');
  const attached = docker('attach', '--no-stdin', 'lr-log');
  const waiting = docker('wait', 'lr-log');
  const follow = docker('logs', '-f', 'lr-log');
  await new Promise((r) => setTimeout(r, 500));
  await docker('stop', '-t', '1', 'lr-log');
  assert.equal((await waiting).stdout.trim(), '137');
  assert.match((await attached).stdout, /^n \d+\n/);
  const lines = (await follow).stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
  assert.ok(lines.length > 40, `only ${lines.length} lines`);
  lines.forEach((n, i) => assert.equal(n, i, `line ${i} is ${n}: a gap or a duplicate`));
  await docker('rm', '-f', 'lr-log', 'lr-tty', 'lr-exit');
});

test('a container printing 100 MB of log does not grow berthd\'s memory', async (t) => {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(require('node:fs').readFileSync(`/proc/${d.proc!.pid}/status`, 'utf8'))![1]) * 1024;
  const before = rss();
  const r = await docker('run', '--name', 'big-log', '--log-opt', 'max-size=20m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
    'head -c 100000000 /dev/zero | tr "\\0" a | fold -w 999');
  assert.equal(r.code, 0);
  assert.ok(r.stdout.length >= 100_000_000, `attach delivered ${r.stdout.length} bytes`);
  const tail = await docker('logs', '--tail', '3', 'big-log');
  assert.equal(tail.stdout.split('\n').filter(Boolean).length, 3);
  const all = await d.docker(['logs', 'big-log'], { timeout: 120_000 });
  assert.ok(all.stdout.length > 20_000_000, `logs gave ${all.stdout.length} bytes`);
  const grown = rss() - before;
  t.diagnostic(`berthd RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
  assert.ok(grown < 64 * 1024 * 1024, `berthd grew by ${(grown / 1048576).toFixed(1)} MB`);
  await docker('rm', 'big-log');
});
