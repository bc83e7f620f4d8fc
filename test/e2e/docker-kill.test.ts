// `kill` with SIGKILL (the default) returns once the container has exited, as Docker's does:
// an inspect right after says not running with 137, and an `rm` right after succeeds. Other
// signals return once delivered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
