// Under crun, berth hands the seccomp filter over compiled (run.oci.seccomp_bpf_data, from
// native/seccomp.c) instead of leaving crun to compile linux.seccomp at every start. That must
// be the very program crun would have made: for containers started through the docker CLI
// (the default profile under several capability sets, a custom profile), the filter the kernel
// holds for the container's process (read with ptrace by test/fixtures/seccomp-filters.c) is
// compared with the one crun installs when it compiles the same config.json itself, minus the
// annotation. Under runc the spec carries no annotation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, startDaemon, type TestDaemon } from '../helpers/daemon';
import type { OciSeccomp } from '../../src/runtime/seccomp';

const ANNOTATION = 'run.oci.seccomp_bpf_data';
const crun = spawnSync('crun', ['--version'], { encoding: 'utf8' });
const haveCrun = crun.status === 0 && /^crun version 1\.(?:[89]|\d\d)/.test(crun.stdout);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-seccomp-crun-'));
const reader = path.join(work, 'seccomp-filters');
const built = spawnSync('gcc', ['-O1', '-o', reader, path.join(REPO, 'test/fixtures/seccomp-filters.c')]).status === 0;
const crunRoot = path.join(work, 'crun-state');

let d: TestDaemon;
before(async () => {
  if (!haveCrun || !built) return;
  d = await startDaemon();
  const conf = path.join(d.root, 'daemon.json');
  fs.writeFileSync(conf, JSON.stringify({ ...JSON.parse(fs.readFileSync(conf, 'utf8')), runtimes: { crun: { path: 'crun' } }, 'default-runtime': 'crun' }));
  await d.restart();
  await d.ensureBusybox();
});
after(async () => {
  await d?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The filters installed in process `pid`, newest first, each as "<instructions> <hex>". */
function filtersOf(pid: number): string[] {
  const r = spawnSync(reader, [String(pid)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** The process with this command line in the PID namespace of `initPid`. */
function execPid(initPid: number, cmdline: string): number | undefined {
  const ns = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === initPid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'latin1') === cmdline && fs.readlinkSync(`/proc/${e}/ns/pid`) === ns) return Number(e);
    } catch { /* gone */ }
  }
  return undefined;
}

const pidOf = async (id: string) => Number((await d.dockerOk(['inspect', '-f', '{{.State.Pid}}', id])).trim());
const configOf = (id: string) => JSON.parse(fs.readFileSync(path.join(d.execRoot, 'bundles', id, 'config.json'), 'utf8'));

/**
 * The filters crun installs when it compiles the container's own config.json: the same bundle
 * on the same (mounted) root, without the annotation, in a cgroup of its own, run by crun directly.
 */
function crunCompiled(id: string, edit: (seccomp: OciSeccomp) => void = () => undefined): string[] {
  const spec = configOf(id);
  assert.ok(spec.annotations?.[ANNOTATION], 'berth passed the program');
  delete spec.annotations;
  edit(spec.linux.seccomp);
  spec.process.args = ['sleep', '300'];
  spec.process.terminal = false;
  spec.linux.cgroupsPath = `${spec.linux.cgroupsPath}-crun`;
  const bundle = fs.mkdtempSync(path.join(work, 'bundle-'));
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const name = `bt-seccomp-${path.basename(bundle)}`;
  // the container inherits crun's stdio: a file, not a pipe that would stay open as long as it runs
  const errFile = path.join(bundle, 'stderr');
  const errFd = fs.openSync(errFile, 'w');
  try {
    const r = spawnSync('crun', ['--root', crunRoot, 'run', '-d', '--bundle', bundle, name], { stdio: ['ignore', 'ignore', errFd] });
    assert.equal(r.status, 0, `crun run: ${fs.readFileSync(errFile, 'utf8')}`);
    const state = JSON.parse(spawnSync('crun', ['--root', crunRoot, 'state', name], { encoding: 'utf8' }).stdout) as { pid: number };
    return filtersOf(state.pid);
  } finally {
    fs.closeSync(errFd);
    spawnSync('crun', ['--root', crunRoot, 'delete', '-f', name], { stdio: 'ignore' });
    fs.rmSync(bundle, { recursive: true, force: true });
  }
}

/** A container started with `opts`: the filter berth passed, the one installed, and crun's own. */
async function compare(opts: string[]): Promise<string> {
  const id = (await d.dockerOk(['run', '-d', '--network', 'none', ...opts, 'busybox', 'sleep', '300'])).trim();
  try {
    const installed = filtersOf(await pidOf(id));
    assert.equal(installed.length, 1, 'one filter, crun\'s');
    const passed = Buffer.from(configOf(id).annotations[ANNOTATION], 'base64');
    assert.equal(installed[0], `${passed.length / 8} ${passed.toString('hex')}`, 'the kernel holds the program berth passed');
    assert.ok(passed.length > 8 * 20, `a real program (${passed.length / 8} instructions)`);
    assert.deepEqual(crunCompiled(id), installed, `${opts.join(' ') || 'default'}: crun compiles the same program itself`);
    // and the comparison can fail: one name short, crun's own program is another one
    const short = crunCompiled(id, (s) => { s.syscalls = s.syscalls.map((r) => ({ ...r, names: r.names.filter((n) => n !== 'mkdirat') })); });
    assert.equal(short.length, 1);
    assert.notEqual(short[0], installed[0], 'without mkdirat');
    return installed[0];
  } finally {
    await d.docker(['rm', '-f', id]);
  }
}

const CUSTOM = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat', 'no_such_syscall_berth'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    // one argument twice: crun adds one rule per condition
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }, { index: 0, value: 131072, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_GE' }] },
    { names: ['setns'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0x40000000, valueTwo: 0x40000000, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['getpid'], action: 'SCMP_ACT_ALLOW' }, // the default action: skipped
    { names: ['uname'], action: 'SCMP_ACT_LOG' },
    { names: ['kexec_load'], action: 'SCMP_ACT_KILL_PROCESS' },
    { names: ['acct'], action: 'SCMP_ACT_TRAP' },
  ],
};

describe('seccomp under crun: the precompiled filter is the one crun compiles', { skip: (!haveCrun && 'needs crun 1.8+') || (!built && 'needs gcc') || false }, () => {
  test('the default profile under several capability sets', async () => {
    const seen = new Map<string, string>();
    for (const caps of [[], ['--cap-add', 'SYS_ADMIN'], ['--cap-drop', 'ALL'], ['--cap-add', 'ALL'], ['--cap-add', 'SYS_PTRACE', '--cap-add', 'SYSLOG', '--cap-add', 'SYS_TIME']]) {
      seen.set(caps.join(' ') || 'default', await compare(caps));
    }
    // the comparison tells filters apart: the capability-conditional rules make each one its own
    assert.equal(new Set(seen.values()).size, seen.size, [...seen.keys()].join(', '));
    // no-new-privileges moves where crun installs it (after the capabilities), not what
    assert.equal(await compare(['--security-opt', 'no-new-privileges']), seen.get('default'));
  });

  test('a custom profile: conditions, errnos, actions and a name libseccomp does not know', async () => {
    const file = path.join(work, 'custom.json');
    fs.writeFileSync(file, JSON.stringify(CUSTOM));
    await compare(['--security-opt', `seccomp=${file}`]);
    const r = await d.docker(['run', '--rm', '--network', 'none', '--security-opt', `seccomp=${file}`, 'busybox', 'mkdir', '/newdir']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/, 'mkdir answers EACCES, the profile\'s errnoRet');
  });

  test('a profile crun would refuse fails the start in crun\'s words, and the next start tries again', async () => {
    const file = path.join(work, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] }));
    const id = (await d.dockerOk(['create', '--network', 'none', '--security-opt', `seccomp=${file}`, 'busybox', 'true'])).trim();
    try {
      for (let i = 0; i < 2; i++) {
        const r = await d.docker(['start', id]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /OCI runtime create failed: seccomp: invalid seccomp action `SCMP_ACT_NOPE`/);
      }
    } finally {
      await d.docker(['rm', '-f', id]);
    }
  });

  test('an exec runs under the container\'s filter', async () => {
    const id = (await d.dockerOk(['run', '-d', '--network', 'none', 'busybox', 'sleep', '300'])).trim();
    try {
      const init = filtersOf(await pidOf(id));
      await d.dockerOk(['exec', '-d', id, 'sleep', '301']);
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        pid = execPid(await pidOf(id), 'sleep\u0000301\u0000');
        if (pid === undefined) await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(pid, 'the exec\'s process');
      assert.deepEqual(filtersOf(pid), init);
    } finally {
      await d.docker(['rm', '-f', id]);
    }
  });

  test('unconfined and --privileged: no filter and no program; runc: linux.seccomp alone', async () => {
    for (const opts of [['--security-opt', 'seccomp=unconfined'], ['--privileged']]) {
      const id = (await d.dockerOk(['run', '-d', '--network', 'none', ...opts, 'busybox', 'sleep', '300'])).trim();
      try {
        assert.deepEqual(filtersOf(await pidOf(id)), [], opts.join(' '));
        const spec = configOf(id);
        assert.equal(spec.annotations?.[ANNOTATION], undefined);
        assert.equal(spec.linux.seccomp, undefined);
      } finally {
        await d.docker(['rm', '-f', id]);
      }
    }
    const id = (await d.dockerOk(['run', '-d', '--network', 'none', '--runtime', 'runc', 'busybox', 'sleep', '300'])).trim();
    try {
      const spec = configOf(id);
      assert.equal(spec.annotations?.[ANNOTATION], undefined);
      assert.ok(spec.linux.seccomp.syscalls.flatMap((r: { names: string[] }) => r.names).length > 300, 'the whole profile');
      assert.equal(filtersOf(await pidOf(id)).length, 1, 'runc compiled and installed it');
    } finally {
      await d.docker(['rm', '-f', id]);
    }
  });
});
