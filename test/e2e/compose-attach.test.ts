// The attached `berth compose up`: each container's output behind `name  | `, its exit, the exit
// code of --exit-code-from / --abort-on-container-exit, and Ctrl-C stopping the project.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BERTH, useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

function project(name: string, yaml: string): string[] {
  const dir = path.join(d.root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  return ['compose', '-f', path.join(dir, 'compose.yaml'), '-p', name];
}

const TWO = `services:
  a:
    image: busybox
    command: ["sh", "-c", "echo hello from a; sleep 1; echo to stderr >&2; exit 3"]
  b:
    image: busybox
    command: ["sh", "-c", "echo b here; sleep 2"]
`;

test('attached up: prefixed output of every container, their exits, exit 0 once all are done', async () => {
  const args = project('att', TWO);
  const r = await d.berth([...args, 'up'], { timeout: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'Attaching to a-1, b-1');
  for (const l of ['a-1  | hello from a', 'a-1  | to stderr', 'b-1  | b here']) assert.ok(lines.includes(l), `${l} in:\n${r.stdout}`);
  assert.match(r.stdout, /a-1 exited with code 3/);
  assert.match(r.stdout, /b-1 exited with code 0/);
  assert.ok(r.stdout.indexOf('a-1  | hello from a') < r.stdout.indexOf('a-1 exited with code 3'));
  // --exit-code-from: that service's code, and the others stopped
  const e = await d.berth([...args, 'up', '--exit-code-from', 'a'], { timeout: 120_000 });
  assert.equal(e.code, 3, e.stderr);
  assert.match(e.stdout, /Aborting on container exit\.\.\./);
  await d.berth([...args, 'down', '-t', '1']);
});

test('Ctrl-C stops the project gracefully and exits 130', async () => {
  const args = project('intr', `services:
  srv:
    image: busybox
    command: ["sh", "-c", "echo serving; exec sleep 1000"]
    stop_grace_period: 2s
`);
  const p = spawn(BERTH, [...args, 'up'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (b) => { out += b; });
  p.stderr.on('data', (b) => { err += b; });
  const exited = new Promise<number>((r) => p.on('close', (code) => r(code ?? -1)));
  for (let i = 0; i < 200 && !out.includes('srv-1  | serving'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(out.includes('srv-1  | serving'), `${out}\n${err}`);
  p.kill('SIGINT');
  assert.equal(await exited, 130, err);
  assert.match(out, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/);
  assert.match(err, /Container intr-srv-1 Stopped/);
  assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}}', 'intr-srv-1']), /exited/);
  await d.berth([...args, 'down', '-t', '1']);
});

test('up --timestamps, --no-attach, --abort-on-container-failure', async () => {
  const args = project('attflags', TWO);
  // --timestamps: compose's RFC3339NanoFixed time right after the prefix, no space before the line
  const t = await d.berth([...args, 'up', '--timestamps', '--no-attach', 'b'], { timeout: 120_000 });
  assert.equal(t.code, 0, t.stderr);
  const lines = t.stdout.split('\n');
  assert.equal(lines[0], 'Attaching to a-1');
  assert.ok(lines.some((l) => /^a-1 {2}\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)hello from a$/.test(l)), t.stdout);
  assert.ok(!t.stdout.includes('b here'), `b is not attached:\n${t.stdout}`);
  // compose waits on every service it started, attached or not, and says how each exited
  assert.match(t.stdout, /b-1 exited with code 0/);
  assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'attflags-b-1']), /exited 0/);
  // --abort-on-container-failure: a's exit 3 stops b, and is the status
  const f = await d.berth([...args, 'up', '--abort-on-container-failure'], { timeout: 120_000 });
  assert.equal(f.code, 3, f.stderr);
  assert.match(f.stdout, /Aborting on container exit\.\.\./);
  // a failure-free project runs to its end: exit 0
  const ok = project('attok', `services:
  a:
    image: busybox
    command: ["sh", "-c", "echo fine"]
  b:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo done"]
`);
  const g = await d.berth([...ok, 'up', '--abort-on-container-failure'], { timeout: 120_000 });
  assert.equal(g.code, 0, g.stderr);
  assert.match(g.stdout, /b-1  \| done/);
  // compose's flag checks
  const bad = await d.berth([...args, 'up', '-d', '--abort-on-container-failure']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch/);
  const both = await d.berth([...args, 'up', '--abort-on-container-failure', '--abort-on-container-exit']);
  assert.match(both.stderr, /--abort-on-container-failure cannot be combined with --abort-on-container-exit/);
  await d.berth([...args, 'down', '-t', '1']);
  await d.berth([...ok, 'down', '-t', '1']);
});
