// The order berth hands rules to runc (src/runtime/seccompOrder.ts) must change the cost of
// compiling a profile and nothing else: libseccomp, driven as runc 1.1 drives it
// (test/fixtures/seccomp-compile.c), compiles the ordered and the as-written rules of the
// default profile and of containers-common's to the same BPF program, byte for byte, for
// several capability sets. Needs gcc and libseccomp's headers (libseccomp-dev).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseSeccompProfile, resolveSeccomp, toOciSeccomp, type OciSeccomp } from '../../src/runtime/seccomp';
import { DEFAULT_SECCOMP_PROFILE } from '../../src/runtime/seccompDefault';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/defaults';
import { compileSeccomp, seccompCompiler } from '../helpers/seccompCompile';

const built = seccompCompiler() !== null;
const compile = (s: OciSeccomp): Buffer => compileSeccomp(s).stdout;

const CAPS: Record<string, readonly string[]> = {
  none: [],
  default: DEFAULT_CAPABILITIES,
  'default+SYS_ADMIN': [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'],
  'default+SYS_PTRACE,SYSLOG,BPF,SYS_TIME': [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_SYS_TIME'],
};
const PODMAN = '/usr/share/containers/seccomp.json';
const PROFILES = {
  berth: DEFAULT_SECCOMP_PROFILE,
  ...(fs.existsSync(PODMAN) ? { 'containers-common': parseSeccompProfile(fs.readFileSync(PODMAN, 'utf8')) } : {}),
};

describe('ordered rules compile to the same filter', { skip: !built && 'needs gcc and libseccomp-dev' }, () => {
  for (const [pname, profile] of Object.entries(PROFILES)) {
    test(`${pname}: the same BPF, byte for byte, for each capability set`, () => {
      for (const [cname, capabilities] of Object.entries(CAPS)) {
        for (const ia32 of [true, false]) {
          const target = { capabilities, arch: 'amd64', kernel: os.release(), x32: false, ia32 };
          const asWritten = compile(resolveSeccomp(profile, target));
          const ordered = compile(toOciSeccomp(profile, target));
          assert.ok(asWritten.length > 100 * 8, `${cname}: a real filter (${asWritten.length / 8} instructions)`);
          assert.ok(asWritten.equals(ordered), `${pname}, ${cname}, ia32=${ia32}: ordering changed the filter`);
        }
      }
    });
  }

  test('the comparison can fail: a profile one rule short compiles to another filter', () => {
    const target = { capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: os.release(), x32: false, ia32: true };
    const full = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, target);
    const short = { ...full, syscalls: [{ ...full.syscalls[0], names: full.syscalls[0].names.filter((n) => n !== 'getpid') }, ...full.syscalls.slice(1)] };
    assert.ok(!compile(full).equals(compile(short)));
  });
});
