// userns-remap through the real docker CLI: a berthd started with daemon.json
// `"userns-remap": "default"` runs every container in a user namespace whose root is the
// dockremap user's first subordinate id on the host, over a rootfs of idmapped layers (nothing
// chowned); --userns=host turns it off per container.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTHD, TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
let root: string;
/** dockremap's first subordinate uid and gid: container root on the host. */
let hostUid: number;
let hostGid: number;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-userns-files-'));

function firstRange(file: string, name: string): number {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `${name} in ${file}`);
  return Number(line.split(':')[1]);
}

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  // The remapped root reaches its rootfs through the data root: the parents must be searchable.
  fs.chmodSync(root, 0o711);
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({ 'cgroup-parent': `/berth-test-${path.basename(root)}`, 'userns-remap': 'default' }));
  d = new TestDaemon(root);
  await d.start();
  await d.ensureBusybox();
  hostUid = firstRange('/etc/subuid', 'dockremap');
  hostGid = firstRange('/etc/subgid', 'dockremap');
});
after(async () => {
  await d?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const docker = (...args: string[]) => d.docker(args);
const dockerOk = (...args: string[]) => d.dockerOk(args);

/** The real, effective, saved and fs uids of a host process (/proc/PID/status). */
function hostIds(pid: number, key: 'Uid' | 'Gid'): number[] {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`))!;
  return line.split(/\s+/).slice(1, 5).map(Number);
}

describe('userns-remap default', () => {
  test('dockremap exists with subordinate ranges, and docker info lists userns', async () => {
    assert.ok(hostUid > 0 && hostGid > 0);
    assert.match(fs.readFileSync('/etc/passwd', 'utf8'), /^dockremap:/m);
    const opts = JSON.parse(await dockerOk('info', '--format', '{{json .SecurityOptions}}')) as string[];
    assert.ok(opts.includes('name=userns'), opts.join(' '));
  });

  test('container root is the remapped uid on the host, and exec joins the namespace', async () => {
    const id = (await dockerOk('run', '-d', 'busybox', 'sleep', '1000')).trim();
    try {
      const pid = Number((await dockerOk('inspect', '-f', '{{.State.Pid}}', id)).trim());
      assert.deepEqual(hostIds(pid, 'Uid'), [hostUid, hostUid, hostUid, hostUid]);
      assert.deepEqual(hostIds(pid, 'Gid'), [hostGid, hostGid, hostGid, hostGid]);
      assert.equal((await dockerOk('exec', id, 'id', '-u')).trim(), '0');
      // the exec's namespace is the container's: its uid_map is the remapping
      const map = (await dockerOk('exec', id, 'cat', '/proc/self/uid_map')).trim().split(/\s+/).map(Number);
      assert.deepEqual(map, [0, hostUid, 65536]);
      // and it runs as the remapped uid on the host
      await dockerOk('exec', '-d', id, 'sleep', '999');
      let execPid: number | undefined;
      for (let i = 0; i < 100 && !execPid; i++) {
        execPid = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).find((p) => {
          try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u0000999\u0000'; } catch { return false; }
        });
        if (!execPid) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(execPid, 'the exec\'s process');
      assert.equal(hostIds(execPid, 'Uid')[0], hostUid);
    } finally {
      await docker('rm', '-f', id);
    }
  });

  test('--userns=host runs as host root; --privileged needs it', async () => {
    const map = (await dockerOk('run', '--rm', '--userns=host', 'busybox', 'cat', '/proc/self/uid_map')).trim().split(/\s+/).map(Number);
    assert.deepEqual(map, [0, 0, 4294967295]);
    const priv = await docker('run', '--rm', '--privileged', 'busybox', 'true');
    assert.notEqual(priv.code, 0);
    assert.match(priv.stderr, /privileged mode is incompatible with user namespaces/);
    const hostNet = await docker('run', '--rm', '--network', 'host', 'busybox', 'true');
    assert.match(hostNet.stderr, /cannot share the host's network namespace when user namespaces are enabled/);
    await dockerOk('run', '--rm', '--userns=host', '--privileged', 'busybox', 'true');
  });

  test('files written to a named volume land with the remapped owner on the host', async () => {
    const vol = `userns-vol-${path.basename(root)}`;
    try {
      await dockerOk('run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo hi > /data/f && mkdir /data/d && chown 5:6 /data/d');
      const mp = (await dockerOk('volume', 'inspect', '-f', '{{.Mountpoint}}', vol)).trim();
      const f = fs.statSync(path.join(mp, 'f'));
      assert.deepEqual([f.uid, f.gid], [hostUid, hostGid]);
      const dir = fs.statSync(path.join(mp, 'd'));
      assert.deepEqual([dir.uid, dir.gid], [hostUid + 5, hostGid + 6]);
      // a second container sees its own root's files
      assert.equal((await dockerOk('run', '--rm', '-v', `${vol}:/data`, 'busybox', 'stat', '-c', '%u %g', '/data/f')).trim(), '0 0');
      // copied up from the image: the image's owners, as host ids on the host
      assert.equal((await dockerOk('run', '--rm', '-v', `${vol}-bin:/bin`, 'busybox', 'stat', '-c', '%u %g', '/bin', '/bin/busybox')).trim(), '0 0\n0 0');
      const bin = (await dockerOk('volume', 'inspect', '-f', '{{.Mountpoint}}', `${vol}-bin`)).trim();
      assert.equal(fs.statSync(path.join(bin, 'busybox')).uid, hostUid);
      assert.equal(fs.statSync(bin).uid, hostUid);
    } finally {
      await docker('volume', 'rm', '-f', vol, `${vol}-bin`);
    }
  });

  test('a root-only host file bind-mounted in cannot be read by the remapped root', async () => {
    const secret = path.join(tmp, 'secret');
    fs.writeFileSync(secret, 'top secret\n', { mode: 0o600 });
    fs.chmodSync(tmp, 0o755);
    const r = await docker('run', '--rm', '-v', `${secret}:/secret`, 'busybox', 'cat', '/secret');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/);
    // inside, the host's root is nobody
    assert.equal((await dockerOk('run', '--rm', '-v', `${secret}:/secret`, 'busybox', 'stat', '-c', '%u', '/secret')).trim(), '65534');
    assert.equal(await dockerOk('run', '--rm', '--userns=host', '-v', `${secret}:/secret`, 'busybox', 'cat', '/secret'), 'top secret\n');
  });

  test('what container root writes in its rootfs is stored as uid 0: upper dir, diff, commit', async () => {
    const name = `userns-w-${path.basename(root)}`;
    const tag = `userns-commit-${path.basename(root)}`.toLowerCase();
    try {
      await dockerOk('run', '--name', name, 'busybox', 'sh', '-c', 'echo x > /made && mkdir /madedir && chown 7:8 /madedir && rm /bin/true && echo y >> /etc/group');
      const upper = (await dockerOk('inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', name)).trim();
      const made = fs.statSync(path.join(upper, 'made'));
      assert.deepEqual([made.uid, made.gid], [0, 0]);
      const dir = fs.statSync(path.join(upper, 'madedir'));
      assert.deepEqual([dir.uid, dir.gid], [7, 8]);
      // a copied-up file keeps the image's owner in the upper dir
      assert.equal(fs.statSync(path.join(upper, 'etc/group')).uid, 0);
      const diff = await dockerOk('diff', name);
      assert.match(diff, /^A \/made$/m);
      assert.match(diff, /^D \/bin\/true$/m);
      await dockerOk('commit', name, tag);
      // the committed layer holds container ids: seen without remapping, the owners are 0 and 7:8
      const out = await dockerOk('run', '--rm', '--userns=host', tag, 'sh', '-c', 'stat -c "%u %g" /made /madedir; test -e /bin/true || echo gone');
      assert.deepEqual(out.trim().split('\n'), ['0 0', '7 8', 'gone']);
      // and remapped, the same
      assert.equal((await dockerOk('run', '--rm', tag, 'stat', '-c', '%u %g', '/madedir')).trim(), '7 8');
    } finally {
      await docker('rm', '-f', name);
      await docker('rmi', '-f', tag);
    }
  });

  test('docker cp in and out of a remapped container speaks container ids; export too', async () => {
    const id = (await dockerOk('run', '-d', '-v', `/data`, 'busybox', 'sleep', '1000')).trim();
    try {
      const src = path.join(tmp, 'cp-in');
      fs.writeFileSync(src, 'in\n');
      fs.chownSync(src, 3, 4);
      await dockerOk('cp', '-a', src, `${id}:/cp-in`);
      await dockerOk('cp', '-a', src, `${id}:/data/cp-in`);
      // inside, the archive's ids; on the host, their remapped ids (volume) and container ids (upper dir)
      assert.equal((await dockerOk('exec', id, 'stat', '-c', '%u %g', '/cp-in', '/data/cp-in')).trim(), '3 4\n3 4');
      const upper = (await dockerOk('inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', id)).trim();
      assert.deepEqual([fs.statSync(path.join(upper, 'cp-in')).uid, fs.statSync(path.join(upper, 'cp-in')).gid], [3, 4]);
      const vol = (await dockerOk('inspect', '-f', '{{range .Mounts}}{{.Source}}{{end}}', id)).trim();
      assert.deepEqual([fs.statSync(path.join(vol, 'cp-in')).uid, fs.statSync(path.join(vol, 'cp-in')).gid], [hostUid + 3, hostGid + 4]);
      // out: a tar with container ids
      await dockerOk('exec', id, 'sh', '-c', 'echo out > /data/out && chown 9:10 /data/out');
      const tarOut = path.join(tmp, 'out.tar');
      fs.writeFileSync(tarOut, execFileSync('docker', ['cp', `${id}:/data/out`, '-'], { env: d.env }));
      assert.match(execFileSync('tar', ['-tvf', tarOut, '--numeric-owner'], { encoding: 'utf8' }), /^-\S+ 9\/10 /m);
      const exported = path.join(tmp, 'export.tar');
      await dockerOk('export', '-o', exported, id);
      const exp = execFileSync('tar', ['-tvf', exported, '--numeric-owner', 'bin/busybox', 'cp-in'], { encoding: 'utf8' });
      assert.match(exp, /^-\S+ 0\/0 .* bin\/busybox$/m);
      assert.match(exp, /^-\S+ 3\/4 .* cp-in$/m);
    } finally {
      await docker('rm', '-f', '-v', id);
    }
  });

  test('a build runs its RUN steps remapped and stores container ids', async () => {
    const ctx = path.join(tmp, 'build');
    const tag = `userns-build-${path.basename(root)}`.toLowerCase();
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY f /f\nRUN echo hi > /x && chown 5:6 /x && cat /proc/self/uid_map\n');
    fs.writeFileSync(path.join(ctx, 'f'), 'f');
    try {
      const out = await dockerOk('build', '-t', tag, ctx);
      assert.match(out, new RegExp(`^\\s*0\\s+${hostUid}\\s+65536$`, 'm'));
      assert.equal((await dockerOk('run', '--rm', '--userns=host', tag, 'stat', '-c', '%u %g', '/x', '/f')).trim(), '5 6\n0 0');
    } finally {
      await docker('rmi', '-f', tag);
    }
  });

  test('--network container:X joins X\'s user namespace too', async () => {
    const a = (await dockerOk('run', '-d', 'busybox', 'sleep', '1000')).trim();
    try {
      const nsA = (await dockerOk('exec', a, 'readlink', '/proc/self/ns/user')).trim();
      const nsB = (await dockerOk('run', '--rm', '--network', `container:${a}`, 'busybox', 'readlink', '/proc/self/ns/user')).trim();
      assert.equal(nsB, nsA);
    } finally {
      await docker('rm', '-f', a);
    }
  });

  test('a working directory made at start belongs to container root', async () => {
    const out = await dockerOk('run', '--rm', '-w', '/new/work', 'busybox', 'sh', '-c', 'stat -c "%u %g" . && touch f && echo ok');
    assert.deepEqual(out.trim().split('\n'), ['0 0', 'ok']);
  });
});

describe('berthd refuses what it cannot remap', () => {
  /** Starts berthd on `dataRoot` with daemon.json `json`; it must exit at once: its stderr. */
  function refused(json: object, dataRoot: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-userns-refuse-'));
    try {
      fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify(json));
      const r = spawnSync(BERTHD, ['--data-root', dataRoot, '--exec-root', path.join(dir, 'e'), '-H', `unix://${dir}/s.sock`, '--config-file', path.join(dir, 'daemon.json')], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 1, r.stderr);
      return r.stderr;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('an unknown user, as dockerd says it', () => {
    const err = refused({ 'userns-remap': 'no-such-user-berth' }, path.join(tmp, 'd1'));
    assert.match(err, /Error during uid lookup for "no-such-user-berth"/);
  });

  test('a data root the kernel cannot idmap (ramfs): no chowned fallback, a clear refusal', () => {
    const dataRoot = path.join(tmp, 'ramfs');
    fs.mkdirSync(dataRoot, { recursive: true });
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', dataRoot]);
    try {
      assert.match(refused({ 'userns-remap': 'default' }, dataRoot), /the data root's filesystem cannot be idmapped \(mount_setattr .*EINVAL/);
    } finally {
      execFileSync('umount', [dataRoot]);
    }
  });
});
