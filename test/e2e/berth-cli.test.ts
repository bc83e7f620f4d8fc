// The same user flows through berth's own CLI (bin/berth), against a real berthd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as path from 'node:path';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const berth = (...args: string[]) => d.berth(args);

test('run: output, exit codes, stdin, --rm', async () => {
  const hi = await berth('run', '--rm', 'busybox', 'echo', 'hi');
  assert.equal(hi.stdout, 'hi\n');
  assert.equal(hi.code, 0);
  assert.equal((await berth('run', '--rm', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
  const missing = await berth('run', '--rm', 'busybox', 'nonexistentcmd');
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /executable file not found/);
  const piped = await d.berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done >&2'], { input: 'hello\n' });
  assert.equal(piped.stdout, 'hello\n');
  assert.equal(piped.stderr, 'done\n');
  const mem = await berth('run', '--rm', '-m', '1k', 'busybox', 'true');
  assert.equal(mem.code, 125);
  assert.match(mem.stderr, /Minimum memory limit allowed is 6MB/);
});

test('run -d, ps, logs, inspect --format, stop, start, restart, rm', async () => {
  const id = (await berth('run', '-d', '--name', 'b-life', '-l', 'b=1', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do echo tick; sleep 0.2; done')).stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await berth('ps', '--filter', 'label=b=1');
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
  assert.match(ps.stdout, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'trap`));
  assert.equal((await berth('ps', '-q', '--filter', 'label=b=1')).stdout.trim(), id.slice(0, 12));
  await new Promise((r) => setTimeout(r, 500));
  assert.match((await berth('logs', '--tail', '1', 'b-life')).stdout, /^tick\n$/);
  assert.equal((await berth('inspect', '--format', '{{.State.Status}} {{.Name}}', 'b-life')).stdout.trim(), 'running /b-life');
  assert.equal((await berth('stop', '-t', '5', 'b-life')).stdout.trim(), 'b-life');
  assert.match((await berth('ps', '-a', '--filter', 'label=b=1', '--format', '{{.Status}}')).stdout, /^Exited \(0\)/);
  await berth('start', 'b-life');
  await berth('restart', '-t', '1', 'b-life');
  assert.equal((await berth('inspect', '-f', '{{.State.Running}}', 'b-life')).stdout.trim(), 'true');
  const rm = await berth('rm', 'b-life');
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /You cannot remove a running container/);
  assert.equal((await berth('rm', '-f', 'b-life')).code, 0);
});

test('kill, wait, pause, unpause, rename, top, stats, create, start -a', async () => {
  await berth('run', '-d', '--name', 'b-k', 'busybox', 'sh', '-c', 'trap "exit 9" USR1; while true; do sleep 0.1; done');
  const waiting = berth('wait', 'b-k');
  await berth('pause', 'b-k');
  assert.equal((await berth('inspect', '-f', '{{.State.Status}}', 'b-k')).stdout.trim(), 'paused');
  await berth('unpause', 'b-k');
  assert.match((await berth('top', 'b-k')).stdout, /PID/);
  assert.match((await berth('stats', '--no-stream', 'b-k')).stdout, /CONTAINER ID\s+NAME\s+CPU %/);
  await berth('rename', 'b-k', 'b-k2');
  await berth('kill', '-s', 'USR1', 'b-k2');
  assert.equal((await waiting).stdout.trim(), '9');
  await berth('rm', 'b-k2');
  await berth('create', '--name', 'b-c', 'busybox', 'echo', 'created');
  assert.equal((await berth('start', '-a', 'b-c')).stdout, 'created\n');
  await berth('rm', 'b-c');
});

test('images: import, images, tag, rmi, save, load, history, prune', async () => {
  const tar = path.join(d.root, 'busybox.tar');
  const imp = await berth('import', '-c', 'CMD ["echo", "imported"]', tar, 'b-img:1');
  assert.match(imp.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
  assert.equal((await berth('run', '--rm', 'b-img:1')).stdout, 'imported\n');
  assert.match((await berth('images')).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
  await berth('tag', 'b-img:1', 'b-img:2');
  assert.equal((await berth('rmi', 'b-img:2')).stdout.trim(), 'Untagged: b-img:2');
  const out = path.join(d.root, 'b-save.tar');
  assert.equal((await berth('save', '-o', out, 'b-img:1')).code, 0);
  const rmi = await berth('rmi', 'b-img:1');
  assert.match(rmi.stdout, /Untagged: b-img:1\nDeleted: sha256:/);
  assert.match((await berth('load', '-i', out)).stdout, /Loaded image: b-img:1/);
  assert.match((await berth('history', 'b-img:1')).stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT/);
  assert.match((await berth('image', 'inspect', '--format', '{{json .Config.Cmd}}', 'b-img:1')).stdout, /\["echo","imported"\]/);
  assert.equal((await berth('rmi', 'b-missing:1')).code, 1);
  assert.match((await berth('image', 'prune', '-f')).stdout, /Total reclaimed space/);
});

test('version, info, events, container prune, errors', async () => {
  const v = await berth('version');
  assert.match(v.stdout, /Server: berth/);
  assert.match(v.stdout, /API version:\s+1\.44/);
  // Go's field names in a template, JSON's keys in {{json}}, as the docker CLI prints them
  assert.equal((await berth('version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}')).stdout.trim(), '1.44 1.44');
  assert.match((await berth('version', '--format', '{{json .Server}}')).stdout, /"ApiVersion":"1\.44"/);
  const info = await berth('info');
  assert.match(info.stdout, /Storage Driver: overlay2/);
  assert.match(info.stdout, /Cgroup Version: [12]/);
  const since = Math.floor(Date.now() / 1000) - 1;
  await berth('run', '--name', 'b-ev', '-l', 'bev=1', 'busybox', 'true');
  const ev = await berth('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'label=bev=1');
  assert.match(ev.stdout, /container create [a-f0-9]{64} \(bev=1, image=busybox, name=b-ev\)/);
  assert.match(ev.stdout, /container die [a-f0-9]{64} \(bev=1, exitCode=0, image=busybox, name=b-ev\)/);
  const prune = await berth('container', 'prune', '-f', '--filter', 'label=bev=1');
  assert.match(prune.stdout, /Deleted Containers:\n[a-f0-9]{64}\n/);
  const missing = await berth('inspect', 'b-nothing');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such object: b-nothing/);
  const viaFlag = await d.berth(['-H', d.host, 'ps', '-a', '-q']);
  assert.equal(viaFlag.code, 0);
});
