// docker exec and health checks, driven by the real docker CLI (28.2.2) and bin/berth.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon';
import { openRaw, waitClosed } from '../helpers/rawhttp';

const run = promisify(execFile);
let d: TestDaemon;
let ctr: string; // a long-running busybox container

before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
  const r = await d.docker(['run', '-d', '--name', 'ex-main', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  ctr = r.stdout.trim();
});

after(async () => { await d.stop(); });

const docker = (...args: string[]) => d.docker(args);
const berth = (...args: string[]) => d.berth(args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a shell line under script(1), which gives the CLI a terminal. */
// crun 1.8.1 gives an exec's terminal its size just after the process started
// (libcrun_container_exec): a process that asks at once can find none (0x0) for a moment.
const TTY_SIZE = 'test -t 1 && echo isatty; for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null) && break; sleep 0.1; done; echo $s';

async function inTerminal(line: string): Promise<string> {
  const { stdout } = await run('script', ['-qec', line, '/dev/null'], { env: d.env, timeout: 30_000 });
  return stdout;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('docker exec', () => {
  test('non-TTY: -u -w -e, stdout and stderr apart, the exit code', async () => {
    const r = await docker('exec', '-u', '1000', '-w', '/tmp', '-e', 'X=1', 'ex-main', 'sh', '-c', 'echo out $X $(id -u) $(pwd); echo err >&2; exit 3');
    assert.equal(r.stdout, 'out 1 1000 /tmp\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.code, 3);
  });

  test('user by name from the container\'s /etc/passwd; env merged over the container\'s', async () => {
    const c = await docker('run', '-d', '--name', 'ex-env', '-e', 'A=from-ctr', '-e', 'B=keep', 'busybox', 'sleep', '100');
    assert.equal(c.code, 0, c.stderr);
    const r = await docker('exec', '-u', 'nobody', '-e', 'A=from-exec', 'ex-env', 'sh', '-c', 'echo $(id -u) $A $B $HOME');
    // busybox's passwd: nobody's home is /nonexistent
    assert.equal(r.stdout.trim(), '65534 from-exec keep /nonexistent');
    await docker('rm', '-f', 'ex-env');
  });

  test('-i: piped stdin reaches the process and closes', async () => {
    const r = await d.docker(['exec', '-i', 'ex-main', 'cat'], { input: 'piped\n' });
    assert.equal(r.stdout, 'piped\n');
    assert.equal(r.code, 0);
  });

  test('-d: returns at once; ExecIDs lists the session while it runs', async () => {
    const before = await d.request('GET', `/containers/${ctr}/json`);
    assert.equal(before.json().ExecIDs, null);
    const r = await docker('exec', '-d', 'ex-main', 'sh', '-c', 'sleep 2');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const ids = (await d.request('GET', `/containers/${ctr}/json`)).json().ExecIDs as string[] | null;
    assert.ok(Array.isArray(ids) && ids.length === 1, `ExecIDs: ${JSON.stringify(ids)}`);
    const info = (await d.request('GET', `/exec/${ids![0]}/json`)).json();
    assert.equal(info.Running, true);
    assert.ok(info.Pid > 0);
    await until('the detached exec to end', async () => ((await d.request('GET', `/containers/${ctr}/json`)).json().ExecIDs === null ? true : undefined));
    const done = (await d.request('GET', `/exec/${ids![0]}/json`)).json();
    assert.equal(done.Running, false);
    assert.equal(done.ExitCode, 0);
  });

  test('a missing command: the runtime\'s text in the stream, exit 126', async () => {
    const r = await docker('exec', 'ex-main', 'nonexistentcmd');
    assert.equal(r.code, 126);
    assert.equal(r.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nonexistentcmd": executable file not found in $PATH: unknown\r\n');
  });

  test('-w to a missing directory: exit 126', async () => {
    const r = await docker('exec', '-w', '/nope', 'ex-main', 'true');
    assert.equal(r.code, 126);
    assert.match(r.stdout, /chdir to cwd \("\/nope"\) set in config.json failed: no such file or directory: unknown/);
  });

  test('exec inspect has Docker\'s shape', async () => {
    const c = await d.request('POST', '/v1.44/containers/ex-main/exec', {
      User: '', Privileged: false, Tty: false, AttachStdin: false, AttachStderr: true, AttachStdout: true,
      Detach: false, DetachKeys: '', Env: null, WorkingDir: '', Cmd: ['sh', '-c', 'exit 0'],
    });
    assert.equal(c.status, 201);
    const id = c.json().Id as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    const i = (await d.request('GET', `/v1.44/exec/${id}/json`)).json();
    assert.deepEqual(i, {
      ID: id, Running: false, ExitCode: null,
      ProcessConfig: { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 0'], privileged: false },
      OpenStdin: false, OpenStderr: true, OpenStdout: true, CanRemove: false, ContainerID: ctr, DetachKeys: '', Pid: 0,
    });
    const missing = await d.request('GET', '/v1.44/exec/nope/json');
    assert.equal(missing.status, 404);
  });

  test('into a stopped container: 409', async () => {
    const id = (await docker('create', '--name', 'ex-stopped', 'busybox', 'true')).stdout.trim();
    const r = await docker('exec', 'ex-stopped', 'true');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `Error response from daemon: Container ${id} is not running`);
    await docker('rm', 'ex-stopped');
  });

  test('into a paused container: 409', async () => {
    assert.equal((await docker('pause', 'ex-main')).code, 0);
    try {
      const r = await docker('exec', 'ex-main', 'true');
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `Error response from daemon: Container ${ctr} is paused, unpause the container before exec`);
    } finally {
      await docker('unpause', 'ex-main');
    }
  });

  test('joins the container\'s PID namespace and cgroup', async () => {
    const r = await docker('exec', 'ex-main', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup');
    const [pid1, rest] = r.stdout.split('\n', 2);
    assert.equal(pid1.trim(), 'sleep 1000');
    const [self, init] = r.stdout.slice(pid1.length + 1).split('---\n');
    assert.ok(rest !== undefined);
    const norm = (s: string) => s.trim().split('\n').sort().join('\n');
    assert.equal(norm(self), norm(init));
    assert.match(self, new RegExp(ctr));
  });

  test('-t: a terminal with the client\'s size', async () => {
    const out = await inTerminal(`stty rows 30 cols 100; docker exec -t ex-main sh -c '${TTY_SIZE}'`);
    assert.match(out, /isatty\r*\n/);
    assert.match(out, /30 100/);
  });

  test('-it: interactive shell, exit code from the shell', async () => {
    const out = await inTerminal(`stty rows 25 cols 90; (sleep 1; printf 'stty size; exit 5\\r'; sleep 2) | script -qec "stty rows 25 cols 90; docker exec -it ex-main sh" /dev/null; echo "rc=$?"`);
    assert.match(out, /25 90/);
    assert.match(out, /rc=5/);
  });

  test('events: exec_create, exec_start, exec_die', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await docker('exec', 'ex-main', 'sh', '-c', 'exit 4');
    const until = Math.ceil(Date.now() / 1000) + 1;
    const r = await docker('events', '--since', String(since), '--until', String(until), '--filter', 'container=ex-main', '--format', '{{.Action}} {{index .Actor.Attributes "exitCode"}}');
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('exec_create: sh -c exit 4 '), r.stdout);
    assert.ok(lines.includes('exec_start: sh -c exit 4 '), r.stdout);
    assert.ok(lines.includes('exec_die 4'), r.stdout);
  });
});

describe('berth exec', () => {
  test('non-TTY split output and the exit code', async () => {
    const r = await berth('exec', '-u', '1000', '-w', '/tmp', '-e', 'X=1', 'ex-main', 'sh', '-c', 'echo out $X $(id -u) $(pwd); echo err >&2; exit 3');
    assert.equal(r.stdout, 'out 1 1000 /tmp\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.code, 3);
  });

  test('--env-file, -i with piped stdin', async () => {
    const f = `${d.root}/exec.env`;
    fs.writeFileSync(f, 'FROMFILE=yes\n');
    const r = await d.berth(['exec', '-i', '--env-file', f, 'ex-main', 'sh', '-c', 'cat; echo $FROMFILE'], { input: 'in\n' });
    assert.equal(r.stdout, 'in\nyes\n');
    assert.equal(r.code, 0);
  });

  test('-d, a missing command, a stopped container', async () => {
    const det = await berth('exec', '-d', 'ex-main', 'sleep', '1');
    assert.equal(det.code, 0, det.stderr);
    const miss = await berth('exec', 'ex-main', 'nonexistentcmd');
    assert.equal(miss.code, 126);
    assert.match(miss.stdout, /executable file not found in \$PATH/);
    const id = (await docker('create', '--name', 'ex-stopped2', 'busybox', 'true')).stdout.trim();
    const st = await berth('exec', 'ex-stopped2', 'true');
    assert.equal(st.code, 1);
    assert.match(st.stderr, new RegExp(`Container ${id} is not running`));
    await docker('rm', 'ex-stopped2');
  });

  test('-t: a terminal with the client\'s size; --privileged', async () => {
    const out = await inTerminal(`stty rows 30 cols 100; ${BERTH} exec -t ex-main sh -c '${TTY_SIZE}'`);
    assert.match(out, /isatty\r*\n/);
    assert.match(out, /30 100/);
    const caps = await berth('exec', '--privileged', 'ex-main', 'sh', '-c', 'grep CapEff /proc/self/status');
    const plain = await berth('exec', 'ex-main', 'sh', '-c', 'grep CapEff /proc/self/status');
    assert.notEqual(caps.stdout, plain.stdout);
  });
});

describe('health checks', () => {
  test('a passing check: starting, then healthy; ps, filter, events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await docker('run', '-d', '--name', 'ex-healthy', '--health-cmd', 'echo ok', '--health-interval', '1s', 'busybox', 'sleep', '100');
    assert.equal(r.code, 0, r.stderr);
    const first = (await d.request('GET', '/containers/ex-healthy/json')).json();
    assert.deepEqual(first.Config.Healthcheck, { Test: ['CMD-SHELL', 'echo ok'], Interval: 1_000_000_000 });
    assert.equal(first.State.Health.Status, 'starting');
    const ps0 = await docker('ps', '--filter', 'name=ex-healthy', '--format', '{{.Status}}');
    assert.match(ps0.stdout, /^Up .* \(health: starting\)$/m);
    const h = await until('healthy', async () => {
      const s = (await d.request('GET', '/containers/ex-healthy/json')).json().State.Health;
      return s.Status === 'healthy' ? s : undefined;
    });
    assert.equal(h.FailingStreak, 0);
    assert.equal(h.Log[0].ExitCode, 0);
    assert.equal(h.Log[0].Output, 'ok\n');
    assert.ok(Date.parse(h.Log[0].End) >= Date.parse(h.Log[0].Start));
    const ps = await docker('ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps.stdout, /^ex-healthy Up .* \(healthy\)$/m);
    assert.doesNotMatch(ps.stdout, /ex-main/);
    const until2 = Math.ceil(Date.now() / 1000) + 1;
    const ev = await docker('events', '--since', String(since), '--until', String(until2), '--filter', 'container=ex-healthy', '--filter', 'event=health_status', '--format', '{{.Action}}');
    assert.equal(ev.stdout.trim().split('\n')[0], 'health_status: healthy');
    await docker('rm', '-f', 'ex-healthy');
  });

  test('a failing check: unhealthy after the retries; Log keeps the last 5', async () => {
    const r = await docker('run', '-d', '--name', 'ex-sick', '--health-cmd', 'echo bad; exit 1', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '100');
    assert.equal(r.code, 0, r.stderr);
    const h = await until('unhealthy', async () => {
      const s = (await d.request('GET', '/containers/ex-sick/json')).json().State.Health;
      return s.Status === 'unhealthy' ? s : undefined;
    });
    assert.ok(h.FailingStreak >= 2);
    assert.equal(h.Log.at(-1).ExitCode, 1);
    assert.equal(h.Log.at(-1).Output, 'bad\n');
    const ps = await docker('ps', '--filter', 'health=unhealthy', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps.stdout, /^ex-sick Up .* \(unhealthy\)$/m);
    await until('6 probes', async () => ((await d.request('GET', '/containers/ex-sick/json')).json().State.Health.FailingStreak >= 6 ? true : undefined));
    assert.equal((await d.request('GET', '/containers/ex-sick/json')).json().State.Health.Log.length, 5);
    await docker('rm', '-f', 'ex-sick');
  });
});

describe('exec shims', () => {
  /** Host PIDs of the container's processes whose arguments match `re`. */
  async function hostPids(re: RegExp): Promise<number[]> {
    const top = await docker('top', 'ex-main', '-eo', 'pid,args');
    return top.stdout.split('\n').filter((l) => re.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
  }

  test('-d and -d -i from parallel clients: every process runs, exec dirs go with them', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => docker('exec', '-d', ...(i % 2 ? ['-i'] : []), 'ex-main', 'sleep', `30${i}1`)));
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    const pids = await hostPids(/sleep 30\d1$/);
    assert.equal(pids.length, 8, `running: ${pids}`);
    for (const p of pids) process.kill(p, 'SIGKILL');
    await until('the sessions recorded as exited', async () => ((await d.request('GET', '/containers/ex-main/json')).json().ExecIDs === null ? true : undefined));
    await until('their dirs removed', async () => (fs.readdirSync(`${d.execRoot}/execs`).length === 0 ? true : undefined));
  });

  test('a running exec outlives a kill -9 of berthd (its conmon has a session of its own)', async () => {
    assert.equal((await docker('exec', '-d', 'ex-main', 'sleep', '3091')).code, 0);
    const [pid] = await hostPids(/sleep 3091$/);
    assert.ok(pid > 0);
    await d.kill9();
    await sleep(300);
    assert.ok(fs.existsSync(`/proc/${pid}`), 'the exec process died with the daemon');
    await d.start();
    assert.deepEqual(await hostPids(/sleep 3091$/), [pid]);
    assert.equal((await docker('exec', 'ex-main', 'true')).code, 0);
    process.kill(pid, 'SIGKILL');
    // its conmon outlived the daemon that started it, and goes with the process
    await until('the shim gone', async () => (fs.readdirSync(`${d.execRoot}/execs`).length === 0 ? true : undefined));
  });
});

describe('exec started at create, spare sessions', () => {
  // berthd starts a session's conmon at exec create (its process held until the start), and
  // after an exec keeps a spare conmon of its kind waiting for the container's next one.
  const create = async (ctrRef: string, body: Record<string, unknown>) => {
    const r = await d.request('POST', `/v1.44/containers/${ctrRef}/exec`, { AttachStdout: true, AttachStderr: true, Detach: false, ...body });
    assert.equal(r.status, 201, r.body.toString());
    return r.json().Id as string;
  };
  /**
   * The exec sessions of a container that have a conmon (conmon and the child it forks to run
   * the runtime have the same arguments): each session's ID, its PIDs, whether it has --stdin.
   */
  const execConmons = (ctrId: string) => {
    const byId = new Map<string, { id: string; pids: number[]; stdin: boolean }>();
    for (const p of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      let cmd: string[];
      try {
        cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      if (!cmd[0].endsWith('conmon') || !cmd.includes('--exec') || cmd[cmd.indexOf('--cid') + 1] !== ctrId) continue;
      const id = cmd[cmd.indexOf('--cuuid') + 1];
      const s = byId.get(id) ?? { id, pids: [], stdin: cmd.includes('--stdin') };
      s.pids.push(Number(p));
      byId.set(id, s);
    }
    return [...byId.values()];
  };
  const count = (ctrId: string, n: number) => async () => (execConmons(ctrId).length === n ? true : undefined);
  const execDirs = () => new Set(fs.existsSync(`${d.execRoot}/execs`) ? fs.readdirSync(`${d.execRoot}/execs`) : []);
  /** A hijacked start, as the CLI's: what the stream carried once the server closed it. */
  async function hijackedStart(id: string): Promise<string> {
    const body = JSON.stringify({ Detach: false, Tty: false });
    const c = openRaw(d.socket);
    c.sock.write(`POST /v1.44/exec/${id}/start HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    c.sock.end();
    await waitClosed(c, 20_000);
    assert.ok(c.closed, 'the stream did not end');
    return c.data;
  }
  const running = async (name: string) => {
    const r = await docker('run', '-d', '--name', name, 'busybox', 'sleep', '100');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const hasFile = async (ctrRef: string, file: string) => (await docker('exec', ctrRef, 'test', '-e', file)).code === 0;

  test('not started: its conmon waits, then goes without running the process; a later start runs it', async () => {
    const cid = await running('ex-ahead');
    const dirsBefore = execDirs();
    const never = await create('ex-ahead', { Cmd: ['touch', '/tmp/early-never'] });
    const late = await create('ex-ahead', { Cmd: ['sh', '-c', 'echo late; exit 4'] });
    await until('the sessions\' conmons started ahead', count(cid, 2));
    await until('both gone after the wait', count(cid, 0));
    await until('their dirs removed', async () => ([...execDirs()].every((n) => dirsBefore.has(n)) ? true : undefined));
    const out = await hijackedStart(late);
    assert.ok(out.startsWith('HTTP/1.1 101'), out);
    assert.ok(out.includes('\x01\0\0\0\0\0\0\x05late\n'), JSON.stringify(out));
    assert.equal((await d.request('GET', `/v1.44/exec/${late}/json`)).json().ExitCode, 4);
    assert.equal((await d.request('GET', `/v1.44/exec/${never}/json`)).json().Running, false);
    assert.equal(await hasFile('ex-ahead', '/tmp/early-never'), false, 'a cancelled session ran its process');
    await docker('rm', '-f', 'ex-ahead');
  });

  test('a start that asks other than the create (Detach): the process runs once', async () => {
    const cid = await running('ex-ahead2');
    const id = await create('ex-ahead2', { Cmd: ['sh', '-c', 'echo x >> /tmp/early-once'] });
    await until('its conmon started ahead', count(cid, 1));
    const r = await d.request('POST', `/v1.44/exec/${id}/start`, { Detach: true, Tty: false });
    assert.equal(r.status, 200, r.body.toString());
    await until('the session done', async () => ((await d.request('GET', `/v1.44/exec/${id}/json`)).json().Running === false ? true : undefined));
    await until('its conmons gone', count(cid, 0));
    assert.equal((await docker('exec', 'ex-ahead2', 'cat', '/tmp/early-once')).stdout, 'x\n');
    await docker('rm', '-f', 'ex-ahead2');
  });

  test('its container stops before the start: the session goes, the start is refused', async () => {
    const cid = await running('ex-early');
    const id = await create('ex-early', { Cmd: ['true'] });
    await until('its conmon started ahead', count(cid, 1));
    assert.equal((await docker('kill', 'ex-early')).code, 0);
    await until('the session\'s conmon gone', count(cid, 0));
    const r = await d.request('POST', `/v1.44/exec/${id}/start`, { Detach: true, Tty: false });
    assert.equal(r.status, 409);
    assert.equal(r.json().message, `Container ${cid} is not running`);
    await docker('rm', '-f', 'ex-early');
  });

  test('after an exec a spare of its kind waits; the next exec takes it; unused it goes, and with its container', async () => {
    const cid = await running('ex-spare');
    assert.equal((await docker('exec', 'ex-spare', 'true')).code, 0);
    await until('a spare without stdin', count(cid, 1));
    const [first] = execConmons(cid);
    assert.equal(first.stdin, false);
    const r = await docker('exec', '-e', 'V=taken', 'ex-spare', 'sh', '-c', 'echo $V; exit 3');
    assert.equal(r.stdout, 'taken\n');
    assert.equal(r.code, 3);
    assert.ok(execConmons(cid).every((c) => c.id !== first.id), 'the spare was not the one used');
    assert.equal((await d.docker(['exec', '-i', 'ex-spare', 'cat'], { input: 'in\n' })).stdout, 'in\n');
    await until('a spare of each kind', async () => (execConmons(cid).map((c) => c.stdin).sort().join() === 'false,true' ? true : undefined));
    await until('unused, they go', count(cid, 0), 20_000);
    assert.equal((await docker('exec', 'ex-spare', 'true')).code, 0);
    await until('a spare again', count(cid, 1));
    assert.equal((await docker('stop', '-t', '0', 'ex-spare')).code, 0);
    await until('gone with its container\'s stop', count(cid, 0));
    await docker('rm', '-f', 'ex-spare');
  });

  test('a conmon started ahead (at create, or a spare) that dies before the start: the exec runs in a fresh one, once', async () => {
    const cid = await running('ex-dead');
    const processSpecOf = (sessionId: string) => `${d.execRoot}/execs/${sessionId}/process.json`;
    // killed, and gone for good: a process whose cmdline reads empty may still hold its fds a moment
    const deadOrZombie = (p: number) => {
      try { return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8')); } catch { return true; }
    };
    const killAll = async (pids: number[]) => {
      for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
      await until('the killed processes gone', async () => (pids.every(deadOrZombie) ? true : undefined));
    };
    const ppidOf = (pid: number) => {
      try { return Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]); } catch { return 0; }
    };
    const cmd = (out: string, code: number) => ['sh', '-c', `echo ${out} >> /tmp/ran; echo ${out}; exit ${code}`];
    const frame = (text: string) => `\x01\0\0\0\0\0\0${String.fromCharCode(text.length)}${text}`;

    // a session started at create: its conmon and the child it forked for the runtime killed
    const early = await create('ex-dead', { Cmd: cmd('early', 5) });
    // (two processes: conmon and its child, the one spawned has forked and gone)
    await until('its conmon started ahead, the process written', async () => {
      const s = execConmons(cid);
      return s.length === 1 && s[0].pids.length === 2 && fs.existsSync(processSpecOf(early)) ? true : undefined;
    });
    await killAll(execConmons(cid)[0].pids);
    await until('its conmon gone', count(cid, 0));
    let out = await hijackedStart(early);
    assert.ok(out.includes(frame('early\n')), JSON.stringify(out));
    assert.equal((await d.request('GET', `/v1.44/exec/${early}/json`)).json().ExitCode, 5);

    // a spare taken by an exec create (the process is written into the spare's own dir), then
    // only the child that waits to run the runtime killed: conmon reports it and goes
    assert.equal((await docker('exec', 'ex-dead', 'true')).code, 0);
    // the spare: the one conmon whose session has no process yet (the exec's own may linger a moment)
    const spare = await until('a spare', async () => {
      const waiting = execConmons(cid).filter((c) => !fs.existsSync(processSpecOf(c.id)));
      return waiting.length === 1 && execConmons(cid).length === 1 && waiting[0].pids.length === 2 ? waiting[0] : undefined;
    });
    const taken = await create('ex-dead', { Cmd: cmd('spare', 6) });
    await until('the spare taken', async () => (fs.existsSync(processSpecOf(spare.id)) ? true : undefined));
    assert.ok(execConmons(cid).every((c) => c.id !== taken), 'the create started a conmon of its own');
    const pids = execConmons(cid).find((c) => c.id === spare.id)!.pids;
    const child = pids.filter((p) => pids.includes(ppidOf(p)));
    assert.equal(child.length, 1, `conmon's child among ${pids}`);
    await killAll(child);
    await until('the spare\'s conmon gone after its child', async () => (pids.every(deadOrZombie) ? true : undefined));
    out = await hijackedStart(taken);
    assert.ok(out.includes(frame('spare\n')), JSON.stringify(out));
    assert.equal((await d.request('GET', `/v1.44/exec/${taken}/json`)).json().ExitCode, 6);

    // the CLI's way: the waiting spare killed between two execs
    const waiting = await until('a spare again', async () => {
      const w = execConmons(cid).filter((c) => !fs.existsSync(processSpecOf(c.id)));
      return w.length ? w : undefined;
    });
    await killAll(waiting.flatMap((c) => c.pids));
    const r = await docker('exec', 'ex-dead', ...cmd('cli', 7));
    assert.equal(r.stdout, 'cli\n', r.stderr);
    assert.equal(r.code, 7);
    // each process ran once
    assert.equal((await docker('exec', 'ex-dead', 'cat', '/tmp/ran')).stdout, 'early\nspare\ncli\n');
    await docker('rm', '-f', 'ex-dead');
  });

  test('-u follows edits of the container\'s /etc/passwd and /etc/group', async () => {
    await running('ex-acct');
    const id = async (user: string) => {
      const r = await docker('exec', '-u', user, 'ex-acct', 'id');
      return r.code === 0 ? r.stdout.trim() : `${r.code}: ${r.stdout.trim()}`;
    };
    const sh = async (line: string) => assert.equal((await docker('exec', 'ex-acct', 'sh', '-c', line)).code, 0);
    assert.match(await id('neo'), /unable to find user neo: no matching entries in passwd file/);
    await sh('echo "neo:x:4242:4243::/home/neo:/bin/sh" >> /etc/passwd && echo "matrix:x:4243:" >> /etc/group');
    assert.equal(await id('neo'), 'uid=4242(neo) gid=4243(matrix)');
    // older than the timestamps' tick: the next reads may come from memory
    await sleep(1200);
    assert.equal(await id('neo'), 'uid=4242(neo) gid=4243(matrix)');
    assert.equal(await id('neo'), 'uid=4242(neo) gid=4243(matrix)');
    // rewritten in place, the same size (inode kept)
    await sh('sed s/4242:4243/4244:4243/ /etc/passwd > /tmp/pw && dd if=/tmp/pw of=/etc/passwd conv=notrunc 2>/dev/null');
    assert.equal(await id('neo'), 'uid=4244(neo) gid=4243(matrix)');
    await sleep(1200);
    assert.equal(await id('neo'), 'uid=4244(neo) gid=4243(matrix)');
    // the group file replaced by another (a new inode)
    await sh('sed s/matrix/zion/ /etc/group > /tmp/gr && mv /tmp/gr /etc/group');
    assert.equal(await id('neo'), 'uid=4244(neo) gid=4243(zion)');
    await docker('rm', '-f', 'ex-acct');
  });
});

describe('cleanup', () => {
  test('no shims and no mounts are left behind', async () => {
    await docker('rm', '-f', 'ex-main');
    await sleep(300);
    // conmon (container or exec shims) still running for this daemon's roots
    const shims = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.startsWith('conmon') || cmd.includes('/conmon\0') ? cmd.includes(d.root) : false;
      } catch {
        return false;
      }
    });
    assert.deepEqual(shims, [], 'conmon processes left behind');
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(d.root));
    assert.deepEqual(mounts, []);
    assert.deepEqual(fs.existsSync(`${d.execRoot}/execs`) ? fs.readdirSync(`${d.execRoot}/execs`) : [], []);
  });
});
