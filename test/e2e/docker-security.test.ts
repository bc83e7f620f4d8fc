// Confinement through the real docker CLI: the default seccomp profile on every container and
// exec, unconfined and custom profiles, the daemon's defaults, capabilities, no-new-privileges,
// AppArmor/SELinux options on a host with neither, and nothing of the daemon leaking inside.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

// berthd inherits this: no container may see it.
const PROBE = `BERTH_LEAK_PROBE_${process.pid}`;
process.env[PROBE] = 'daemon-secret';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const docker = (...args: string[]) => d.docker(args);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-seccomp-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
/** A profile in Docker's format that allows everything but mkdir. */
const noMkdir = path.join(tmp, 'no-mkdir.json');
fs.writeFileSync(noMkdir, JSON.stringify({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
}, null, 2));

const seccompMode = (out: string) => /Seccomp:\s+(\d)/.exec(out)?.[1];
const capEff = (out: string) => /CapEff:\s+(\w+)/.exec(out)?.[1];

describe('seccomp', () => {
  test('the default profile filters every container; unconfined and --privileged do not', async () => {
    const def = await docker('run', '--rm', 'busybox', 'grep', 'Seccomp', '/proc/self/status');
    assert.equal(def.code, 0, def.stderr);
    assert.equal(seccompMode(def.stdout), '2');
    const unconf = await docker('run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp', '/proc/self/status');
    assert.equal(seccompMode(unconf.stdout), '0');
    const priv = await docker('run', '--rm', '--privileged', 'busybox', 'grep', 'Seccomp', '/proc/self/status');
    assert.equal(seccompMode(priv.stdout), '0');
    const builtin = await docker('run', '--rm', '--security-opt', 'seccomp=builtin', 'busybox', 'grep', 'Seccomp', '/proc/self/status');
    assert.equal(seccompMode(builtin.stdout), '2');
  });

  test('a syscall the default profile forbids fails with EPERM, and works unconfined', async () => {
    // unshare(CLONE_NEWUSER) needs no capability: only the profile stops it.
    const def = await docker('run', '--rm', 'busybox', 'unshare', '-U', 'true');
    assert.notEqual(def.code, 0);
    assert.match(def.stderr, /Operation not permitted/);
    const unconf = await docker('run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-U', 'true');
    assert.equal(unconf.code, 0, unconf.stderr);
  });

  test('capability-conditional rules follow the container\'s capabilities', async () => {
    // with CAP_SYS_ADMIN the profile allows unshare (and clone with namespace flags)
    const admin = await docker('run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'unshare', '-U', 'true');
    assert.equal(admin.code, 0, admin.stderr);
    // chroot is allowed only with CAP_SYS_CHROOT (a default capability): dropping it makes the profile refuse it too
    const chroot = await docker('run', '--rm', 'busybox', 'chroot', '/', 'true');
    assert.equal(chroot.code, 0, chroot.stderr);
    const noChroot = await docker('run', '--rm', '--cap-drop', 'SYS_CHROOT', 'busybox', 'chroot', '/', 'true');
    assert.notEqual(noChroot.code, 0);
    assert.match(noChroot.stderr, /Operation not permitted/);
  });

  test('a custom profile from a file: forbidding mkdir makes mkdir fail', async () => {
    const r = await docker('run', '--rm', '--security-opt', `seccomp=${noMkdir}`, 'busybox', 'mkdir', '/newdir');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
    const ok = await docker('run', '--rm', 'busybox', 'mkdir', '/newdir');
    assert.equal(ok.code, 0, ok.stderr);
    // the CLI sent the file's JSON; inspect shows it as sent
    const id = (await docker('create', '--security-opt', `seccomp=${noMkdir}`, 'busybox', 'true')).stdout.trim();
    try {
      const opts = JSON.parse((await docker('inspect', '-f', '{{json .HostConfig.SecurityOpt}}', id)).stdout) as string[];
      assert.equal(opts.length, 1);
      assert.deepEqual(JSON.parse(opts[0].slice('seccomp='.length)), JSON.parse(fs.readFileSync(noMkdir, 'utf8')));
    } finally {
      await docker('rm', '-f', id);
    }
  });

  test('exec runs under the container\'s profile', async () => {
    const id = (await docker('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    try {
      const st = await docker('exec', id, 'grep', 'Seccomp', '/proc/self/status');
      assert.equal(seccompMode(st.stdout), '2');
      const un = await docker('exec', id, 'unshare', '-U', 'true');
      assert.notEqual(un.code, 0);
      assert.match(un.stderr, /Operation not permitted/);
    } finally {
      await docker('rm', '-f', id);
    }
    const custom = (await docker('run', '-d', '--security-opt', `seccomp=${noMkdir}`, 'busybox', 'sleep', '300')).stdout.trim();
    try {
      const mk = await docker('exec', custom, 'mkdir', '/x');
      assert.notEqual(mk.code, 0);
      assert.match(mk.stderr, /Operation not permitted/);
    } finally {
      await docker('rm', '-f', custom);
    }
  });

  test('a profile that is not JSON is refused at create with a 400', async () => {
    const r = await d.request('POST', '/v1.44/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: ['seccomp={not json'] } });
    assert.equal(r.status, 400);
    assert.match(r.json<{ message: string }>().message, /^Decoding seccomp profile failed: /);
    const both = await d.request('POST', '/v1.44/containers/create', {
      Image: 'busybox', Cmd: ['true'],
      HostConfig: { SecurityOpt: ['seccomp=' + JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }] })] },
    });
    assert.equal(both.status, 400);
    assert.match(both.json<{ message: string }>().message, /'architectures' and 'archMap'/);
  });

  test('docker info lists seccomp with its profile, and neither AppArmor nor SELinux', async () => {
    const r = await docker('info', '--format', '{{json .SecurityOptions}}');
    const opts = JSON.parse(r.stdout) as string[];
    assert.ok(opts.includes('name=seccomp,profile=builtin'), r.stdout);
    assert.ok(!opts.some((o) => /apparmor|selinux/.test(o)), r.stdout);
  });
});

describe('capabilities and privileges', () => {
  test('--cap-add/--cap-drop take ALL and names with or without CAP_, in any case', async () => {
    const none = await docker('run', '--rm', '--cap-drop', 'ALL', 'busybox', 'grep', 'CapEff', '/proc/self/status');
    assert.equal(capEff(none.stdout), '0000000000000000');
    const chownOnly = await docker('run', '--rm', '--cap-drop', 'all', '--cap-add', 'CAP_CHOWN', 'busybox', 'grep', 'CapEff', '/proc/self/status');
    assert.equal(capEff(chownOnly.stdout), '0000000000000001');
    const hostBnd = /CapBnd:\s+(\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    const all = await docker('run', '--rm', '--cap-add', 'ALL', 'busybox', 'grep', 'CapEff', '/proc/self/status');
    assert.equal(capEff(all.stdout), hostBnd);
    const dropped = await docker('run', '--rm', '--cap-drop', 'cap_chown', 'busybox', 'chown', '1', '/tmp');
    assert.notEqual(dropped.code, 0);
    const bad = await docker('run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown capability: "CAP_NOT_A_CAP"/);
  });

  test('no-new-privileges with and without a value', async () => {
    for (const [opt, want] of [['no-new-privileges', '1'], ['no-new-privileges=true', '1'], ['no-new-privileges=false', '0']]) {
      const r = await docker('run', '--rm', '--security-opt', opt, 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status');
      assert.match(r.stdout, new RegExp(`NoNewPrivs:\\s+${want}`), opt);
    }
    const bad = await docker('run', '--rm', '--security-opt', 'no-new-privileges=maybe', 'busybox', 'true');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid --security-opt 2: "no-new-privileges=maybe"/);
  });

  test('apparmor= and label= are taken as Docker takes them on a host with neither', async () => {
    const r = await docker('run', '--rm', '--security-opt', 'apparmor=docker-default', '--security-opt', 'label=type:svirt_apache_t', 'busybox', 'true');
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('nothing of the daemon leaks into a container', () => {
  test('no descriptor of berthd or conmon in the container\'s init or in an exec', async () => {
    const id = (await docker('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    try {
      const init = await docker('exec', id, 'ls', '/proc/1/fd');
      assert.equal(init.code, 0, init.stderr);
      assert.deepEqual(init.stdout.split(/\s+/).filter(Boolean).sort(), ['0', '1', '2']);
      // the exec's shell: only its stdio (`; true` keeps sh from exec'ing ls, whose own fd 3 reads the directory)
      const ex = await docker('exec', id, 'sh', '-c', 'ls /proc/$$/fd; true');
      assert.deepEqual(ex.stdout.split(/\s+/).filter(Boolean).sort(), ['0', '1', '2']);
      const exTty = await docker('exec', id, 'sh', '-c', 'ls -l /proc/1/fd /proc/$$/fd; true');
      assert.doesNotMatch(exTty.stdout, /berth|conmon|socket:|\/run\/|\/var\/lib/, 'a descriptor names a host path or socket');
    } finally {
      await docker('rm', '-f', id);
    }
  });

  test('no environment variable of the daemon', async () => {
    const r = await docker('run', '--rm', 'busybox', 'env');
    assert.equal(r.code, 0, r.stderr);
    const keys = r.stdout.split('\n').filter(Boolean).map((l) => l.split('=')[0]).sort();
    assert.deepEqual(keys, ['HOME', 'HOSTNAME', 'PATH']);
    assert.doesNotMatch(r.stdout, new RegExp(PROBE));
    const id = (await docker('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    try {
      const ex = await docker('exec', id, 'env');
      assert.doesNotMatch(ex.stdout, new RegExp(PROBE));
      assert.deepEqual(ex.stdout.split('\n').filter(Boolean).map((l) => l.split('=')[0]).sort(), ['HOME', 'HOSTNAME', 'PATH']);
    } finally {
      await docker('rm', '-f', id);
    }
  });
});

describe('the daemon\'s defaults (daemon.json)', () => {
  test('seccomp-profile and no-new-privileges apply to every container, and docker info says so', async () => {
    const conf = path.join(d.root, 'daemon.json');
    const saved = fs.readFileSync(conf, 'utf8');
    await d.stopDaemon();
    fs.writeFileSync(conf, JSON.stringify({ ...JSON.parse(saved), 'seccomp-profile': noMkdir, 'no-new-privileges': true }));
    try {
      await d.start();
      const mk = await docker('run', '--rm', 'busybox', 'mkdir', '/newdir');
      assert.notEqual(mk.code, 0);
      assert.match(mk.stderr, /Operation not permitted/);
      const builtin = await docker('run', '--rm', '--security-opt', 'seccomp=builtin', 'busybox', 'mkdir', '/newdir');
      assert.equal(builtin.code, 0, builtin.stderr);
      const nnp = await docker('run', '--rm', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status');
      assert.match(nnp.stdout, /NoNewPrivs:\s+1/);
      const off = await docker('run', '--rm', '--security-opt', 'no-new-privileges=false', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status');
      assert.match(off.stdout, /NoNewPrivs:\s+0/);
      const opts = JSON.parse((await docker('info', '--format', '{{json .SecurityOptions}}')).stdout) as string[];
      assert.ok(opts.includes(`name=seccomp,profile=${noMkdir}`), opts.join(' '));
      assert.ok(opts.includes('name=no-new-privileges'), opts.join(' '));
    } finally {
      await d.stopDaemon();
      fs.writeFileSync(conf, saved);
      await d.start();
    }
  });
});
