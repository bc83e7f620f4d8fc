// The native compile of a seccomp section (native/seccomp.c, src/lib/sys/seccomp.ts), which
// berth hands crun as run.oci.seccomp_bpf_data: the same program as libseccomp driven rule by
// rule by test/fixtures/seccomp-compile.c (the calls crun and runc both make), for Berth's
// default profile under several capability sets and with and without i386; crun's refusals in
// crun's words; names libseccomp does not know skipped and reported, or refused on demand.
// Whether crun itself compiles the same program is test/e2e/docker-seccomp-crun.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as os from 'node:os';
import { toOciSeccomp } from '../../src/runtime/seccomp';
import { DEFAULT_SECCOMP_PROFILE } from '../../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/defaults';
import { compileSeccompBpf, type SeccompSection } from '../../src/lib/sys/seccomp';
import { seccompBpfOf } from '../../src/runtime/seccompBpf';
import { compileSeccomp, seccompCompiler } from '../helpers/seccompCompile';

const CAPS: Record<string, readonly string[]> = {
  none: [],
  default: DEFAULT_CAPABILITIES,
  'default+SYS_ADMIN': [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'],
  'default+SYS_PTRACE,SYSLOG,BPF,SYS_TIME': [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_SYS_TIME'],
};

describe('compiling a seccomp section natively', () => {
  test('the same program as libseccomp driven rule by rule, for each capability set', { skip: seccompCompiler() === null && 'needs gcc and libseccomp-dev' }, async () => {
    const seen = new Set<string>();
    for (const [cname, capabilities] of Object.entries(CAPS)) {
      for (const ia32 of [true, false]) {
        const section = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities, arch: 'amd64', kernel: os.release(), x32: false, ia32 });
        const { bpf, unknown } = await compileSeccompBpf(section);
        assert.ok(bpf.length > 100 * 8 && bpf.length % 8 === 0, `${cname}: a real program (${bpf.length / 8} instructions)`);
        assert.ok(bpf.equals(compileSeccomp(section).stdout), `${cname}, ia32=${ia32}: another program`);
        assert.ok(unknown.every((n) => section.syscalls.some((r) => r.names.includes(n))), 'only names of the profile are reported');
        seen.add(bpf.toString('hex'));
      }
    }
    assert.equal(seen.size, Object.keys(CAPS).length * 2, 'each target its own program: the comparison can tell them apart');
  });

  test('compiles side by side give the same bytes', async () => {
    const section = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES });
    const all = await Promise.all([1, 2, 3, 4, 5, 6].map(() => compileSeccompBpf(section)));
    for (const r of all) assert.ok(r.bpf.equals(all[0].bpf));
  });

  test('names libseccomp does not know are skipped and reported, or refused as run.oci.seccomp_fail_unknown_syscall does', async () => {
    const section: SeccompSection = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid', 'no_such_call_berth', 'read'], action: 'SCMP_ACT_ALLOW' }] };
    const r = await compileSeccompBpf(section);
    assert.deepEqual(r.unknown, ['no_such_call_berth']);
    const known = await compileSeccompBpf({ ...section, syscalls: [{ names: ['getpid', 'read'], action: 'SCMP_ACT_ALLOW' }] });
    assert.ok(r.bpf.equals(known.bpf));
    await assert.rejects(compileSeccompBpf(section, true), { message: 'invalid seccomp syscall `no_such_call_berth`' });
  });

  test('what crun refuses is refused in crun\'s words', async () => {
    const rule = (r: object) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', ...r }] });
    await assert.rejects(compileSeccompBpf({ defaultAction: 'SCMP_ACT_NOPE' }), { message: 'invalid seccomp action `SCMP_ACT_NOPE`' });
    await assert.rejects(compileSeccompBpf({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }), { message: 'errno value specified for action `SCMP_ACT_ALLOW`' });
    await assert.rejects(compileSeccompBpf(rule({ action: 'SCMP_ACT_KILL', errnoRet: 1 })), { message: 'errno value specified for action `SCMP_ACT_KILL`' });
    await assert.rejects(compileSeccompBpf({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }), { message: 'seccomp unknown architecture VAX' });
    await assert.rejects(compileSeccompBpf(rule({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] })), { message: 'seccomp get operator `SCMP_CMP_ABOUT`' });
    await assert.rejects(compileSeccompBpf(rule({ args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] })), { message: 'invalid seccomp index 0' });
    await assert.rejects(compileSeccompBpf(rule({ args: [{ index: -1, value: 1, op: 'SCMP_CMP_EQ' }] })), { name: 'TypeError', message: 'compileSeccomp: index is not a uint32' });
    await assert.rejects(compileSeccompBpf(rule({ args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] })), { name: 'TypeError', message: 'compileSeccomp: value is not a uint64' });
    await assert.rejects(compileSeccompBpf(rule({ names: ['mk\0dir'] })), TypeError);
  });

  test('an allow-all section compiles to a program that allows all', async () => {
    const { bpf } = await compileSeccompBpf({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });
    assert.ok(bpf.length >= 8 && bpf.length % 8 === 0);
    // BPF_RET|BPF_K instructions (code 0x06): SECCOMP_RET_ALLOW, and KILL for a foreign architecture
    const rets = new Set<number>();
    for (let i = 0; i < bpf.length; i += 8) if (bpf.readUInt16LE(i) === 0x06) rets.add(bpf.readUInt32LE(i + 4));
    assert.deepEqual([...rets].sort(), [0, 0x7fff0000]);
  });

  test('a filter is compiled once while it is kept; a refused one is tried again', async () => {
    const section = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES });
    const first = seccompBpfOf(section);
    assert.equal(seccompBpfOf(section), first);
    assert.ok(Buffer.from(await first, 'base64').equals((await compileSeccompBpf(section)).bpf));
    const bad = { defaultAction: 'SCMP_ACT_NOPE', syscalls: [] };
    const refused = seccompBpfOf(bad);
    await assert.rejects(refused, { name: 'RuntimeError', message: 'seccomp: invalid seccomp action `SCMP_ACT_NOPE`' });
    assert.notEqual(seccompBpfOf(bad), refused);
    await assert.rejects(seccompBpfOf(bad));
  });
});
