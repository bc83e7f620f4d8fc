// SIGTERM to berthd: without live-restore containers stop (stop signal, stop timeout) and show
// exited after a restart; with live-restore they keep running and are re-adopted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startDaemon } from '../helpers/daemon';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function inspect(d: Awaited<ReturnType<typeof startDaemon>>, name: string): Promise<any> {
  const r = await d.docker(['inspect', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

describe('daemon shutdown', () => {
  test('without live-restore: containers are stopped with their stop signal, exited after restart', async () => {
    const d = await startDaemon();
    try {
      await d.ensureBusybox();
      // Exits 0 on its stop signal (USR1), so the signal is shown to be the configured one.
      const r = await d.docker(['run', '-d', '--name', 'sd-sig', '--stop-signal', 'USR1', 'busybox', 'sh', '-c',
        'trap "exit 0" USR1; while true; do sleep 0.1; done']);
      assert.equal(r.code, 0, r.stderr);
      // Ignores SIGTERM: killed after its stop timeout (1 s).
      await d.docker(['run', '-d', '--name', 'sd-timeout', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
      await d.docker(['run', '-d', '--name', 'sd-us', '--restart', 'unless-stopped', '--stop-timeout', '1', 'busybox', 'sleep', '1000']);
      const pids = await Promise.all(['sd-sig', 'sd-timeout', 'sd-us'].map(async (n) => (await inspect(d, n)).State.Pid as number));
      const t0 = Date.now();
      await d.stopDaemon();
      assert.equal(d.proc!.exitCode, 0);
      assert.ok(Date.now() - t0 < 10_000, 'shutdown honours the stop timeouts');
      for (const p of pids) assert.equal(alive(p), false, `pid ${p} still alive`);
      await d.start();
      const sig = await inspect(d, 'sd-sig');
      assert.equal(sig.State.Status, 'exited');
      assert.equal(sig.State.ExitCode, 0);
      const to = await inspect(d, 'sd-timeout');
      assert.equal(to.State.Status, 'exited');
      assert.equal(to.State.ExitCode, 137);
      // unless-stopped: a daemon shutdown is not a user's stop, so it comes back
      const us = await inspect(d, 'sd-us');
      assert.equal(us.State.Running, true);
      assert.equal(us.HasBeenManuallyStopped ?? false, false);
      const ps = await d.docker(['ps', '-a', '--filter', 'name=sd-sig', '--format', '{{.Status}}']);
      assert.match(ps.stdout, /^Exited \(0\)/);
    } finally {
      await d.stop();
    }
  });

  test('with live-restore: containers keep running and are re-adopted', async () => {
    const d = await startDaemon(['--live-restore']);
    try {
      await d.ensureBusybox();
      await d.docker(['run', '-d', '--name', 'lr', 'busybox', 'sleep', '1000']);
      const pid = (await inspect(d, 'lr')).State.Pid;
      await d.stopDaemon();
      assert.equal(alive(pid), true);
      await d.start();
      const c = await inspect(d, 'lr');
      assert.equal(c.State.Running, true);
      assert.equal(c.State.Pid, pid);
      assert.equal((await d.docker(['stop', '-t', '1', 'lr'])).code, 0);
      assert.equal(alive(pid), false);
    } finally {
      await d.stop();
    }
  });
});
