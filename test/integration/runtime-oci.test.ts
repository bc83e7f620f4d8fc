// Real runc or crun (the suite's runtime) + conmon: bundles from buildSpec, stdio through conmon's attach socket, exit files,
// signals, pause/resume, OOM, cgroup stats, cleanup. Needs root.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { OciRuntime } from '../../src/runtime/OciRuntime';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../src/runtime/defaults';
import { cgroupExists, readCgroupStats, systemCpuUsageNs, cgroupVersion } from '../../src/runtime/cgroups';
import type { AttachStream, ContainerSpecInput, RuntimeConfig } from '../../src/runtime/types';
import { ConflictError } from '../../src/lib/errors';
import { RuntimeError } from '../../src/runtime/errors';
import { expectedDefaultRuntime } from '../helpers/daemon';

// the suite's runtime (crun where it can run, else runc; BERTH_TEST_RUNTIME chooses)
const RUNTIME: RuntimeConfig = expectedDefaultRuntime() === 'crun' ? { name: 'crun', path: '/usr/bin/crun' } : { name: 'runc', path: '/usr/sbin/runc' };
const CGROUP_PARENT = '/berth-test-' + process.pid;

let tmp: string;
let rootfs: string;
let rt: OciRuntime;
const created: { id: string; cgroupsPath: string }[] = [];

function makeRootfs(dir: string): void {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync('/usr/bin/busybox', path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/usr/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

function specInput(id: string, args: string[], over: Partial<ContainerSpecInput> = {}, terminal = false): ContainerSpecInput {
  return {
    id,
    rootfs,
    readonlyRootfs: false,
    hostname: id.slice(0, 12),
    process: {
      args,
      env: ['PATH=/bin', 'HOME=/root', ...(terminal ? ['TERM=xterm'] : [])],
      cwd: '/',
      uid: 0,
      gid: 0,
      additionalGids: [],
      terminal,
      consoleSize: terminal ? { height: 24, width: 80 } : undefined,
      noNewPrivileges: false,
      capabilities: [...DEFAULT_CAPABILITIES],
      // asks for more than the hard limit of this host (20000): must be clamped
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }],
    },
    privileged: false,
    namespaces: { network: { mode: 'private' }, ipc: { mode: 'private' }, pid: { mode: 'private' }, uts: { mode: 'private' } },
    mounts: [],
    resources: {},
    maskedPaths: [...DEFAULT_MASKED_PATHS],
    readonlyPaths: [...DEFAULT_READONLY_PATHS],
    cgroupsPath: `${CGROUP_PARENT}/${id}`,
    shmSize: 64 * 1024 * 1024,
    ...over,
  };
}

interface Started {
  id: string;
  bundle: string;
  logPath: string;
  pid: number;
  cgroupsPath: string;
}

async function createTask(args: string[], opts: {
  over?: Partial<ContainerSpecInput>; terminal?: boolean; openStdin?: boolean; stdinOnce?: boolean; bundle?: string;
} = {}): Promise<Started> {
  const id = newId();
  const bundle = opts.bundle ?? path.join(tmp, 'b', id.slice(0, 16));
  const input = specInput(id, args, opts.over, opts.terminal ?? false);
  created.push({ id, cgroupsPath: input.cgroupsPath });
  await rt.writeBundle(bundle, input);
  const logPath = path.join(tmp, 'logs', id + '.log');
  const { pid } = await rt.create({
    id, bundleDir: bundle, runtime: RUNTIME, terminal: opts.terminal ?? false,
    openStdin: opts.openStdin ?? false, stdinOnce: opts.stdinOnce ?? false, logPath,
  });
  return { id, bundle, logPath, pid, cgroupsPath: input.cgroupsPath };
}

function collect(s: AttachStream): Promise<{ stdout: Buffer; stderr: Buffer }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  s.on('stdout', (b: Buffer) => out.push(b));
  s.on('stderr', (b: Buffer) => err.push(b));
  return new Promise((resolve) => s.once('end', () => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err) })));
}

async function destroy(t: Started): Promise<void> {
  await rt.delete(t.id, RUNTIME, true);
  await rt.cleanup(t.id);
}

function processesMentioning(id: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brt-'));
  rootfs = path.join(tmp, 'rootfs');
  makeRootfs(rootfs);
  rt = new OciRuntime({ conmonPath: '/usr/bin/conmon', execRoot: path.join(tmp, 'exec') });
});

after(async () => {
  for (const c of created) {
    await rt.delete(c.id, RUNTIME, true).catch(() => undefined);
    await rt.cleanup(c.id).catch(() => undefined);
  }
  rt.close();
  // the per-test cgroup parent (runc leaves parents in place)
  for (const ctrl of cgroupVersion() === 2 ? [''] : fs.readdirSync('/sys/fs/cgroup')) {
    try { fs.rmdirSync(path.join('/sys/fs/cgroup', ctrl, CGROUP_PARENT)); } catch { /* absent */ }
  }
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.ok(!mounts.includes(tmp), 'no mounts left under the test dir');
});

test('stdin, separate stdout/stderr, exit code, k8s-file log', async () => {
  const t = await createTask(['sh', '-c', 'cat; echo err >&2; exit 3'], { openStdin: true, stdinOnce: true });
  assert.ok(t.pid > 0);
  const st = await rt.state(t.id, RUNTIME);
  assert.equal(st?.status, 'created');
  const a = await rt.attach(t.id, { stdin: true });
  const got = collect(a);
  // more than a pipe buffer and more than one conmon packet, to exercise backpressure and chunking
  const input = Buffer.concat([Buffer.from('hello\n'), randomBytes(300 * 1024).toString('base64').match(/.{1,76}/g)!.map((l) => Buffer.from(l + '\n'))].flat());
  a.write(input);
  a.endStdin();
  await rt.start(t.id, RUNTIME);
  const { stdout, stderr } = await got;
  const exit = await rt.waitExit(t.id);
  assert.equal(exit.exitCode, 3);
  assert.equal(exit.oomKilled, false);
  assert.ok(Math.abs(exit.exitedAt.getTime() - Date.now()) < 10000);
  assert.equal(stdout.length, input.length);
  assert.ok(stdout.equals(input), 'stdout is stdin, complete and in order');
  assert.equal(stderr.toString(), 'err\n');
  // the exit record stays readable
  assert.deepEqual((await rt.readExit(t.id))?.exitCode, 3);
  const log = fs.readFileSync(t.logPath, 'utf8').split('\n').filter(Boolean);
  assert.match(log[0], /^\d{4}-\d\d-\d\dT\S+ stdout [FP] hello$/);
  assert.ok(log.some((l) => / stderr F err$/.test(l)));
  await assert.rejects(rt.kill(t.id, 15, RUNTIME), ConflictError);
  await destroy(t);
  assert.equal(await rt.state(t.id, RUNTIME), undefined);
  assert.equal(await rt.readExit(t.id), undefined);
  assert.equal(cgroupExists(t.cgroupsPath), false);
  assert.deepEqual(processesMentioning(t.id), []);
  assert.ok(!fs.existsSync(path.join(t.bundle, 'attach')));
  // idempotent
  await rt.delete(t.id, RUNTIME);
});

test('output written just before exit is complete; several attached clients; long socket path', async () => {
  const long = path.join(tmp, 'b', 'x'.repeat(60), 'y'.repeat(60));
  const t = await createTask(['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line-$i; echo eline-$i >&2; i=$((i+1)); done'], { bundle: long });
  assert.ok(path.join(long, 'attach').length > 108);
  const a1 = await rt.attach(t.id, { stdin: false });
  const a2 = await rt.attach(t.id, { stdin: false });
  const g1 = collect(a1);
  const g2 = collect(a2);
  await rt.start(t.id, RUNTIME);
  const [r1, r2, exit] = await Promise.all([g1, g2, rt.waitExit(t.id)]);
  assert.equal(exit.exitCode, 0);
  const want = Array.from({ length: 2000 }, (_, i) => `line-${i}\n`).join('');
  const ewant = Array.from({ length: 2000 }, (_, i) => `eline-${i}\n`).join('');
  for (const r of [r1, r2]) {
    assert.equal(r.stdout.toString(), want);
    assert.equal(r.stderr.toString(), ewant);
  }
  await destroy(t);
});

test('a shim slow to reach its main loop: every client attached before start gets all output', async () => {
  // conmon accepts one attach connection per turn of its main loop and sends output only to the
  // clients accepted so far; a loaded machine can leave it behind berthd's connect + start. Held
  // here with SIGSTOP right after create, resumed a little later: attach must wait for the accept.
  const t = await createTask(['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line-$i; echo eline-$i >&2; i=$((i+1)); done']);
  const conmon = Number(fs.readFileSync(path.join(rt.shimDir, t.id, 'conmon.pid'), 'utf8'));
  process.kill(conmon, 'SIGSTOP');
  const resume = setTimeout(() => process.kill(conmon, 'SIGCONT'), 300);
  try {
    const streams = await Promise.all([1, 2, 3].map(() => rt.attach(t.id, { stdin: false })));
    const got = streams.map(collect);
    await rt.start(t.id, RUNTIME);
    const results = await Promise.all(got);
    assert.equal((await rt.waitExit(t.id)).exitCode, 0);
    const want = Array.from({ length: 2000 }, (_, i) => `line-${i}\n`).join('');
    const ewant = Array.from({ length: 2000 }, (_, i) => `eline-${i}\n`).join('');
    for (const r of results) {
      assert.equal(r.stdout.toString(), want);
      assert.equal(r.stderr.toString(), ewant);
    }
  } finally {
    clearTimeout(resume);
    process.kill(conmon, 'SIGCONT');
  }
  await destroy(t);
});

test('attach to a shim that went away before accepting is a Conflict', async () => {
  const t = await createTask(['true']);
  const conmon = Number(fs.readFileSync(path.join(rt.shimDir, t.id, 'conmon.pid'), 'utf8'));
  process.kill(conmon, 'SIGSTOP');
  const pending = rt.attach(t.id, { stdin: false });
  await new Promise((r) => setImmediate(r)); // connect() is done: we are in conmon's backlog
  // conmon dies with the connection still in its backlog: the kernel resets it.
  process.kill(conmon, 'SIGKILL');
  await assert.rejects(pending, ConflictError);
  await destroy(t);
});

test('tty: isatty, initial size, resize', async () => {
  const t = await createTask(['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo is-a-tty; stty size; read x; stty size; exit 0'],
    { terminal: true, openStdin: true, stdinOnce: false });
  const a = await rt.attach(t.id, { stdin: true });
  let out = '';
  let stderrBytes = 0;
  a.on('stdout', (b: Buffer) => { out += b.toString(); });
  a.on('stderr', (b: Buffer) => { stderrBytes += b.length; });
  const ended = new Promise<void>((r) => a.once('end', () => r()));
  await rt.start(t.id, RUNTIME);
  await waitFor(() => out.includes('24 80'));
  assert.match(out, /is-a-tty\r\n24 80\r\n/);
  await rt.resize(t.id, 50, 132);
  await new Promise((r) => setTimeout(r, 50));
  a.write(Buffer.from('go\n'));
  const exit = await rt.waitExit(t.id);
  await ended;
  assert.equal(exit.exitCode, 0);
  assert.match(out, /50 132\r\n/);
  assert.equal(stderrBytes, 0, 'a tty has no separate stderr');
  await destroy(t);
  await assert.rejects(rt.resize(t.id, 10, 10));
});

test('kill with a signal, pause/resume, pids, state', async () => {
  const t = await createTask(['sleep', '1000']);
  await rt.start(t.id, RUNTIME);
  assert.deepEqual(await rt.state(t.id, RUNTIME), { status: 'running', pid: t.pid });
  assert.deepEqual(await rt.pids(t.id, RUNTIME), [t.pid]);
  await rt.pause(t.id, RUNTIME);
  assert.equal((await rt.state(t.id, RUNTIME))?.status, 'paused');
  await assert.rejects(rt.pause(t.id, RUNTIME), ConflictError);
  await rt.resume(t.id, RUNTIME);
  assert.equal((await rt.state(t.id, RUNTIME))?.status, 'running');
  await assert.rejects(rt.resume(t.id, RUNTIME), ConflictError);
  // PID 1 without a handler ignores SIGTERM: SIGKILL it
  await rt.kill(t.id, 9, RUNTIME);
  const exit = await rt.waitExit(t.id);
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.oomKilled, false);
  assert.equal((await rt.state(t.id, RUNTIME))?.status, 'stopped');
  await assert.rejects(rt.kill(t.id, 9, RUNTIME), ConflictError);
  await assert.rejects(rt.start(t.id, RUNTIME), ConflictError);
  await destroy(t);
  assert.deepEqual(processesMentioning(t.id), []);
  assert.equal(cgroupExists(t.cgroupsPath), false);
});

test('runtime CLI paths (fastPaths off): start, delete --force of a running task, delete of a created one', async () => {
  const cli = new OciRuntime({ conmonPath: '/usr/bin/conmon', execRoot: path.join(tmp, 'exec'), fastPaths: false });
  const t = await createTask(['sleep', '1000']);
  await cli.start(t.id, RUNTIME);
  assert.equal((await cli.state(t.id, RUNTIME))?.status, 'running');
  await assert.rejects(cli.start(t.id, RUNTIME), ConflictError);
  await assert.rejects(cli.delete(t.id, RUNTIME), ConflictError);
  await cli.delete(t.id, RUNTIME, true);
  const exit = await rt.waitExit(t.id);
  assert.equal(exit.exitCode, 137);
  await rt.cleanup(t.id);
  assert.equal(cgroupExists(t.cgroupsPath), false);
  // created, never started: the fast delete declines (init alive), runc delete --force kills it
  const c = await createTask(['true']);
  await rt.delete(c.id, RUNTIME, true);
  await rt.waitExit(c.id);
  await rt.cleanup(c.id);
  assert.equal(await rt.state(c.id, RUNTIME), undefined);
  assert.equal(cgroupExists(c.cgroupsPath), false);
  cli.close();
});

test('init (tini as docker-init) forwards SIGTERM', async () => {
  const t = await createTask(['sleep', '1000'], { over: { init: { hostPath: '/usr/bin/tini-static' } } });
  const cfg = JSON.parse(fs.readFileSync(path.join(t.bundle, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.process.args, ['/sbin/docker-init', '--', 'sleep', '1000']);
  assert.equal(cfg.process.rlimits[0].hard <= 20000, true);
  await rt.start(t.id, RUNTIME);
  await waitFor(async () => (await rt.pids(t.id, RUNTIME)).length === 2);
  await rt.kill(t.id, 15, RUNTIME);
  const exit = await rt.waitExit(t.id);
  assert.equal(exit.exitCode, 143);
  await destroy(t);
});

test('memory limit: OOM kill gives 137 and oomKilled', async () => {
  const t = await createTask(['sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo survived ${#x}'], {
    over: { resources: { memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024 } },
  });
  const a = await rt.attach(t.id, { stdin: false });
  const got = collect(a);
  await rt.start(t.id, RUNTIME);
  const exit = await rt.waitExit(t.id);
  const { stdout } = await got;
  assert.equal(stdout.toString(), '');
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.oomKilled, true);
  await rt.delete(t.id, RUNTIME);
  // remembered after the cgroup is gone
  assert.equal((await rt.readExit(t.id))?.oomKilled, true);
  await rt.cleanup(t.id);
  assert.equal(cgroupExists(t.cgroupsPath), false);
});

test('readCgroupStats on a running task', async () => {
  const t = await createTask(['sh', '-c', 'x=$(head -c 3000000 /dev/zero | tr "\\0" a); sleep 1000 & wait'], {
    over: { resources: { memory: 64 * 1024 * 1024, pidsLimit: 50, cpuShares: 512 } },
  });
  await rt.start(t.id, RUNTIME);
  await waitFor(async () => (await rt.pids(t.id, RUNTIME)).length === 2);
  const s = await readCgroupStats(t.cgroupsPath);
  assert.ok(s.cpu.totalNs > 0, 'cpu usage');
  assert.ok(s.cpu.userNs + s.cpu.kernelNs >= 0);
  if (cgroupVersion() === 1) assert.ok(s.cpu.perCpuNs.length >= 1);
  assert.ok(s.memory.usage > 0, 'memory usage');
  assert.equal(s.memory.limit, 64 * 1024 * 1024);
  assert.ok(Object.keys(s.memory.stats).length > 5);
  assert.equal(s.pids.current, 2);
  assert.equal(s.pids.limit, 50);
  assert.ok(Array.isArray(s.blkio.ioServiceBytesRecursive));
  assert.ok((await systemCpuUsageNs()) > s.cpu.totalNs);
  await rt.kill(t.id, 9, RUNTIME);
  await rt.waitExit(t.id);
  await destroy(t);
  assert.equal(cgroupExists(t.cgroupsPath), false);
});

test('create failure is a RuntimeError with the runtime message; nothing is left', async () => {
  const id = newId();
  const bundle = path.join(tmp, 'b', id.slice(0, 16));
  created.push({ id, cgroupsPath: `${CGROUP_PARENT}/${id}` });
  await rt.writeBundle(bundle, specInput(id, ['/no/such/binary']));
  await assert.rejects(
    rt.create({ id, bundleDir: bundle, runtime: RUNTIME, terminal: false, openStdin: false, stdinOnce: false, logPath: path.join(tmp, 'logs', id) }),
    (e: Error) => e instanceof RuntimeError && /no such file|not found/i.test(e.message),
  );
  assert.equal(await rt.state(id, RUNTIME), undefined);
  await rt.cleanup(id);
  await waitFor(() => processesMentioning(id).length === 0);
});

test('staged create: the shim waits for its bundle; abort ends it and makes no task', async () => {
  // Staged before the bundle exists: conmon is up and waiting, no runtime process runs yet.
  const id = newId();
  const bundle = path.join(tmp, 'b', id.slice(0, 16));
  const input = specInput(id, ['sh', '-c', 'echo staged']);
  created.push({ id, cgroupsPath: input.cgroupsPath });
  const logPath = path.join(tmp, 'logs', id + '.log');
  const opts = { id, bundleDir: bundle, runtime: RUNTIME, terminal: false, openStdin: false, stdinOnce: false, logPath };
  const staged = await rt.stageCreate(opts);
  await waitFor(() => processesMentioning(id).length === 1);
  assert.equal(await rt.state(id, RUNTIME), undefined, 'no task before the create is let go');
  await rt.writeBundle(bundle, input);
  const { pid } = await staged.create();
  assert.ok(pid > 0);
  await assert.rejects(staged.create(), /already created or aborted/);
  staged.abort(); // a no-op once created
  const a = await rt.attach(id, { stdin: false });
  const got = collect(a);
  await rt.start(id, RUNTIME);
  assert.equal((await rt.waitExit(id)).exitCode, 0);
  assert.equal((await got).stdout.toString(), 'staged\n');
  await rt.delete(id, RUNTIME);
  await rt.cleanup(id);
  await waitFor(() => processesMentioning(id).length === 0);

  // Aborted, before and after its bundle is written: the waiting conmon goes, nothing is made.
  for (const withBundle of [false, true]) {
    const id2 = newId();
    const bundle2 = path.join(tmp, 'b', id2.slice(0, 16));
    const input2 = specInput(id2, ['true']);
    created.push({ id: id2, cgroupsPath: input2.cgroupsPath });
    const s2 = await rt.stageCreate({ ...opts, id: id2, bundleDir: bundle2, logPath: path.join(tmp, 'logs', id2 + '.log') });
    if (withBundle) await rt.writeBundle(bundle2, input2);
    await waitFor(() => processesMentioning(id2).length === 1);
    s2.abort();
    s2.abort();
    await waitFor(() => processesMentioning(id2).length === 0);
    await assert.rejects(s2.create(), /already created or aborted/);
    assert.equal(await rt.state(id2, RUNTIME), undefined, `aborted (bundle ${withBundle}): no task`);
    await rt.cleanup(id2);
  }
});

test('docker run --rm true: create+start+wait+delete timing', async () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const t = await createTask(['true']);
    const a = await rt.attach(t.id, { stdin: false });
    const got = collect(a);
    await rt.start(t.id, RUNTIME);
    const exit = await rt.waitExit(t.id);
    await got;
    await rt.delete(t.id, RUNTIME);
    await rt.cleanup(t.id);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    assert.equal(exit.exitCode, 0);
  }
  times.sort((x, y) => x - y);
  // bare `runc run` of the same rootfs, measured now: this machine's speed varies
  const base: number[] = [];
  for (let i = 0; i < 5; i++) {
    const id = newId();
    const bundle = path.join(tmp, 'b', 'base' + i);
    await rt.writeBundle(bundle, specInput(id, ['true']));
    created.push({ id, cgroupsPath: `${CGROUP_PARENT}/${id}` });
    const t0 = process.hrtime.bigint();
    execFileSync('/usr/sbin/runc', ['--root', path.join(tmp, 'baseroot'), 'run', id], { cwd: bundle, stdio: 'ignore' });
    base.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  base.sort((x, y) => x - y);
  console.log(`# runtime create+attach+start+wait+delete of 'true' (ms): p50=${times[2].toFixed(1)} all=${times.map((x) => x.toFixed(1)).join(',')}`);
  console.log(`# bare runc run (ms): p50=${base[2].toFixed(1)}; ratio=${(times[2] / base[2]).toFixed(2)}`);
});
