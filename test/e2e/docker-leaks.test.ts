// Nothing of the daemon leaks into a container (issue 19): no file descriptor of berthd or
// conmon is open in a container's init or in an exec'd process (only 0, 1, 2), no variable of
// the daemon's environment reaches them, and errors about in-container paths (mounts, exec,
// docker cp, the archive API) name the container's path, never a host path under the daemon's
// roots. Real berthd, runc and the docker CLI.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

// berthd inherits this from the test process (useDaemon spawns it after this line runs).
const CANARY = `BERTH_LEAK_CANARY=${randomBytes(8).toString('hex')}`;
process.env.BERTH_LEAK_CANARY = CANARY.split('=')[1];
after(() => { delete process.env.BERTH_LEAK_CANARY; });

let d: TestDaemon;
const C = 'leaks-plain';
const T = 'leaks-tty';
before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
  await d.dockerOk(['run', '-d', '--name', C, 'busybox', 'sleep', '1000']);
  await d.dockerOk(['run', '-d', '-i', '-t', '--name', T, 'busybox', 'sleep', '1000']);
  await d.dockerOk(['exec', C, 'sh', '-c', 'ln -s /loop /loop; mkdir -p /ro && ln -s ../../../../../etc /ro/up']);
});
after(async () => {
  await d?.docker(['rm', '-f', C, T]);
  await d?.docker(['volume', 'rm', '-f', 'leaks-vol']);
  await d?.stop();
});

async function hostPid(name: string): Promise<number> {
  return Number((await d.dockerOk(['inspect', '-f', '{{.State.Pid}}', name])).trim());
}

/** The fds of a host process, with what each points at. */
function fdsOf(pid: number): Record<string, string> {
  const dir = `/proc/${pid}/fd`;
  return Object.fromEntries(fs.readdirSync(dir).map((fd) => [fd, fs.readlinkSync(path.join(dir, fd))]));
}

function assertOnlyStdio(fds: Record<string, string>, what: string): void {
  assert.deepEqual(Object.keys(fds).sort(), ['0', '1', '2'], `${what} has fds ${JSON.stringify(fds)}`);
  for (const target of Object.values(fds)) assert.ok(!target.includes(d.root), `${what} holds ${target}`);
}

test('a container init holds only 0, 1 and 2 (plain and on a TTY)', async () => {
  assertOnlyStdio(fdsOf(await hostPid(C)), 'init');
  assertOnlyStdio(fdsOf(await hostPid(T)), 'init on a TTY');
  // seen from inside, too
  assert.equal((await d.dockerOk(['exec', C, 'ls', '/proc/1/fd'])).split(/\s+/).filter(Boolean).join(' '), '0 1 2');
});

test('an exec process holds only 0, 1 and 2 (detached, attached, -i, -t)', async () => {
  for (const [flags, tag] of [[['-d'], '1001'], [['-d', '-t'], '1002'], [['-d', '-i'], '1003']] as const) {
    await d.dockerOk(['exec', ...flags, C, 'sleep', tag]);
    const top = await d.dockerOk(['top', C, '-eo', 'pid,args']);
    const line = top.split('\n').find((l) => l.includes(`sleep ${tag}`));
    assert.ok(line, `no sleep ${tag} in ${top}`);
    assertOnlyStdio(fdsOf(Number(line.trim().split(/\s+/)[0])), `exec ${flags.join(' ')}`);
  }
  // attached: the shell lists its own fds (`; true`: it forks ls instead of becoming it)
  for (const flags of [[], ['-i'], ['-t']]) {
    const out = await d.dockerOk(['exec', ...flags, C, 'sh', '-c', 'ls /proc/$$/fd; true'], { input: '' });
    assert.equal(out.split(/\s+/).filter(Boolean).join(' '), '0 1 2', `exec ${flags.join(' ')}: ${out}`);
  }
  await d.dockerOk(['exec', C, 'pkill', 'sleep', '-f', '100[123]']).catch(() => undefined);
});

test('no variable of the daemon reaches a container or an exec', async () => {
  const daemonEnv = fs.readFileSync(`/proc/${d.proc!.pid}/environ`, 'utf8').split('\0').filter(Boolean);
  assert.ok(daemonEnv.includes(CANARY), 'the canary did not reach berthd');
  // what a container may share with the daemon by value: the image's and Docker's own defaults
  const allowed = /^(PATH|HOME|HOSTNAME|TERM)=/;
  const seen: Record<string, string> = {
    run: await d.dockerOk(['run', '--rm', 'busybox', 'env']),
    'run -t': await d.dockerOk(['run', '--rm', '-t', 'busybox', 'env']),
    exec: await d.dockerOk(['exec', C, 'env']),
    'exec -t': await d.dockerOk(['exec', '-t', T, 'env']),
    'init environ': (await d.dockerOk(['exec', C, 'cat', '/proc/1/environ'])).split('\0').join('\n'),
  };
  for (const [what, text] of Object.entries(seen)) {
    const lines = text.split(/\r?\n/).filter(Boolean);
    assert.ok(lines.some((l) => l.startsWith('PATH=')), `${what}: no environment read: ${text}`);
    const shared = lines.filter((l) => !allowed.test(l) && daemonEnv.includes(l));
    assert.deepEqual(shared, [], `${what} has the daemon's ${shared.join(', ')}`);
  }
});

/** Runs a docker command that must fail; its output must name `want` and no host path of the daemon. */
async function failsNaming(args: string[], want: RegExp): Promise<void> {
  const r = await d.docker(args);
  const out = r.stdout + r.stderr;
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} succeeded: ${out}`);
  assert.ok(!out.includes(d.root), `docker ${args.join(' ')} shows a host path: ${out}`);
  assert.match(out, want, `docker ${args.join(' ')}`);
}

test('mount errors name the container path', async () => {
  await failsNaming(['run', '--rm', '-v', '/etc/hostname:/etc/passwd/x', 'busybox', 'true'], /\/etc\/passwd\/x/);
  await failsNaming(['run', '--rm', '-v', 'leaks-vol:/etc/passwd/x', 'busybox', 'true'], /"leaks-vol" to rootfs at "\/etc\/passwd\/x"/);
  await failsNaming(['run', '--rm', '--mount', 'type=tmpfs,dst=/etc/passwd/x', 'busybox', 'true'], /\/etc\/passwd\/x/);
  await failsNaming(['run', '--rm', '-w', '/etc/passwd', 'busybox', 'true'], /\/etc\/passwd/);
});

test('exec and run errors name the container path', async () => {
  await failsNaming(['run', '--rm', 'busybox', '/nope'], /\/nope/);
  await failsNaming(['run', '--rm', 'busybox', '/etc'], /\/etc/);
  await failsNaming(['exec', C, '/nope'], /\/nope/);
  await failsNaming(['exec', C, 'nope'], /nope/);
  await failsNaming(['exec', C, '/etc/passwd'], /\/etc\/passwd/);
  await failsNaming(['exec', '-w', '/nope', C, 'true'], /\/nope/);
  await failsNaming(['exec', '-w', '/etc/passwd', C, 'true'], /\/etc\/passwd/);
});

test('docker cp and the archive API name the container path', async () => {
  const tmp = fs.mkdtempSync(path.join(d.root, 'cp-'));
  const src = path.join(tmp, 'f');
  fs.writeFileSync(src, 'x');
  await failsNaming(['cp', `${C}:/nope`, path.join(tmp, 'out')], /\/nope/);
  await failsNaming(['cp', `${C}:/etc/passwd/x`, path.join(tmp, 'out')], /\/etc\/passwd/);
  await failsNaming(['cp', `${C}:/loop/x`, path.join(tmp, 'out')], /\/loop/);
  await failsNaming(['cp', src, `${C}:/nope/dir/x`], /\/nope/);
  await failsNaming(['cp', src, `${C}:/etc/passwd/x`], /\/etc\/passwd|extraction point is not a directory/);
  await failsNaming(['cp', src, `${C}:/loop/x`], /\/loop/);
  for (const p of ['/nope', '/etc/passwd/x', '/loop/x', '/ro/up/nope']) {
    for (const method of ['GET', 'PUT']) {
      const r = await d.request(method, `/v1.44/containers/${C}/archive?path=${encodeURIComponent(p)}`, method === 'PUT' ? Buffer.alloc(1024) : undefined);
      const body = r.body.toString();
      assert.ok(r.status >= 400 && r.status < 500, `${method} archive ${p}: ${r.status} ${body}`);
      assert.ok(!body.includes(d.root), `${method} archive ${p} shows a host path: ${body}`);
    }
    const head = await d.request('HEAD', `/v1.44/containers/${C}/archive?path=${encodeURIComponent(p)}`);
    assert.ok(!JSON.stringify(head.headers).includes(d.root), `HEAD archive ${p}: ${JSON.stringify(head.headers)}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});
