// Restart policies through the real docker CLI: on-failure:N, always, unless-stopped,
// back-off, daemon restarts, update --restart, stop/rm of a restarting container.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inspect(name: string): Promise<any> {
  const r = await docker('inspect', name);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('restart policies', () => {
  test('on-failure:2 restarts twice, then stays exited', async () => {
    const r = await docker('run', '-d', '--name', 'rs-onfail', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3');
    assert.equal(r.code, 0, r.stderr);
    await until('exited with 2 restarts', async () => {
      const c = await inspect('rs-onfail');
      return c.State.Status === 'exited' && c.RestartCount === 2;
    });
    await sleep(1000);
    const c = await inspect('rs-onfail');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 3);
    assert.equal(c.RestartCount, 2);
    assert.equal(c.HostConfig.RestartPolicy.Name, 'on-failure');
    await docker('rm', '-f', 'rs-onfail');
  });

  test('on-failure does not restart a clean exit', async () => {
    await docker('run', '-d', '--name', 'rs-clean', '--restart', 'on-failure', 'busybox', 'true');
    await until('exited', async () => (await inspect('rs-clean')).State.Status === 'exited');
    await sleep(500);
    const c = await inspect('rs-clean');
    assert.equal(c.RestartCount, 0);
    assert.equal(c.State.Status, 'exited');
    await docker('rm', '-f', 'rs-clean');
  });

  test('always restarts after a crash, with die and start events', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await docker('run', '-d', '--name', 'rs-always', '--restart', 'always', 'busybox', 'sleep', '1000');
    const first = await inspect('rs-always');
    process.kill(first.State.Pid, 'SIGKILL');
    await until('restarted', async () => {
      const c = await inspect('rs-always');
      return c.State.Running && !c.State.Restarting && c.State.Pid !== first.State.Pid && c.RestartCount === 1;
    });
    const until_ = String(Math.floor(Date.now() / 1000) + 1);
    const ev = await docker('events', '--since', since, '--until', until_, '--filter', 'container=rs-always', '--format', '{{.Action}}');
    const actions = ev.stdout.trim().split('\n');
    const die = actions.indexOf('die');
    assert.ok(die >= 0, ev.stdout);
    assert.ok(actions.slice(die + 1).includes('start'), ev.stdout);
  });

  test('always comes back after a daemon kill -9 and start', async () => {
    const before_ = await inspect('rs-always');
    await d.kill9();
    process.kill(before_.State.Pid, 'SIGKILL'); // it dies while the daemon is away
    await sleep(300);
    await d.start();
    await until('running again', async () => {
      const c = await inspect('rs-always');
      return c.State.Running && c.State.Pid !== before_.State.Pid && c.State.Pid > 0;
    });
  });

  test('a stop is not undone by always; start resets RestartCount', async () => {
    assert.equal((await docker('stop', '-t', '1', 'rs-always')).code, 0);
    await sleep(500);
    let c = await inspect('rs-always');
    assert.equal(c.State.Status, 'exited');
    assert.equal((await docker('start', 'rs-always')).code, 0);
    c = await inspect('rs-always');
    assert.equal(c.State.Running, true);
    assert.equal(c.RestartCount, 0);
    await docker('rm', '-f', 'rs-always');
  });

  test('unless-stopped stays stopped after docker stop and a daemon restart', async () => {
    await docker('run', '-d', '--name', 'rs-us', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000');
    await docker('run', '-d', '--name', 'rs-us-running', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000');
    assert.equal((await docker('stop', '-t', '1', 'rs-us')).code, 0);
    const pid = (await inspect('rs-us-running')).State.Pid;
    await d.kill9();
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    await d.start();
    await until('rs-us-running restarted', async () => (await inspect('rs-us-running')).State.Running);
    await sleep(500);
    const c = await inspect('rs-us');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.HostConfig.RestartPolicy.Name, 'unless-stopped');
    await docker('rm', '-f', 'rs-us', 'rs-us-running');
  });

  test('update --restart changes the policy of an existing container', async () => {
    await docker('run', '-d', '--name', 'rs-upd', 'busybox', 'sh', '-c', 'sleep 1; exit 1');
    const u = await docker('update', '--restart', 'on-failure:1', 'rs-upd');
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout.trim(), 'rs-upd');
    assert.deepEqual((await inspect('rs-upd')).HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 1 });
    await until('one restart, then exited', async () => {
      const c = await inspect('rs-upd');
      return c.State.Status === 'exited' && c.RestartCount === 1;
    });
    const bad = await docker('update', '--restart', 'always', 'nosuchcontainer');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /No such container: nosuchcontainer/);
    await docker('rm', '-f', 'rs-upd');
  });

  test('AutoRemove and a restart policy stay exclusive on update', async () => {
    await docker('create', '--name', 'rs-rm', '--rm', 'busybox', 'true');
    const r = await docker('update', '--restart', 'always', 'rs-rm');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    await docker('rm', '-f', 'rs-rm');
  });

  test('a restarting container can be stopped and removed', async () => {
    // Exits at once every time: the back-off grows, so it spends most of its time "restarting".
    await docker('run', '-d', '--name', 'rs-loop', '--restart', 'always', 'busybox', 'false');
    await until('restarting with a back-off', async () => {
      const c = await inspect('rs-loop');
      return c.State.Restarting && c.RestartCount >= 4;
    });
    const c = await inspect('rs-loop');
    assert.equal(c.State.Status, 'restarting');
    const ps = await docker('ps', '--filter', 'name=rs-loop', '--format', '{{.Status}}');
    assert.match(ps.stdout, /^Restarting \(1\)/);
    const rm = await docker('rm', 'rs-loop');
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /You cannot remove a restarting container/);
    const t0 = Date.now();
    assert.equal((await docker('stop', 'rs-loop')).code, 0);
    assert.ok(Date.now() - t0 < 5000, 'stop of a restarting container is quick');
    const s = await inspect('rs-loop');
    assert.equal(s.State.Status, 'exited');
    const n = s.RestartCount;
    await sleep(2000);
    assert.equal((await inspect('rs-loop')).RestartCount, n, 'no restart after stop');
    // start it again, let it fall back into the loop, then rm -f while restarting
    await docker('start', 'rs-loop');
    await until('restarting again', async () => (await inspect('rs-loop')).State.Restarting);
    const f = await docker('rm', '-f', 'rs-loop');
    assert.equal(f.code, 0, f.stderr);
    assert.equal((await docker('ps', '-a', '-q', '--filter', 'name=rs-loop')).stdout.trim(), '');
  });

  test('docker wait returns at the exit that ends the restarts', async () => {
    await docker('run', '-d', '--name', 'rs-wait', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'sleep 1; exit 7');
    const w = await d.docker(['wait', 'rs-wait'], { timeout: 20_000 });
    assert.equal(w.stdout.trim(), '7');
    await docker('rm', '-f', 'rs-wait');
  });
});
