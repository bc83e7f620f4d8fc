// Docker's profile format -> OCI linux.seccomp: includes/excludes by capability, architecture
// and kernel, archMap, name/names, and the default profile's conditional rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import { hasIa32, hasX32Abi, kernelAtLeast, parseSeccompProfile, resolveSeccomp, toOciSeccomp, type DockerSeccompProfile, type OciSeccomp } from '../../src/runtime/seccomp';
import { I386_SYSCALLS, orderForLibseccomp } from '../../src/runtime/seccompOrder';
import { DEFAULT_SECCOMP_PROFILE } from '../../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/defaults';
import { crunTakesSeccompBpf } from '../../src/runtime/seccompBpf';

const amd64 = { arch: 'amd64', kernel: '6.1.0', x32: true, ia32: true };
const allowed = (s: OciSeccomp, name: string) => s.syscalls.filter((r) => r.names.includes(name));

test('archMap becomes the native architecture and its sub-architectures; x32 left out where the kernel has none', () => {
  assert.deepEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [], ...amd64 }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [], ...amd64, x32: false }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [], ...amd64, x32: false, ia32: false }).architectures, ['SCMP_ARCH_X86_64']);
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
  const names = (s: OciSeccomp) => s.syscalls.flatMap((r) => r.names).sort();
  assert.deepEqual(names(toOciSeccomp(p, { capabilities: ['CAP_A'], arch: 'amd64', kernel: '6.1.0-13-amd64' })), ['a', 'b']);
  assert.deepEqual(names(toOciSeccomp(p, { capabilities: ['CAP_A', 'CAP_B'], arch: 'amd64', kernel: '4.4' })), ['b', 'c']);
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
  assert.ok(conv.syscalls.flatMap((r) => r.names).length > 300);
  const ours = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, ...amd64 });
  const ourAllowed = new Set(ours.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  // Docker's default refuses these without CAP_SYS_ADMIN (podman's allows them, relying on user namespaces)
  for (const n of ['unshare', 'mount', 'setns', 'keyctl', 'add_key', 'bpf', 'umount2']) assert.ok(!ourAllowed.has(n), n);
  // and both allow the everyday calls
  const theirAllowed = new Set(conv.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  for (const n of ['read', 'write', 'openat', 'execve', 'mkdirat', 'futex', 'epoll_pwait']) assert.ok(ourAllowed.has(n) && theirAllowed.has(n), n);
});

test('the default profile is Docker 28\'s: io_uring refused, the calls of Linux 6.3-6.15 allowed, lsm_* with CAP_SYS_ADMIN', () => {
  const plain = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, ...amd64 });
  for (const n of ['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'lsm_get_self_attr']) assert.equal(allowed(plain, n).length, 0, n);
  for (const n of ['cachestat', 'fchmodat2', 'futex_wait', 'map_shadow_stack', 'mseal', 'statmount', 'listmount', 'setxattrat', 'uretprobe']) assert.equal(allowed(plain, n).length, 1, n);
  const admin = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], ...amd64 });
  assert.equal(allowed(admin, 'lsm_list_modules').length, 1);
});

test('x32 and i386 are known from the kernel config and, for i386, the ia32_emulation= boot parameter', () => {
  assert.equal(hasX32Abi('CONFIG_X86_X32_ABI=y\n'), true);
  assert.equal(hasX32Abi('# CONFIG_X86_X32_ABI is not set\n'), false);
  assert.equal(hasX32Abi(''), true, 'unknown: assume the ABI is there');
  assert.equal(hasIa32('CONFIG_IA32_EMULATION=y\n', 'quiet'), true);
  assert.equal(hasIa32('# CONFIG_IA32_EMULATION is not set\n', 'ia32_emulation=1'), false);
  assert.equal(hasIa32('CONFIG_IA32_EMULATION=y\n', 'quiet ia32_emulation=off'), false);
  assert.equal(hasIa32('CONFIG_IA32_EMULATION=y\nCONFIG_IA32_EMULATION_DEFAULT_DISABLED=y\n', 'quiet'), false);
  assert.equal(hasIa32('CONFIG_IA32_EMULATION=y\nCONFIG_IA32_EMULATION_DEFAULT_DISABLED=y\n', 'ia32_emulation=true quiet'), true);
  assert.equal(hasIa32('', ''), true, 'unknown: assume i386 binaries run');
});

/** name -> the shapes (action, errno, args) of the rules that name it, order left out. */
function ruleShapes(s: OciSeccomp): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of s.syscalls) {
    for (const n of r.names) m.set(n, [...(m.get(n) ?? []), JSON.stringify([r.action, r.errnoRet, r.args])].sort());
  }
  return m;
}

test('rules are ordered for libseccomp: multiplexers first, then descending i386 numbers; the same rules for every name', () => {
  const caps = [[], DEFAULT_CAPABILITIES, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYSLOG', 'CAP_BPF']];
  const profiles = [DEFAULT_SECCOMP_PROFILE];
  if (fs.existsSync('/usr/share/containers/seccomp.json')) profiles.push(parseSeccompProfile(fs.readFileSync('/usr/share/containers/seccomp.json', 'utf8')));
  for (const prof of profiles) {
    for (const c of caps) {
      const t = { capabilities: c, ...amd64 };
      const ordered = toOciSeccomp(prof, t);
      const asWritten = resolveSeccomp(prof, t);
      assert.deepEqual(ruleShapes(ordered), ruleShapes(asWritten));
      assert.deepEqual({ ...ordered, syscalls: [] }, { ...asWritten, syscalls: [] });
      if (prof !== DEFAULT_SECCOMP_PROFILE) continue;
      const first = ordered.syscalls[0].names;
      assert.deepEqual(first.slice(0, 2), ['socketcall', 'ipc']);
      const known = first.slice(2).map((n) => I386_SYSCALLS.indexOf(n)).filter((i) => i >= 0);
      assert.deepEqual(known, [...known].sort((a, b) => b - a), 'descending i386 numbers');
    }
  }
  const rules = [
    { names: ['read', 'ptrace', 'newcall'], action: 'SCMP_ACT_ALLOW' },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
    { names: ['ptrace', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['socketcall', 'clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    { names: ['getpid', 'ipc', 'socketcall'], action: 'SCMP_ACT_ALLOW' },
  ];
  const ordered = orderForLibseccomp(rules);
  // one rule per action/errno with the names that appear once, in the cheap order...
  assert.deepEqual(ordered[0], { names: ['ipc', 'newcall', 'getpid', 'write', 'read'], action: 'SCMP_ACT_ALLOW' });
  assert.deepEqual(ordered[1], { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  // ...then the rest where it was: argument filters, and names that two rules share
  assert.deepEqual(ordered.slice(2), [
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW' },
    rules[1],
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW' },
    { names: ['socketcall'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    { names: ['socketcall'], action: 'SCMP_ACT_ALLOW' },
  ]);
  assert.deepEqual(ruleShapes({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: ordered }), ruleShapes({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: rules }));
});

const UNISTD_32 = '/usr/include/x86_64-linux-gnu/asm/unistd_32.h';
test('the i386 syscall table agrees with the kernel headers', { skip: !fs.existsSync(UNISTD_32) }, () => {
  const header = [...fs.readFileSync(UNISTD_32, 'utf8').matchAll(/#define __NR_(\w+) (\d+)/g)];
  assert.ok(header.length > 400);
  for (const [, name, nr] of header) {
    if (Number(nr) < I386_SYSCALLS.length) assert.equal(I386_SYSCALLS[Number(nr)], name, `i386 syscall ${nr}`);
  }
});

test('a profile is resolved and ordered once per target', () => {
  const a = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [...DEFAULT_CAPABILITIES].reverse(), ...amd64 });
  assert.equal(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, ...amd64 }), a, 'the same capabilities in another order');
  assert.notEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], ...amd64 }), a);
  assert.notEqual(toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, ...amd64, ia32: false }), a);
});

test('a profile text parsed again gives the same object back (a container\'s own profile at each start), a few kept', () => {
  const text = (n: number) => JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: n }] });
  const first = parseSeccompProfile(text(1));
  assert.equal(parseSeccompProfile(text(1)), first);
  assert.equal(toOciSeccomp(parseSeccompProfile(text(1)), { capabilities: [], ...amd64 }), toOciSeccomp(first, { capabilities: [], ...amd64 }));
  for (let i = 2; i < 40; i++) parseSeccompProfile(text(i));
  assert.notEqual(parseSeccompProfile(text(1)), first, 'bounded: the oldest went');
  assert.deepEqual(parseSeccompProfile(text(1)), first);
  assert.throws(() => parseSeccompProfile('{"syscalls": []}'), /defaultAction is missing/);
});

test('crun 1.8 or later built with seccomp takes the filter precompiled; runc and older crun do not', () => {
  const crun = (v: string, features = '+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL') =>
    `crun version ${v}\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n${features}\n`;
  assert.equal(crunTakesSeccompBpf(crun('1.8.1')), true);
  assert.equal(crunTakesSeccompBpf(crun('1.21')), true);
  assert.equal(crunTakesSeccompBpf(crun('2.0.0')), true);
  assert.equal(crunTakesSeccompBpf(crun('1.7.2')), false);
  assert.equal(crunTakesSeccompBpf(crun('0.19')), false);
  assert.equal(crunTakesSeccompBpf(crun('1.8.1', '+SYSTEMD +CAP -SECCOMP +YAJL')), false, 'without seccomp it installs no filter at all');
  assert.equal(crunTakesSeccompBpf('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n'), false);
});
