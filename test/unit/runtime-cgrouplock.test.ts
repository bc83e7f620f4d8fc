// The cgroup lock warmer (runtime/cgroupLock.ts): which cgroup.procs it writes, and that its
// writes leave the process where it was.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { cgroupLock, ownCgroupProcs } from '../../src/runtime/cgroupLock';

const HYBRID = '12:hugetlb:/\n8:pids:/system.slice/berthd.service\n4:memory:/system.slice/berthd.service\n3:cpu,cpuacct:/x\n1:name=systemd:/system.slice/berthd.service\n0::/system.slice/berthd.service\n';

test('v1 and hybrid hosts: the pids hierarchy first, the next known one when it is not mounted', () => {
  assert.equal(ownCgroupProcs(HYBRID, false, () => true), '/sys/fs/cgroup/pids/system.slice/berthd.service/cgroup.procs');
  assert.equal(ownCgroupProcs(HYBRID, false, (p) => !p.includes('/pids/')), '/sys/fs/cgroup/memory/system.slice/berthd.service/cgroup.procs');
  // a comma-joined hierarchy is mounted under the controller's own name (cpu -> cpu,cpuacct)
  assert.equal(ownCgroupProcs(HYBRID, false, (p) => p.includes('/cpu/')), '/sys/fs/cgroup/cpu/x/cgroup.procs');
  assert.equal(ownCgroupProcs(HYBRID, false, () => false), undefined);
});

test('v2 hosts: the unified line; none without it', () => {
  assert.equal(ownCgroupProcs('0::/user.slice/a:b\n', true), '/sys/fs/cgroup/user.slice/a:b/cgroup.procs');
  assert.equal(ownCgroupProcs('0::/\n', true), '/sys/fs/cgroup/cgroup.procs');
  assert.equal(ownCgroupProcs('4:memory:/\n', true), undefined);
});

test('holding the lock warm moves nothing and ends with its promise', async () => {
  const before = fs.readFileSync('/proc/self/cgroup', 'utf8');
  let done!: () => void;
  const until = new Promise<void>((r) => { done = r; });
  cgroupLock.hold(until);
  cgroupLock.hold(until, 10); // a second hold, released by its cap
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(cgroupLock.warming, true, 'root on a host with cgroups: the warmer writes');
  done();
  await until;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(cgroupLock.warming, false);
  assert.equal(fs.readFileSync('/proc/self/cgroup', 'utf8'), before);
  // nothing keeps the process alive: the test runner exits on its own (the timers are unref'd and stopped)
});
