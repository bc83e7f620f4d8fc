// Interactive containers for real: the docker CLI (and bin/berth) in real terminals driven by
// tmux (send-keys, capture-pane) against a test berthd. Covers TTY allocation and size,
// resize, Ctrl-C, job control, exit codes, detach (Ctrl-P Ctrl-Q) and re-attach, piped stdin,
// two attachers of one non-TTY container, and --sig-proxy.
//
// tmux runs on a private socket (never the user's server); every session and container the
// tests make is removed at the end.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BERTH, runCmd, startDaemon, type TestDaemon } from '../helpers/daemon';
import { hasTmux, shq, sleep, Term as TerminalBase, TmuxServer } from '../helpers/terminal';

let d: TestDaemon;
const server = new TmuxServer('tty');
const tmux = (...args: string[]) => server.tmux(...args);
const containers = new Set<string>();
const children = new Set<ChildProcess>();

/** A terminal running `argv` with this file's daemon's environment. */
class Term extends TerminalBase {
  constructor(argv: string[], width?: number, height?: number) {
    super(server, () => d, argv, width, height);
  }
}

function cname(base: string): string {
  const n = `tty-${base}-${process.pid}`;
  containers.add(n);
  return n;
}

async function inspect(name: string): Promise<{ State: { Running: boolean; ExitCode: number }; Config: { Tty: boolean } }> {
  const r = await d.docker(['inspect', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

async function waitState(name: string, running: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await inspect(name)).State.Running !== running) {
    if (Date.now() > deadline) throw new Error(`${name}: Running never became ${running}`);
    await sleep(100);
  }
}

/** A background CLI process whose output is collected. */
function spawnCli(cmd: string, args: string[]): { p: ChildProcess; out: () => string } {
  const p = spawn(cmd, args, { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  p.on('exit', () => children.delete(p));
  let out = '';
  p.stdout!.on('data', (b) => { out += b; });
  p.stderr!.on('data', (b) => { out += b; });
  return { p, out: () => out };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
  if (hasTmux) server.keepAlive();
});

after(async () => {
  server.close();
  for (const p of children) p.kill('SIGKILL');
  if (d) {
    for (const c of containers) await d.docker(['rm', '-f', c]).catch(() => undefined);
    await d.stop();
  }
});

describe('docker run -it in a real terminal', { skip: !hasTmux && 'tmux is not installed (scripts/install-deps.sh)' }, () => {
  test('a real TTY of the terminal\'s size, resize, Ctrl-C, job control, exit code', async () => {
    const name = cname('it');
    const t = new Term(['docker', 'run', '-it', '--name', name, 'busybox', 'sh'], 100, 30);
    try {
      await t.waitFor(/\/ # $/m);
      assert.match(await t.run('tty'), /^\/dev\/pts\/\d+\n$/);
      assert.equal(await t.run('[ -t 0 ] && [ -t 1 ] && echo both-tty'), 'both-tty\n');
      assert.equal(await t.run('stty size'), '30 100\n');
      t.resize(120, 40);
      // The CLI sees SIGWINCH and posts /resize.
      assert.equal(await t.sizeSettles('40 120\n'), '40 120\n');

      // Ctrl-C reaches the foreground process (sleep), not the shell.
      t.type('sleep 100');
      await sleep(500);
      const started = Date.now();
      t.keys('C-c');
      assert.equal(await t.run('echo alive'), 'alive\n');
      assert.ok(Date.now() - started < 10_000, 'sleep was interrupted');

      // Job control: a background job is listed.
      t.type('sleep 100 &');
      assert.match(await t.run('jobs'), /\[1\][ +]*Running\s+sleep 100/);
      assert.doesNotMatch(t.screen(), /job control turned off/);

      t.type('exit 3');
      assert.equal(await t.exitStatus(), 3);
      const st = await inspect(name);
      assert.equal(st.State.Running, false);
      assert.equal(st.State.ExitCode, 3);
      assert.equal(st.Config.Tty, true);
    } finally {
      t.kill();
    }
  });

  test('Ctrl-P Ctrl-Q detaches and leaves it running; docker attach re-attaches to the same shell', async () => {
    const name = cname('detach');
    const t = new Term(['docker', 'run', '-it', '--name', name, 'busybox', 'sh']);
    try {
      await t.waitFor(/\/ # $/m);
      t.type('MARK=kept$((6*7))');
      assert.equal(await t.run('echo "$MARK"'), 'kept42\n');
      t.keys('C-p', 'C-q');
      assert.equal(await t.exitStatus(), 0, 'the CLI exits 0 on detach');
      await sleep(300);
      assert.equal((await inspect(name)).State.Running, true, 'still running after detach');
    } finally {
      t.kill();
    }
    const a = new Term(['docker', 'attach', name], 80, 24);
    try {
      await a.waitRaw();
      // No prompt is redrawn on attach: type and look for the output.
      assert.equal(await a.run('echo "$MARK"'), 'kept42\n', 'same shell, same variables');
      assert.equal(await a.sizeSettles('24 80\n'), '24 80\n', 'attach sizes the TTY to the new terminal');
      a.type('exit 7');
      assert.equal(await a.exitStatus(), 7, 'docker attach returns the container\'s exit code');
      await waitState(name, false);
      assert.equal((await inspect(name)).State.ExitCode, 7);
    } finally {
      a.kill();
    }
  });

  test('a flood of output and a large paste get through whole', async () => {
    const name = cname('flood');
    const t = new Term(['docker', 'run', '-it', '--rm', '--name', name, 'busybox', 'sh']);
    try {
      await t.waitFor(/\/ # $/m);
      t.type('seq 1 30000; echo "E$((20+22))E"');
      await t.waitFor(/29999\r?\n30000\r?\nE42E/, 30_000);
      // 600 lines of 70 characters (42 KB: more than one conmon stdin packet) into cat
      t.type('cat > /tmp/in');
      await sleep(200);
      const line = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01234567';
      for (let i = 0; i < 6; i++) {
        tmux('send-keys', '-t', t.name, '-l', (line + '\r').repeat(100));
        await sleep(100);
      }
      t.keys('C-d');
      assert.equal(await t.run('wc -c < /tmp/in', 30_000), `${600 * 71}\n`);
      t.keys('C-d');
      assert.equal(await t.exitStatus(), 0);
    } finally {
      t.kill();
    }
  });

  test('Ctrl-D ends the shell: exit 0', async () => {
    const name = cname('ctrld');
    const t = new Term(['docker', 'run', '-it', '--rm', '--name', name, 'busybox', 'sh']);
    try {
      await t.waitFor(/\/ # $/m);
      t.keys('C-d');
      assert.equal(await t.exitStatus(), 0);
    } finally {
      t.kill();
    }
  });

  test('docker start -ai re-runs a TTY container interactively', async () => {
    const name = cname('startai');
    const r = await d.docker(['create', '-it', '--name', name, 'busybox', 'sh']);
    assert.equal(r.code, 0, r.stderr);
    for (const code of [5, 6]) {
      const t = new Term(['docker', 'start', '-ai', name], 70, 20);
      try {
        await t.waitFor(/\/ # $/m);
        // the CLI resizes once start returns: created without a terminal, the TTY was 0x0
        assert.equal(await t.sizeSettles('20 70\n'), '20 70\n');
        t.type(`exit ${code}`);
        assert.equal(await t.exitStatus(), code);
      } finally {
        t.kill();
      }
    }
  });

  test('docker run -i without -t in a terminal: no TTY, stdin works, Ctrl-D ends it', async () => {
    const name = cname('notty');
    const t = new Term(['docker', 'run', '-i', '--rm', '--name', name, 'busybox', 'sh']);
    try {
      // no prompt without a TTY; the local terminal stays cooked (it echoes our typing)
      assert.match(await t.run('tty'), /not a tty/);
      t.keys('C-d');
      assert.equal(await t.exitStatus(), 0);
    } finally {
      t.kill();
    }
  });

  test('detach from docker attach, then attach again', async () => {
    const name = cname('reattach');
    const r = await d.docker(['run', '-dit', '--name', name, 'busybox', 'sh']);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 2; i++) {
      const a = new Term(['docker', 'attach', name]);
      try {
        await a.waitRaw();
        assert.equal(await a.run(`echo round-$((${i}+1))`), `round-${i + 1}\n`);
        a.keys('C-p', 'C-q');
        // As with dockerd: `docker attach` reports the detach as an error and exits 1
        // (nerdctl#3571 documents Docker's behaviour); `docker run -it` exits 0.
        assert.equal(await a.exitStatus(), 1);
        assert.match(a.screen(), /read escape sequence/);
      } finally {
        a.kill();
      }
      assert.equal((await inspect(name)).State.Running, true);
    }
    assert.equal((await d.docker(['rm', '-f', name])).code, 0);
  });
});

describe('detach keys in a real terminal', { skip: !hasTmux && 'tmux is not installed' }, () => {
  const logTicks = async (name: string) => Math.max(0, ...[...(await d.docker(['logs', name])).stdout.matchAll(/tick(\d+)/g)].map((m) => Number(m[1])));

  test('docker attach --detach-keys: the client detaches, the container runs on and keeps logging', async () => {
    const name = cname('dk-attach');
    const r = await d.docker(['run', '-dit', '--name', name, 'busybox', 'sh', '-c', 'i=0; (while :; do i=$((i+1)); echo tick$i; sleep 0.2; done) & exec sh']);
    assert.equal(r.code, 0, r.stderr);
    const a = new Term(['docker', 'attach', '--detach-keys', 'ctrl-x,x', name]);
    try {
      await a.waitRaw();
      // the default keys are not the sequence now: they reach the shell and nothing detaches
      a.keys('C-p', 'C-q', 'C-u');
      assert.equal(await a.run('echo still-$((40+2))'), 'still-42\n');
      a.keys('C-x', 'x');
      assert.equal(await a.exitStatus(), 1);
      assert.match(a.screen(), /read escape sequence/);
    } finally {
      a.kill();
    }
    assert.equal((await inspect(name)).State.Running, true);
    const before = await logTicks(name);
    await until('output continues in the logs', async () => (await logTicks(name)) >= before + 3);
  });

  test('docker exec -it --detach-keys: the client detaches, the exec\'s process runs on', async () => {
    const name = cname('dk-exec');
    const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const t = new Term(['docker', 'exec', '-it', '--detach-keys', 'ctrl-e,e', name, 'sh']);
    try {
      await t.waitFor(/\/ # $/m);
      t.type('(while :; do echo x >> /tmp/beat; sleep 0.2; done) &');
      assert.equal(await t.run('echo in-exec'), 'in-exec\n');
      t.keys('C-e', 'e');
      // As docker attach (and unlike docker run -it), docker exec reports the detach and exits 1.
      assert.equal(await t.exitStatus(), 1);
      assert.match(t.screen(), /read escape sequence/);
    } finally {
      t.kill();
    }
    assert.equal((await inspect(name)).State.Running, true);
    const beats = async () => Number((await d.docker(['exec', name, 'sh', '-c', 'wc -l < /tmp/beat'])).stdout.trim() || 0);
    const before = await beats();
    await until('the detached exec keeps running', async () => (await beats()) >= before + 3);
  });

  test('detachKeys from ~/.docker/config.json: docker run -it detaches on them', async () => {
    const name = cname('dk-config');
    const cfgDir = d.env.DOCKER_CONFIG!;
    fs.mkdirSync(cfgDir, { recursive: true });
    const cfg = path.join(cfgDir, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify({ detachKeys: 'ctrl-a,a' }));
    try {
      const t = new Term(['docker', 'run', '-it', '--name', name, 'busybox', 'sh', '-c', 'i=0; (while :; do i=$((i+1)); echo tick$i; sleep 0.2; done) & exec sh']);
      try {
        await t.waitRaw();
        assert.equal(await t.run('echo cfg-$((40+2))'), 'cfg-42\n');
        t.keys('C-a', 'a');
        assert.equal(await t.exitStatus(), 0);
      } finally {
        t.kill();
      }
    } finally {
      fs.rmSync(cfg, { force: true });
    }
    assert.equal((await inspect(name)).State.Running, true);
    const before = await logTicks(name);
    await until('output continues in the logs', async () => (await logTicks(name)) >= before + 3);
  });

  test('a bad --detach-keys is the daemon\'s 400', async () => {
    const name = cname('dk-bad');
    const r = await d.docker(['run', '-di', '--name', name, 'busybox', 'sh']);
    assert.equal(r.code, 0, r.stderr);
    const a = await d.docker(['attach', '--detach-keys', 'ctrl-P', name], { timeout: 20_000 });
    assert.notEqual(a.code, 0);
    // The CLI shows only the status of a refused upgrade; the message is checked at the wire level
    // (test/integration/streams-wire.test.ts).
    assert.match(a.stderr, /unable to upgrade to tcp, received 400/);
    const e = await d.docker(['exec', '--detach-keys', 'bogus', name, 'true'], { timeout: 20_000 });
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /Invalid escape keys \(bogus\) provided/);
  });
});

describe('TTY resizes that meet at conmon', () => {
  // conmon before 2.2.0 applies the first of two resize messages it reads at once, twice: the
  // CLI's attach sends two in a row (h+1 x w+1, then h x w), and a conmon slow to be scheduled
  // was left at the first (a TTY of 25x81 after attach, under load). conmon stopped while two
  // come makes them meet every time.
  const conmonsOf = (ctrId: string, execId?: string) => fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => {
    let cmd: string[];
    try { cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { return false; }
    if (!cmd[0].endsWith('conmon') || cmd[cmd.indexOf('--cid') + 1] !== ctrId) return false;
    return execId ? cmd[cmd.indexOf('--cuuid') + 1] === execId : !cmd.includes('--exec');
  });
  async function resizeTwiceStopped(pids: number[], path: string): Promise<void> {
    assert.ok(pids.length > 0, 'conmon found');
    for (const p of pids) process.kill(p, 'SIGSTOP');
    try {
      for (const [h, w] of [[25, 81], [24, 80]]) assert.equal((await d.request('POST', `${path}/resize?h=${h}&w=${w}`)).status, 200);
    } finally {
      for (const p of pids) process.kill(p, 'SIGCONT');
    }
  }
  const sizeOf = async (name: string, tty: string) => (await d.docker(['exec', name, 'sh', '-c', `stty -F ${tty} size`])).stdout;
  const settled = async (name: string, tty: string) => {
    const deadline = Date.now() + 10_000;
    let size = '';
    while ((size = await sizeOf(name, tty)) !== '24 80\n' && Date.now() < deadline) await sleep(200);
    return size;
  };

  test('a container\'s TTY and an exec\'s: the last resize is the size', async () => {
    const name = cname('resize2');
    const r = await d.docker(['run', '-dit', '--name', name, 'busybox', 'sh']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    await resizeTwiceStopped(conmonsOf(id), `/v1.44/containers/${id}`);
    assert.equal(await settled(name, '/proc/1/fd/0'), '24 80\n');

    const ex = await d.request('POST', `/v1.44/containers/${id}/exec`, { Tty: true, Cmd: ['sh', '-c', 'echo $$ > /tmp/exec.pid; exec sleep 100'] });
    assert.equal(ex.status, 201);
    const execId = ex.json().Id as string;
    assert.equal((await d.request('POST', `/v1.44/exec/${execId}/start`, { Detach: true, Tty: true })).status, 200);
    let pid = '';
    for (let i = 0; i < 50 && !/^\d+$/.test(pid); i++) { pid = (await d.docker(['exec', name, 'cat', '/tmp/exec.pid'])).stdout.trim(); await sleep(100); }
    await resizeTwiceStopped(conmonsOf(id, execId), `/v1.44/exec/${execId}`);
    assert.equal(await settled(name, `/proc/${pid}/fd/0`), '24 80\n');
    assert.equal((await d.docker(['rm', '-f', name])).code, 0);
  });
});

describe('stdin and attach without a TTY', () => {
  test('echo hi | docker run -i --rm busybox cat', async () => {
    const r = await runCmd('sh', ['-c', 'echo hi | docker run -i --rm busybox cat'], d.env);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });

  test('300 KB of binary stdin arrive whole, then EOF', async () => {
    const f = path.join(d.root, 'stdin.bin');
    fs.writeFileSync(f, Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131 + (i >> 8)) & 0xff)));
    const r = await runCmd('sh', ['-c', `docker run -i --rm busybox md5sum < ${shq(f)}; md5sum < ${shq(f)}`], d.env);
    assert.equal(r.code, 0, r.stderr);
    const [inside, outside] = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    assert.match(inside, /^[0-9a-f]{32}$/);
    assert.equal(inside, outside);
  });

  test('two docker attach clients at once both see new output', async () => {
    const name = cname('multi');
    const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo line$i; sleep 0.2; done']);
    assert.equal(r.code, 0, r.stderr);
    const a1 = spawnCli('docker', ['attach', '--sig-proxy=false', name]);
    const a2 = spawnCli('docker', ['attach', '--sig-proxy=false', name]);
    const lines = (s: string) => [...s.matchAll(/line(\d+)/g)].map((m) => Number(m[1]));
    await until('both attachers see 5 lines', () => lines(a1.out()).length >= 5 && lines(a2.out()).length >= 5);
    // both see the same, consecutive, new lines
    const l1 = lines(a1.out());
    const l2 = lines(a2.out());
    for (const l of [l1, l2]) for (let i = 1; i < l.length; i++) assert.equal(l[i], l[i - 1] + 1, `consecutive: ${l}`);
    const common = l1.filter((x) => l2.includes(x));
    assert.ok(common.length >= 3, `common lines: ${common}`);
    // one leaves, the other keeps reading, and the container keeps running
    a1.p.kill('SIGKILL');
    const before = lines(a2.out()).length;
    await until('the other attacher keeps reading', () => lines(a2.out()).length >= before + 3);
    assert.equal((await inspect(name)).State.Running, true);
    a2.p.kill('SIGKILL');
    assert.equal((await d.docker(['rm', '-f', name])).code, 0);
  });

  test('--sig-proxy forwards SIGINT to the container', async () => {
    const name = cname('sigproxy');
    const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c',
      `trap 'echo got INT' INT; while true; do echo tick; sleep 0.2; done`]);
    assert.equal(r.code, 0, r.stderr);
    const a = spawnCli('docker', ['attach', name]); // --sig-proxy is the default
    await until('attached', () => a.out().includes('tick'));
    a.p.kill('SIGINT');
    await until('the trap ran', () => a.out().includes('got INT'));
    assert.equal((await inspect(name)).State.Running, true, 'the trap kept it alive');
    assert.equal(a.p.exitCode, null, 'the CLI keeps attached');
    // --sig-proxy=false: SIGINT stays with the client, the container sees nothing. (CLI 28
    // does not exit on the first SIGINT either way: it cancels its context and keeps streaming.)
    const b = spawnCli('docker', ['attach', '--sig-proxy=false', name]);
    await until('attached', () => b.out().includes('tick'));
    const seen = a.out().split('got INT').length;
    const ticks = a.out().split('tick').length;
    b.p.kill('SIGINT');
    await until('more ticks', () => a.out().split('tick').length >= ticks + 5);
    assert.equal(a.out().split('got INT').length, seen, 'no INT reached the container');
    assert.doesNotMatch(b.out(), /got INT/);
    a.p.kill('SIGKILL');
    b.p.kill('SIGKILL');
    assert.equal((await d.docker(['rm', '-f', name])).code, 0);
  });
});

describe('berth run -it in a real terminal', { skip: !hasTmux && 'tmux is not installed' }, () => {
  test('a TTY of the terminal\'s size, resize, Ctrl-C, exit code', async () => {
    const name = cname('berth');
    const t = new Term([BERTH, 'run', '-it', '--name', name, 'busybox', 'sh'], 90, 25);
    try {
      await t.waitFor(/\/ # $/m);
      assert.match(await t.run('tty'), /^\/dev\/pts\/\d+\n$/);
      assert.equal(await t.run('stty size'), '25 90\n');
      t.resize(110, 35);
      assert.equal(await t.sizeSettles('35 110\n'), '35 110\n');
      t.type('sleep 100');
      await sleep(500);
      t.keys('C-c');
      assert.equal(await t.run('echo alive'), 'alive\n');
      t.type('exit 3');
      assert.equal(await t.exitStatus(), 3);
      assert.equal((await inspect(name)).State.ExitCode, 3);
    } finally {
      t.kill();
    }
  });

  test('echo hi | berth run -i --rm busybox cat', async () => {
    const r = await runCmd('sh', ['-c', `echo hi | ${shq(BERTH)} run -i --rm busybox cat`], d.env);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.code, 0, r.stderr);
  });

  test('berth: Ctrl-P Ctrl-Q detaches, berth attach re-attaches', async () => {
    const name = cname('berth-detach');
    const t = new Term([BERTH, 'run', '-it', '--name', name, 'busybox', 'sh']);
    try {
      await t.waitFor(/\/ # $/m);
      t.type('MARK=b$((2*21))');
      assert.equal(await t.run('echo "$MARK"'), 'b42\n');
      t.keys('C-p', 'C-q');
      assert.equal(await t.exitStatus(), 0);
    } finally {
      t.kill();
    }
    assert.equal((await inspect(name)).State.Running, true);
    const a = new Term([BERTH, 'attach', name]);
    try {
      await a.waitRaw();
      assert.equal(await a.run('echo "$MARK"'), 'b42\n');
      a.keys('C-p', 'C-q');
      assert.equal(await a.exitStatus(), 1, 'berth attach exits 1 on detach, as docker');
    } finally {
      a.kill();
    }
    assert.equal((await inspect(name)).State.Running, true);
    const a2 = new Term([BERTH, 'attach', name]);
    try {
      await a2.waitRaw();
      assert.equal(await a2.run('echo again-$MARK'), 'again-b42\n');
      a2.type('exit 4');
      assert.equal(await a2.exitStatus(), 4);
    } finally {
      a2.kill();
    }
  });
});
