// The real docker CLI (28.2.2) driving berthd: run, lifecycle, inspection, errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as fs from 'node:fs';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);

describe('docker run', () => {
  test('prints output and exits 0', async () => {
    const r = await docker('run', '--rm', 'busybox', 'echo', 'hi');
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.code, 0);
  });

  test('propagates the exit code and removes the container with --rm', async () => {
    const r = await docker('run', '--rm', '--name', 'e2e-exit3', 'busybox', 'sh', '-c', 'exit 3');
    assert.equal(r.code, 3);
    const ps = await docker('ps', '-a', '--filter', 'name=e2e-exit3', '-q');
    assert.equal(ps.stdout.trim(), '');
  });

  test('stdout and stderr stay apart', async () => {
    const r = await docker('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2');
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('a missing command exits 127 with Docker\'s message', async () => {
    const r = await docker('run', '--rm', 'busybox', 'nonexistentcmd');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found in \$PATH/);
  });

  test('a non-executable command exits 126', async () => {
    const r = await docker('run', '--rm', 'busybox', '/etc');
    assert.equal(r.code, 126);
    assert.match(r.stderr, /permission denied/);
  });

  test('piped stdin reaches the process and closes', async () => {
    const r = await d.docker(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done >&2'], { input: 'hello\nworld\n' });
    assert.equal(r.stdout, 'hello\nworld\n');
    assert.equal(r.stderr, 'done\n');
    assert.equal(r.code, 0);
  });

  test('PID namespace: the command is PID 1 and sees only its processes', async () => {
    const r = await docker('run', '--rm', 'busybox', 'sh', '-c', 'echo $$; ls /proc | grep -c "^[0-9]"');
    const [pid, count] = r.stdout.trim().split('\n');
    assert.equal(pid, '1');
    assert.ok(Number(count) <= 3, `saw ${count} processes`);
  });

  test('hostname is the short ID unless set; -h sets it', async () => {
    const id = (await docker('create', 'busybox', 'hostname')).stdout.trim();
    const r = await docker('start', '-a', id);
    assert.equal(r.stdout.trim(), id.slice(0, 12));
    await docker('rm', id);
    const named = await docker('run', '--rm', '-h', 'myhost', 'busybox', 'hostname');
    assert.equal(named.stdout.trim(), 'myhost');
    // --domainname: the UTS NIS domain, and the full name in /etc/hosts, as Docker gives them
    const dom = await docker('run', '--rm', '-h', 'web', '--domainname', 'example.org', 'busybox', 'sh', '-c', 'cat /proc/sys/kernel/domainname; grep -c "web.example.org web" /etc/hosts');
    assert.equal(dom.stdout, 'example.org\n1\n', dom.stderr);
    const none = await docker('run', '--rm', 'busybox', 'cat', '/proc/sys/kernel/domainname');
    assert.equal(none.stdout.trim(), '(none)');
  });

  test('env, workdir, user and entrypoint', async () => {
    const r = await docker('run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', 'busybox', 'sh', '-c', 'echo $FOO $(pwd) $(id -u):$(id -g)');
    assert.equal(r.stdout.trim(), 'bar /tmp 1000:1000');
    const byName = await docker('run', '--rm', '-u', 'nobody', 'busybox', 'id', '-u');
    assert.equal(byName.stdout.trim(), '65534');
    const ep = await docker('run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint');
    assert.equal(ep.stdout.trim(), 'via entrypoint');
    const envFile = `${d.root}/env.list`;
    fs.writeFileSync(envFile, 'A=1\n# comment\nB=two\n');
    const ef = await docker('run', '--rm', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo $A $B');
    assert.equal(ef.stdout.trim(), '1 two');
  });

  test('writes stay in the container: another container of the image never sees them', async () => {
    await docker('run', '--name', 'e2e-writer', 'busybox', 'sh', '-c', 'echo secret > /etc/written');
    const other = await docker('run', '--rm', 'busybox', 'cat', '/etc/written');
    assert.notEqual(other.code, 0);
    await docker('rm', 'e2e-writer');
  });

  test('default security: capabilities, masked /proc paths, read-only /proc/sys', async () => {
    const caps = await docker('run', '--rm', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status');
    assert.match(caps.stdout, /CapEff:\s+00000000a80425fb/);
    const kcore = await docker('run', '--rm', 'busybox', 'sh', '-c', 'wc -c < /proc/timer_list');
    assert.equal(kcore.stdout.trim(), '0');
    const sys = await docker('run', '--rm', 'busybox', 'sh', '-c', 'echo 1 > /proc/sys/kernel/domainname');
    assert.notEqual(sys.code, 0);
    const priv = await docker('run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status');
    // Privileged gets every capability the daemon itself holds (this host withholds CAP_SYS_RESOURCE).
    const hostBnd = /CapBnd:\s+(\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    assert.equal(/CapEff:\s+(\w+)/.exec(priv.stdout)![1], hostBnd);
    const drop = await docker('run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'chown', '1', '/tmp');
    assert.notEqual(drop.code, 0);
    const nnp = await docker('run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status');
    assert.match(nnp.stdout, /NoNewPrivs:\s+1/);
  });

  test('--read-only rootfs', async () => {
    const r = await docker('run', '--rm', '--read-only', 'busybox', 'touch', '/x');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Read-only file system/);
  });

  test('network none and host', async () => {
    const none = await docker('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net');
    assert.equal(none.stdout.trim(), 'lo');
    const dflt = await docker('run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net');
    assert.equal(dflt.code, 0);
    const host = await docker('run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net | wc -l');
    assert.ok(Number(host.stdout.trim()) >= 1);
  });

  test('cgroup limits appear and are enforced: memory OOM gives 137 and OOMKilled', async () => {
    const r = await docker('run', '--name', 'e2e-oom', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived');
    assert.equal(r.code, 137);
    const oom = await docker('inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'e2e-oom');
    assert.equal(oom.stdout.trim(), 'true 137');
    await docker('rm', 'e2e-oom');
  });

  test('pids limit is enforced', async () => {
    // pids.max counts threads: runc init (Go) runs in the cgroup before the exec, and at a limit
    // of 5 a busy host's runc init could die of it ("cannot start a container that has stopped")
    const r = await docker('run', '--rm', '--pids-limit', '16', 'busybox', 'sh', '-c', 'for i in $(seq 1 24); do sleep 2 & done; wait');
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
  });

  test('cpu and memory limits land in the container cgroup', async () => {
    const id = (await docker('run', '-d', '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', 'busybox', 'sleep', '30')).stdout.trim();
    const ins = JSON.parse((await docker('inspect', id)).stdout)[0];
    assert.equal(ins.HostConfig.Memory, 67108864);
    assert.equal(ins.HostConfig.NanoCpus, 500000000);
    assert.equal(ins.HostConfig.PidsLimit, 50);
    const r = await docker('run', '--rm', '-m', '64m', '--cpus', '0.5', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max');
    assert.match(r.stdout, /67108864/);
    assert.match(r.stdout, /50000/);
    await docker('rm', '-f', id);
  });

  test('--init runs an init as PID 1', async () => {
    const r = await docker('run', '--rm', '--init', 'busybox', 'cat', '/proc/1/cmdline');
    assert.match(r.stdout, /docker-init/);
  });

  test('ulimits are applied', async () => {
    const r = await docker('run', '--rm', '--ulimit', 'nofile=512:1024', 'busybox', 'sh', '-c', 'ulimit -n');
    assert.equal(r.stdout.trim(), '512');
  });
});

describe('lifecycle', () => {
  test('detached run, ps, logs, stop, start, restart, rm', async () => {
    const id = (await docker('run', '-d', '--name', 'e2e-life', '-l', 'e2e=1', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done')).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = await docker('ps', '--filter', 'label=e2e=1', '--format', '{{.ID}} {{.Names}} {{.Status}}');
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} e2e-life Up`));
    await new Promise((r) => setTimeout(r, 700));
    const logs = await docker('logs', 'e2e-life');
    assert.match(logs.stdout, /^line 0\nline 1\n/);
    const tail = await docker('logs', '--tail', '1', 'e2e-life');
    assert.equal(tail.stdout.trim().split('\n').length, 1);
    const ts = await docker('logs', '-t', '--tail', '1', 'e2e-life');
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+\n$/);
    assert.equal((await docker('start', 'e2e-life')).code, 0); // 304: still prints the name
    const stop = await docker('stop', '-t', '5', 'e2e-life');
    assert.equal(stop.stdout.trim(), 'e2e-life');
    assert.equal((await docker('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'e2e-life')).stdout.trim(), 'exited 0');
    assert.equal((await docker('stop', 'e2e-life')).code, 0);
    await docker('start', 'e2e-life');
    assert.equal((await docker('inspect', '-f', '{{.State.Running}}', 'e2e-life')).stdout.trim(), 'true');
    const pid1 = (await docker('inspect', '-f', '{{.State.Pid}}', 'e2e-life')).stdout.trim();
    await docker('restart', '-t', '1', 'e2e-life');
    const pid2 = (await docker('inspect', '-f', '{{.State.Pid}}', 'e2e-life')).stdout.trim();
    assert.notEqual(pid1, pid2);
    const rmRunning = await docker('rm', 'e2e-life');
    assert.equal(rmRunning.code, 1);
    assert.match(rmRunning.stderr, /You cannot remove a running container/);
    assert.equal((await docker('rm', '-f', 'e2e-life')).code, 0);
    assert.equal((await docker('ps', '-aq', '--filter', 'name=e2e-life')).stdout.trim(), '');
  });

  test('stop escalates to SIGKILL after the timeout', async () => {
    await docker('run', '-d', '--name', 'e2e-stubborn', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 1; done');
    const t0 = Date.now();
    await docker('stop', '-t', '1', 'e2e-stubborn');
    assert.ok(Date.now() - t0 < 8000);
    assert.equal((await docker('inspect', '-f', '{{.State.ExitCode}}', 'e2e-stubborn')).stdout.trim(), '137');
    await docker('rm', 'e2e-stubborn');
  });

  test('kill with a signal, wait, pause/unpause, rename, top, stats', async () => {
    await docker('run', '-d', '--name', 'e2e-k', 'busybox', 'sh', '-c', 'trap "exit 7" USR1; while true; do sleep 0.1; done');
    const waiting = docker('wait', 'e2e-k');
    await docker('pause', 'e2e-k');
    assert.equal((await docker('inspect', '-f', '{{.State.Status}}', 'e2e-k')).stdout.trim(), 'paused');
    assert.match((await docker('ps', '--filter', 'name=e2e-k', '--format', '{{.Status}}')).stdout, /\(Paused\)/);
    await docker('unpause', 'e2e-k');
    const top = await docker('top', 'e2e-k');
    assert.match(top.stdout, /PID/);
    assert.match(top.stdout, /sleep|sh -c/);
    const stats = await docker('stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'e2e-k');
    assert.match(stats.stdout, /^e2e-k \S+ \/ \S+ \d+/);
    await docker('rename', 'e2e-k', 'e2e-k2');
    assert.equal((await docker('inspect', '-f', '{{.Name}}', 'e2e-k2')).stdout.trim(), '/e2e-k2');
    await docker('kill', '-s', 'USR1', 'e2e-k2');
    assert.equal((await waiting).stdout.trim(), '7');
    const notRunning = await docker('kill', 'e2e-k2');
    assert.match(notRunning.stderr, /is not running/);
    await docker('rm', 'e2e-k2');
  });

  test('create then start -a, inspect shape', async () => {
    const id = (await docker('create', '--name', 'e2e-c', '-e', 'X=1', 'busybox', 'sh', '-c', 'echo started $X')).stdout.trim();
    const ins = JSON.parse((await docker('inspect', 'e2e-c')).stdout)[0];
    assert.equal(ins.Id, id);
    assert.equal(ins.Name, '/e2e-c');
    assert.equal(ins.State.Status, 'created');
    assert.equal(ins.Config.Hostname, id.slice(0, 12));
    assert.equal(ins.GraphDriver.Name, 'overlay2');
    assert.ok(ins.GraphDriver.Data.UpperDir);
    assert.deepEqual(ins.HostConfig.MaskedPaths.slice(0, 2), ['/proc/asound', '/proc/acpi']);
    assert.ok(ins.Config.Env.includes('X=1'));
    const r = await docker('start', '-a', 'e2e-c');
    assert.equal(r.stdout, 'started 1\n');
    const conflict = await docker('create', '--name', 'e2e-c', 'busybox');
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Conflict. The container name "\/e2e-c" is already in use/);
    assert.equal((await docker('rm', id.slice(0, 8))).code, 0);
  });

  test('ps filters, formats and container prune', async () => {
    await docker('run', '--name', 'e2e-p1', '-l', 'grp=p', 'busybox', 'true');
    await docker('run', '--name', 'e2e-p2', '-l', 'grp=p', 'busybox', 'sh', '-c', 'exit 2');
    const exited2 = await docker('ps', '-a', '--filter', 'exited=2', '--format', '{{.Names}}');
    assert.equal(exited2.stdout.trim(), 'e2e-p2');
    const json = await docker('ps', '-a', '--filter', 'label=grp=p', '--format', '{{json .}}');
    assert.equal(json.stdout.trim().split('\n').length, 2);
    const ancestor = await docker('ps', '-a', '--filter', 'ancestor=busybox', '-q');
    assert.ok(ancestor.stdout.trim().split('\n').length >= 2);
    const prune = await docker('container', 'prune', '-f', '--filter', 'label=grp=p');
    assert.match(prune.stdout, /Deleted Containers:/);
    assert.equal((await docker('ps', '-aq', '--filter', 'label=grp=p')).stdout.trim(), '');
  });

  test('errors: missing containers and images, invalid memory', async () => {
    const rm = await docker('rm', 'e2e-nope');
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /No such container: e2e-nope/);
    const mem = await docker('run', '--rm', '-m', '1k', 'busybox', 'true');
    assert.equal(mem.code, 125);
    assert.match(mem.stderr, /Minimum memory limit allowed is 6MB/);
    const inspect = await docker('inspect', 'e2e-nothing');
    assert.equal(inspect.code, 1);
    assert.match(inspect.stderr, /No such object: e2e-nothing/);
  });

  test('a start that fails before the runtime\'s create leaves no shim, bundle or mount', async () => {
    // The shim is started at the start's beginning and waits for its bundle: the failed user
    // lookup (after it) must end it.
    const id = (await d.dockerOk(['create', '-u', 'e2e-nosuchuser', 'busybox', 'true'])).trim();
    const shims = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`--cid\0${id}`); } catch { return false; }
    });
    for (let i = 0; i < 2; i++) {
      const r = await docker('start', id);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /unable to find user e2e-nosuchuser/);
      for (let n = 0; n < 50 && shims().length; n++) await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(shims(), [], 'no conmon left');
      assert.equal(fs.existsSync(`${d.execRoot}/bundles/${id}`), false, 'no bundle');
      assert.equal(fs.existsSync(`${d.execRoot}/shim/${id}`), false, 'no shim dir');
      assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'the rootfs is not mounted');
    }
    assert.equal((await d.dockerOk(['inspect', '-f', '{{.State.Status}}', id])).trim(), 'created');
    await d.dockerOk(['rm', id]);
  });

  test('a start prepared at create (--network none) and never taken is undone whole; rm, cp, rename and a later start each find it right', async () => {
    const shims = (id: string) => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`--cid\0${id}`); } catch { return false; }
    });
    const assertNothingOf = async (id: string, what: string) => {
      for (let n = 0; n < 50 && shims(id).length; n++) await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(shims(id), [], `${what}: no conmon left`);
      assert.equal(fs.existsSync(`${d.execRoot}/bundles/${id}`), false, `${what}: no bundle`);
      assert.equal(fs.existsSync(`${d.execRoot}/shim/${id}`), false, `${what}: no shim dir`);
      assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(id), `${what}: the rootfs is not mounted`);
    };
    const create = async (...args: string[]) => (await d.dockerOk(['create', '--network', 'none', ...args])).trim();

    // No start within the window (2 s): undone; a start after it prepares anew.
    const late = await create('busybox', 'echo', 'late');
    await new Promise((res) => setTimeout(res, 3000));
    await assertNothingOf(late, 'not started');
    assert.equal(await d.dockerOk(['start', '-a', late]), 'late\n');
    await d.dockerOk(['rm', late]);

    // Removed before any start.
    const gone = await create('busybox', 'true');
    await d.dockerOk(['rm', gone]);
    await assertNothingOf(gone, 'removed');

    // A copy into it changes what the start reads (its account files): the start sees the copy.
    const user = await create('-u', 'e2e-early', 'busybox', 'id', '-u');
    const passwd = `${d.root}/early-passwd`;
    fs.writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\ne2e-early:x:4321:4321::/:/bin/sh\n');
    await d.dockerOk(['cp', passwd, `${user}:/etc/passwd`]);
    assert.equal(await d.dockerOk(['start', '-a', user]), '4321\n');
    await d.dockerOk(['rm', user]);

    // Renamed in between: started under its new name, nothing of the first preparation left.
    const renamed = await create('--name', 'e2e-early-a', 'busybox', 'echo', 'renamed');
    await d.dockerOk(['rename', 'e2e-early-a', 'e2e-early-b']);
    assert.equal(await d.dockerOk(['start', '-a', 'e2e-early-b']), 'renamed\n');
    await d.dockerOk(['rm', 'e2e-early-b']);
    await assertNothingOf(renamed, 'renamed and removed');
  });

  test('events stream with filters', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await docker('run', '--rm', '-l', 'ev=1', 'busybox', 'true');
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await docker('events', '--since', String(since), '--until', String(until), '--filter', 'label=ev=1', '--format', '{{.Action}}');
    const actions = ev.stdout.trim().split('\n');
    for (const a of ['create', 'start', 'die', 'destroy']) assert.ok(actions.includes(a), `missing ${a} in ${actions}`);
  });
});
