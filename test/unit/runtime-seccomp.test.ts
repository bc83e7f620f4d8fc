// Docker's profile format -> OCI linux.seccomp: includes/excludes by capability, architecture
// and kernel, archMap, name/names, and the default profile's conditional rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import { kernelAtLeast, parseSeccompProfile, toOciSeccomp, type DockerSeccompProfile, type OciSeccomp } from '../../src/runtime/seccomp';
import { DEFAULT_SECCOMP_PROFILE } from '../../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/defaults';

const amd64 = { arch: 'amd64', kernel: '6.1.0', x32: true };
const allowed = (s: OciSeccomp, name: string) => s.syscalls.filter((r) => r.names.includes(name));

test('archMap becomes the native architecture and its sub-architectures; x32 left out where the kernel has none', () => {
  assert.deepEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [], ...amd64 }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [], ...amd64, x32: false }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [], arch: 'arm64', kernel: '6.1' }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('capability rules: CAP_SYS_ADMIN allows unshare and any clone; without it clone is masked and clone3 is ENOSYS', () => {
  const plain = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, ...amd64 });
  assert.equal(allowed(plain, 'unshare').length, 0);
  assert.deepEqual(allowed(plain, 'clone'), [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  assert.deepEqual(allowed(plain, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  assert.equal(allowed(plain, 'chroot').length, 1, 'CAP_SYS_CHROOT is a default capability');
  assert.equal(allowed(plain, 'arch_prctl').length, 1);
  assert.equal(allowed(plain, 's390_runtime_instr').length, 0);
  assert.equal(allowed(plain, 'personality').length, 5);
  assert.deepEqual(allowed(plain, 'socket')[0].args, [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }]);

  const admin = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], ...amd64 });
  assert.equal(allowed(admin, 'unshare').length, 1);
  assert.deepEqual(allowed(admin, 'clone').map((r) => r.args), [undefined], 'only the unconditional clone rule');
  assert.equal(allowed(admin, 'clone3').filter((r) => r.action === 'SCMP_ACT_ERRNO').length, 0);

  const noChroot = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'), ...amd64 });
  assert.equal(allowed(noChroot, 'chroot').length, 0);
});

test('minKernel includes and excludes', () => {
  const p: DockerSeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['b'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '6.2' } },
      { name: 'c', action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_A', 'CAP_B'] } },
    ],
  };
  assert.deepEqual(toOciSeccomp(p, { capabilities: ['CAP_A'], arch: 'amd64', kernel: '6.1.0-13-amd64' }).syscalls.map((r) => r.names), [['a'], ['b']]);
  assert.deepEqual(toOciSeccomp(p, { capabilities: ['CAP_A', 'CAP_B'], arch: 'amd64', kernel: '4.4' }).syscalls.map((r) => r.names), [['b'], ['c']]);
  assert.ok(kernelAtLeast('6.18.44-fc', '4.8'));
  assert.ok(!kernelAtLeast('4.7.10', '4.8'));
  assert.ok(kernelAtLeast('4.8', '4.8.0'));
});

test('profiles Docker refuses are refused with its words', () => {
  assert.throws(() => parseSeccompProfile('{'), /Decoding seccomp profile failed: /);
  assert.throws(() => parseSeccompProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }] })), /'architectures' and 'archMap'/);
  assert.throws(() => parseSeccompProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] })), /'name' and 'names'/);
  assert.throws(() => parseSeccompProfile('[]'), /not a JSON object/);
});

// containers-common (podman's) ships a profile in Docker's format; where installed it must
// convert too, and berth's default must be at least as strict where Docker's is stricter.
test('the containers-common profile converts, and berth\'s default refuses what Docker\'s refuses', { skip: !fs.existsSync('/usr/share/containers/seccomp.json') }, () => {
  const theirs = parseSeccompProfile(fs.readFileSync('/usr/share/containers/seccomp.json', 'utf8'));
  const conv = toOciSeccomp(theirs, { capabilities: DEFAULT_CAPABILITIES, ...amd64 });
  assert.ok(conv.syscalls.length > 10);
  const ours = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, ...amd64 });
  const ourAllowed = new Set(ours.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  // Docker's default refuses these without CAP_SYS_ADMIN (podman's allows them, relying on user namespaces)
  for (const n of ['unshare', 'mount', 'setns', 'keyctl', 'add_key', 'bpf', 'umount2']) assert.ok(!ourAllowed.has(n), n);
  // and both allow the everyday calls
  const theirAllowed = new Set(conv.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  for (const n of ['read', 'write', 'openat', 'execve', 'mkdirat', 'futex', 'epoll_pwait']) assert.ok(ourAllowed.has(n) && theirAllowed.has(n), n);
});
