// docker update: limits change in the live cgroup (v1 here), are persisted, and Docker's
// validation errors come back.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
let parent: string;
before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
  parent = JSON.parse(fs.readFileSync(path.join(d.root, 'daemon.json'), 'utf8'))['cgroup-parent'];
});
after(async () => { await d.stop(); });

const docker = (...args: string[]) => d.docker(args);
const cg = (controller: string, id: string, file: string) => fs.readFileSync(path.join('/sys/fs/cgroup', controller, parent, id, file), 'utf8').trim();

async function inspect(name: string): Promise<any> {
  const r = await docker('inspect', name);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

describe('docker update', () => {
  test('memory, cpu, pids and blkio limits change in the running container', async () => {
    const run = await docker('run', '-d', '--name', 'up1', '--memory', '64m', 'busybox', 'sleep', '1000');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    const u = await docker('update', '--memory', '100m', '--memory-swap', '200m', '--cpus', '0.5', '--cpu-shares', '512',
      '--pids-limit', '50', 'up1');
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout.trim(), 'up1');
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(100 * 1024 * 1024));
    if (fs.existsSync(path.join('/sys/fs/cgroup/memory', parent, id, 'memory.memsw.limit_in_bytes'))) {
      assert.equal(cg('memory', id, 'memory.memsw.limit_in_bytes'), String(200 * 1024 * 1024));
    }
    assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '50000');
    assert.equal(cg('cpu', id, 'cpu.cfs_period_us'), '100000');
    assert.equal(cg('cpu', id, 'cpu.shares'), '512');
    assert.equal(cg('pids', id, 'pids.max'), '50');
    const h = (await inspect('up1')).HostConfig;
    assert.equal(h.Memory, 100 * 1024 * 1024);
    assert.equal(h.MemorySwap, 200 * 1024 * 1024);
    assert.equal(h.NanoCpus, 500_000_000);
    assert.equal(h.CpuShares, 512);
    assert.equal(h.PidsLimit, 50);
    // The raw API answers with Docker's shape.
    const r = await d.request('POST', `/v1.44/containers/${id}/update`, { PidsLimit: 60 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { Warnings: [] });
    assert.equal(cg('pids', id, 'pids.max'), '60');
    const blk = await docker('update', '--blkio-weight', '300', 'up1');
    if (blk.code === 0) assert.equal((await inspect('up1')).HostConfig.BlkioWeight, 300);
    await docker('rm', '-f', 'up1');
  });

  test('a stopped container keeps the new limits for its next start', async () => {
    await docker('create', '--name', 'up2', 'busybox', 'sleep', '1000');
    const u = await docker('update', '--cpu-shares', '256', '--pids-limit', '20', 'up2');
    assert.equal(u.code, 0, u.stderr);
    const s = await docker('start', 'up2');
    assert.equal(s.code, 0, s.stderr);
    const id = (await inspect('up2')).Id;
    assert.equal(cg('cpu', id, 'cpu.shares'), '256');
    assert.equal(cg('pids', id, 'pids.max'), '20');
    await docker('rm', '-f', 'up2');
  });

  test('Docker\'s validation errors', async () => {
    await docker('run', '-d', '--name', 'up3', '--memory', '64m', '--memory-swap', '100m', 'busybox', 'sleep', '1000');
    let r = await docker('update', '--memory', '4m', 'up3');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Minimum memory limit allowed is 6MB/);
    r = await docker('update', '--memory', '200m', 'up3');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot update container [0-9a-f]{64}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    r = await docker('update', '--cpus', '1', '--cpu-period', '50000', 'up3');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Conflicting options: Nano CPUs and CPU Period cannot both be set/);
    r = await docker('update', 'up3');
    assert.notEqual(r.code, 0);
    // nothing changed
    const h = (await inspect('up3')).HostConfig;
    assert.equal(h.Memory, 64 * 1024 * 1024);
    assert.equal(h.MemorySwap, 100 * 1024 * 1024);
    await docker('rm', '-f', 'up3');
  });

  test('berth update speaks the same', async () => {
    const run = await docker('run', '-d', '--name', 'up4', 'busybox', 'sleep', '1000');
    const id = run.stdout.trim();
    const r = await d.berth(['update', '--pids-limit', '33', '--restart', 'unless-stopped', 'up4']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'up4');
    assert.equal(cg('pids', id, 'pids.max'), '33');
    assert.equal((await inspect('up4')).HostConfig.RestartPolicy.Name, 'unless-stopped');
    await docker('rm', '-f', 'up4');
  });
});
