// What the default seccomp profile lets through, seen from inside containers started with the
// docker CLI: a probe of raw system calls (test/fixtures/seccomp-probe.c, built here as a
// static x86_64 and a static i386 binary) run under the default profile, unconfined and with
// CAP_SYS_ADMIN. Docker's effect: forbidden calls answer EPERM, clone with namespace flags
// and unshare need CAP_SYS_ADMIN, clone3 answers ENOSYS, personality takes only the values
// Docker's profile lists, socket refuses AF_VSOCK, and i386 binaries run under the same rules
// (a filter without the i386 architecture would kill them at their first call).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const SOURCE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'seccomp-probe.c');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-seccomp-probe-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Builds the probe for one ABI; undefined where this gcc cannot. */
function build(abi: '64' | '32'): string | undefined {
  const out = path.join(dir, `probe${abi}`);
  const flags = abi === '32' ? ['-m32', '-fno-pie', '-no-pie'] : [];
  const r = spawnSync('gcc', [...flags, '-nostdlib', '-static', '-ffreestanding', '-fno-stack-protector', '-O1', '-o', out, SOURCE], { encoding: 'utf8' });
  return r.status === 0 ? out : undefined;
}
const probe64 = process.arch === 'x64' ? build('64') : undefined;
const probe32 = process.arch === 'x64' ? build('32') : undefined;

async function probe(binary: string, ...opts: string[]): Promise<Record<string, string>> {
  const r = await d.docker(['run', '--rm', '--network', 'none', '-v', `${dir}:/probe:ro`, ...opts, 'busybox', `/probe/${path.basename(binary)}`]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

const EPERM = '-1';
const ENOSYS = '-38';

/** Under Docker's default profile with the default capabilities, on either ABI. */
const DEFAULT_EFFECT = {
  getpid: 'ok',
  personality_query: 'ok',
  personality_linux32: 'ok',
  personality_addr_no_randomize: EPERM,
  socket_unix: 'ok',
  socket_vsock: EPERM,
  clone_newuser: EPERM,
  clone3: ENOSYS,
  unshare_newuser: EPERM,
};

describe('the default seccomp profile, probed with raw system calls', { skip: !probe64 && 'no gcc that builds the x86_64 probe' }, () => {
  test('x86_64: Docker\'s refusals under the default profile', async () => {
    assert.deepEqual(await probe(probe64!), DEFAULT_EFFECT);
  });

  test('x86_64: unconfined, every probe passes the filter', async () => {
    const r = await probe(probe64!, '--security-opt', 'seccomp=unconfined');
    assert.equal(r.personality_addr_no_randomize, 'ok');
    assert.notEqual(r.socket_vsock, EPERM, 'AF_VSOCK: the kernel answers (a socket, or EAFNOSUPPORT without vsock)');
    assert.equal(r.clone_newuser, 'ok');
    assert.equal(r.clone3, '-22', 'clone3(NULL, 0) reaches the kernel: EINVAL');
    assert.equal(r.unshare_newuser, 'ok');
  });

  test('x86_64: CAP_SYS_ADMIN lifts the namespace rules and nothing else', async () => {
    const r = await probe(probe64!, '--cap-add', 'SYS_ADMIN');
    assert.deepEqual(r, { ...DEFAULT_EFFECT, clone_newuser: 'ok', clone3: '-22', unshare_newuser: 'ok' });
  });

  test('i386: a 32-bit binary runs under the same rules, socketcall included', { skip: !probe32 && 'this gcc cannot build i386' }, async () => {
    assert.deepEqual(await probe(probe32!), { ...DEFAULT_EFFECT, socketcall_unix: 'ok' });
    const unconfined = await probe(probe32!, '--security-opt', 'seccomp=unconfined');
    assert.equal(unconfined.unshare_newuser, 'ok');
    assert.equal(unconfined.personality_addr_no_randomize, 'ok');
  });
});
