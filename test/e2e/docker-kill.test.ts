// `kill` with SIGKILL (the default) returns once the container has exited, as Docker's does:
// an inspect right after says not running with 137, and an `rm` right after succeeds. Other
// signals return once delivered.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { cgroupExists } from '../../src/runtime/cgroups';
import { runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

async function runDetached(args: string[]): Promise<string> {
  const r = await d.docker(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('wire: POST /kill returns after the exit; inspect and DELETE right after', async () => {
  for (let i = 0; i < 3; i++) {
    const id = await runDetached(['busybox', 'sleep', '1000']);
    const k = await d.request('POST', `/v1.44/containers/${id}/kill`);
    assert.equal(k.status, 204, k.body.toString());
    const state = (await d.request('GET', `/v1.44/containers/${id}/json`)).json().State;
    assert.equal(state.Running, false);
    assert.equal(state.Status, 'exited');
    assert.equal(state.ExitCode, 137);
    const rm = await d.request('DELETE', `/v1.44/containers/${id}`);
    assert.equal(rm.status, 204, rm.body.toString());
  }
});

test('wire: signal=SIGKILL and signal=9 wait too, also with a restart policy and when paused', async () => {
  const always = await runDetached(['--restart', 'always', 'busybox', 'sleep', '1000']);
  assert.equal((await d.request('POST', `/v1.44/containers/${always}/kill?signal=SIGKILL`)).status, 204);
  let state = (await d.request('GET', `/v1.44/containers/${always}/json`)).json().State;
  assert.deepEqual([state.Running, state.Restarting, state.ExitCode], [false, false, 137]);
  assert.equal((await d.request('DELETE', `/v1.44/containers/${always}`)).status, 204);

  const paused = await runDetached(['busybox', 'sleep', '1000']);
  assert.equal((await d.docker(['pause', paused])).code, 0);
  assert.equal((await d.request('POST', `/v1.44/containers/${paused}/kill?signal=9`)).status, 204);
  state = (await d.request('GET', `/v1.44/containers/${paused}/json`)).json().State;
  assert.deepEqual([state.Running, state.Paused, state.ExitCode], [false, false, 137]);
  assert.equal((await d.request('DELETE', `/v1.44/containers/${paused}`)).status, 204);
});

test('another signal returns once delivered: the container runs on', async () => {
  const id = await runDetached(['busybox', 'sh', '-c', 'trap "echo got-hup" HUP; while true; do sleep 0.1; done']);
  assert.equal((await d.request('POST', `/v1.44/containers/${id}/kill?signal=HUP`)).status, 204);
  assert.equal((await d.request('GET', `/v1.44/containers/${id}/json`)).json().State.Running, true);
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);
});

test('docker CLI: docker kill x && docker rm x', async () => {
  await runDetached(['--name', 'kill-rm', 'busybox', 'sleep', '1000']);
  const r = await d.docker(['kill', 'kill-rm']);
  assert.equal(r.code, 0, r.stderr);
  const rm = await d.docker(['rm', 'kill-rm']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout.trim(), 'kill-rm');
  // The same in one shell line, as users type it.
  await runDetached(['--name', 'kill-rm2', 'busybox', 'sleep', '1000']);
  const sh = await runCmd('sh', ['-c', 'docker kill kill-rm2 && docker rm kill-rm2'], d.env);
  assert.equal(sh.code, 0, sh.stderr);
  assert.equal(sh.stdout, 'kill-rm2\nkill-rm2\n');
});

/** What a container leaves on the host while it runs: its task's files, cgroup, mounts, shim. */
function hostTraces(id: string, cgroupsPath: string): string[] {
  const left: string[] = [];
  for (const p of [`${d.execRoot}/shim/${id}`, `${d.execRoot}/runc/${id}`, `${d.execRoot}/exits/${id}`, `${d.execRoot}/bundles/${id}`, `${d.dataRoot}/containers/${id}`]) {
    if (fs.existsSync(p)) left.push(p);
  }
  if (cgroupExists(cgroupsPath)) left.push(`cgroup ${cgroupsPath}`);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(id)) left.push(`mount ${line}`);
  try {
    left.push(`conmon ${execFileSync('pgrep', ['-f', '--', `--cid ${id}`], { encoding: 'utf8' }).trim()}`);
  } catch { /* none */ }
  return left;
}

test('rm -f of a running container: removed with its exit (kill, die, destroy), -v takes its anonymous volume; paused and restart=always too; nothing left', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const plain = await runDetached(['busybox', 'sleep', '1000']);
  const withVolume = await runDetached(['-v', '/data', 'busybox', 'sleep', '1000']);
  const volume = JSON.parse(await d.dockerOk(['inspect', '-f', '{{json .Mounts}}', withVolume]))[0].Name as string;
  const paused = await runDetached(['busybox', 'sleep', '1000']);
  await d.dockerOk(['pause', paused]);
  const always = await runDetached(['--restart', 'always', 'busybox', 'sleep', '1000']);
  const all = [plain, withVolume, paused, always];
  const cgroups = new Map(all.map((id) => [id, JSON.parse(fs.readFileSync(`${d.execRoot}/shim/${id}/task.json`, 'utf8')).cgroupsPath as string]));
  // all at once, as a script's cleanup does
  const rms = await Promise.all(all.map((id) => d.docker(['rm', '-f', ...(id === withVolume ? ['-v'] : []), id])));
  for (const r of rms) assert.equal(r.code, 0, r.stderr);
  for (const id of all) {
    assert.equal((await d.docker(['inspect', id])).code, 1, `${id} is gone once rm -f returns`);
    assert.deepEqual(hostTraces(id, cgroups.get(id)!), [], `nothing of ${id} left`);
  }
  assert.equal((await d.docker(['volume', 'inspect', volume])).code, 1, 'rm -fv took the anonymous volume');
  const until = Math.floor(Date.now() / 1000) + 1;
  const events = (await d.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'type=container', '--format', '{{.Actor.ID}} {{.Action}}']))
    .split('\n').filter(Boolean);
  for (const id of all) {
    const of = events.filter((e) => e.startsWith(id)).map((e) => e.split(' ')[1].split(':')[0]).filter((a) => ['kill', 'die', 'destroy', 'start'].includes(a));
    assert.deepEqual(of.slice(-3), ['kill', 'die', 'destroy'], `${id}: ${of}`);
    assert.equal(of.filter((a) => a === 'start').length, 1, `${id} was not restarted: ${of}`);
  }
});
