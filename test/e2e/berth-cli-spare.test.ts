// bin/berth's warm path (native/launcher.c, src/cli/spare.ts): a spare node process with the CLI
// loaded takes the call and must behave exactly as a cold CLI: the caller's exit status, stdin,
// stdout (the same open file, not reopened), environment, cwd, signals and terminal; and it goes
// cold whenever it cannot be sure of that (other namespaces, an unsafe spare directory).
// BERTH_CLI_SPARE_DEBUG=1 makes the launcher say on stderr which path served a call.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { BERTH, runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';
import { cliSpares, killCliSpares } from '../helpers/spares';
import { hasTmux, shq, sleep, Term, TmuxServer } from '../helpers/terminal';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const terminals = new TmuxServer('clispare');
let kept = false;
const keepTerminals = () => { if (!kept) terminals.keepAlive(); kept = true; };
after(async () => {
  if (hasTmux) terminals.close();
  if (d) await killCliSpares(d.spareDir);
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...d.env, BERTH_CLI_SPARE_DEBUG: '1', ...extra });
const sh = (script: string, extra: NodeJS.ProcessEnv = {}, input?: string) => runCmd('sh', ['-c', script, 'sh', BERTH], env(extra), { input });
const berth = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => runCmd(BERTH, args, env(extra), { input });
const SPARE = /berth-launch: spare (\d+) at/;
const SPARE_ENDED = /berth-launch: spare \d+ ended at/;

/**
 * Until both slots of the pool have a spare that is ready (it sets u+x on its socket). A call
 * that finds a slot empty fills it (and goes cold): one is made when some are missing.
 */
async function sparesReady(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const socks = fs.existsSync(d.spareDir) ? fs.readdirSync(d.spareDir).filter((f) => f.endsWith('.sock')) : [];
    if (socks.length >= 2 && socks.every((f) => (fs.statSync(path.join(d.spareDir, f)).mode & 0o100) !== 0) && cliSpares(d.spareDir).length >= 2) return;
    if (socks.length < 2 && i % 20 === 0) await berth(['version']);
    await sleep(50);
  }
  const modes = fs.readdirSync(d.spareDir).map((f) => `${f} ${(fs.statSync(path.join(d.spareDir, f)).mode & 0o777).toString(8)}`);
  throw new Error(`no ready spares in ${d.spareDir}: ${modes.join(', ')}; spares ${cliSpares(d.spareDir).join(' ')}`);
}

/** A call that a spare served: its result, and which pid served it. */
async function warm(args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) {
  await sparesReady();
  const r = await berth(args, extra, input);
  const m = SPARE.exec(r.stderr);
  assert.ok(m, `not served by a spare: ${r.stderr}`);
  return { ...r, stderr: r.stderr.replace(/^berth-launch: .*\n/gm, ''), pid: Number(m[1]) };
}

test('the first call goes cold and leaves spares; the next is served by one, with the same output', async () => {
  await killCliSpares(d.spareDir);
  fs.rmSync(d.spareDir, { recursive: true, force: true });
  const first = await berth(['version', '--format', '{{.Server.Version}}']);
  assert.match(first.stderr, /berth-launch: cold \(no spare yet\)/);
  assert.equal(fs.statSync(d.spareDir).mode & 0o7777, 0o700);
  const second = await warm(['version', '--format', '{{.Server.Version}}']);
  assert.equal(second.stdout, first.stdout);
  assert.equal(second.code, 0);
  // one spare ran one command: the pid that served it is no spare any more, another took its slot
  for (let i = 0; i < 100 && cliSpares(d.spareDir).includes(second.pid); i++) await sleep(50);
  assert.ok(!cliSpares(d.spareDir).includes(second.pid));
  await sparesReady();
  assert.equal(cliSpares(d.spareDir).length, 2);
  const cold = await berth(['version', '--format', '{{.Server.Version}}'], { BERTH_CLI_SPARE: '0' });
  assert.equal(cold.stdout, first.stdout);
  assert.doesNotMatch(cold.stderr, /berth-launch/);
});

test('exit statuses are the command\'s', async () => {
  const missing = await warm(['inspect', 'no-such-thing-here']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such object: no-such-thing-here/);
  assert.equal((await warm(['run', '--rm', 'busybox', 'sh', '-c', 'exit 7'])).code, 7);
  assert.equal((await warm(['no-such-command'])).code, 1);
});

test('stdin is the caller\'s, environment variables reach the command only through the environment', async () => {
  const piped = await warm(['run', '-i', '--rm', 'busybox', 'cat'], {}, 'hi\n');
  assert.equal(piped.stdout, 'hi\n');
  // `-e NAME` takes NAME's value from the CLI's environment: the caller's, not the spare's
  const fromEnv = await warm(['run', '--rm', '-e', 'SPARE_PROBE', 'busybox', 'sh', '-c', 'echo "[$SPARE_PROBE]"'], { SPARE_PROBE: 'from the caller' });
  assert.equal(fromEnv.stdout, '[from the caller]\n');
  // the daemon is named by the environment alone (DOCKER_HOST), BERTH_HOST unset
  const onlyDocker = await warm(['version', '--format', '{{.Server.Os}}'], { BERTH_HOST: undefined });
  assert.equal(onlyDocker.stdout, 'linux\n');
  const nowhere = await warm(['version', '--format', '{{.Server.Os}}'], { BERTH_HOST: undefined, DOCKER_HOST: `unix://${d.root}/nothing.sock` });
  assert.notEqual(nowhere.code, 0);
});

test('stdout is the caller\'s open file (its offset shared, not reopened), cwd and umask are the caller\'s', async () => {
  const work = fs.mkdtempSync(path.join(d.root, 'cwd-'));
  const out = path.join(work, 'out.txt');
  await sparesReady();
  // `>` once for the whole group: a file reopened by the spare would start again at offset 0
  const r = await sh(`cd ${shq(work)} && { echo first; "$1" version --format '{{.Server.Os}}'; echo last; } > out.txt && "$1" version --format again >> out.txt`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, SPARE);
  assert.equal(fs.readFileSync(out, 'utf8'), 'first\nlinux\nlast\nagain\n');
  await sparesReady();
  const save = await sh(`cd ${shq(work)} && umask 027 && "$1" save -o rel.tar busybox`);
  assert.equal(save.code, 0, save.stderr);
  assert.match(save.stderr, SPARE);
  const st = fs.statSync(path.join(work, 'rel.tar'));
  assert.ok(st.size > 100_000);
  assert.equal(st.mode & 0o777, 0o640);
});

test('SIGINT goes to the command: the launcher ends as a cold CLI does (130 in a shell)', async () => {
  const status = async (extra: NodeJS.ProcessEnv) => {
    await sparesReady();
    const p = spawn('sh', ['-c', '"$1" events & pid=$!; trap "" INT; read _; kill -INT $pid; wait $pid; echo "status $?"', 'sh', BERTH], { env: env(extra), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    // events is up once the daemon has its subscriber: a container made now shows in its output
    await sleep(1500);
    await d.dockerOk(['create', '--name', `spare-ev-${extra.BERTH_CLI_SPARE ?? 'warm'}`, 'busybox']);
    for (let i = 0; i < 100 && !/create/.test(out); i++) await sleep(100);
    p.stdin.end('\n');
    await new Promise((r) => p.on('close', r));
    return { out, err };
  };
  const cold = await status({ BERTH_CLI_SPARE: '0' });
  const warmed = await status({});
  assert.match(warmed.err, SPARE);
  assert.match(warmed.out, /container create/);
  assert.match(cold.out, /status (\d+)/);
  assert.equal(/status (\d+)/.exec(warmed.out)![1], /status (\d+)/.exec(cold.out)![1]);
  assert.match(warmed.out, /status 130/);
});

test('a caller in other namespaces goes cold, and its command still works', async () => {
  for (const flag of ['-n', '-m']) {
    await sparesReady();
    const r = await runCmd('unshare', [flag, BERTH, 'version', '--format', '{{.Server.Os}}'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'linux\n');
    assert.match(r.stderr, /berth-launch: cold \(spare refused the caller\)/);
  }
});

test('a caller confined more (no_new_privs) gets spares of its own, confined alike', async () => {
  await sparesReady();
  const nnp = (pid: number) => /^NoNewPrivs:\s*(\d)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  const confined = () => runCmd('setpriv', ['--no-new-privs', BERTH, 'version', '--format', '{{.Server.Os}}'], env());
  const first = await confined();
  assert.equal(first.stdout, 'linux\n');
  assert.match(first.stderr, /cold \(no spare yet\)/);
  let second = await confined();
  for (let i = 0; i < 50 && !SPARE.test(second.stderr); i++) { await sleep(100); second = await confined(); }
  assert.match(second.stderr, SPARE);
  assert.equal(second.stdout, 'linux\n');
  // the spares of the confined callers have no_new_privs; the others do not
  for (let i = 0; i < 50 && cliSpares(d.spareDir).length < 4; i++) await sleep(100);
  const byInstall = new Map<string, Set<string>>();
  for (const pid of cliSpares(d.spareDir)) {
    const install = path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[2]).split('-')[0];
    byInstall.set(install, (byInstall.get(install) ?? new Set()).add(nnp(pid)));
  }
  assert.deepEqual([...byInstall.values()].map((v) => [...v]).flat().sort(), ['0', '1'], 'one kind of spare per name');
});

test('an unsafe spare directory (open to others, or another owner\'s) is never used', async () => {
  await sparesReady();
  try {
    fs.chmodSync(d.spareDir, 0o777);
    const open = await berth(['version', '--format', '{{.Server.Os}}']);
    assert.equal(open.stdout, 'linux\n');
    assert.match(open.stderr, /berth-launch: cold \(spare directory unsafe\)/);
    fs.chmodSync(d.spareDir, 0o700);
    fs.chownSync(d.spareDir, 65534, 65534);
    const other = await berth(['version', '--format', '{{.Server.Os}}']);
    assert.equal(other.stdout, 'linux\n');
    assert.match(other.stderr, /berth-launch: cold \(spare directory unsafe\)/);
  } finally {
    fs.chownSync(d.spareDir, 0, 0);
    fs.chmodSync(d.spareDir, 0o700);
  }
  const link = path.join(d.root, 'cli-link');
  fs.symlinkSync(d.spareDir, link);
  const viaLink = await berth(['version', '--format', '{{.Server.Os}}'], { BERTH_CLI_SPARE_DIR: link });
  assert.match(viaLink.stderr, /berth-launch: cold \(spare directory unsafe\)/);
});

test('a spare whose socket is removed ends', async () => {
  await sparesReady();
  assert.ok(cliSpares(d.spareDir).length >= 2);
  for (const f of fs.readdirSync(d.spareDir)) fs.rmSync(path.join(d.spareDir, f));
  for (let i = 0; i < 100 && cliSpares(d.spareDir).length > 0; i++) await sleep(100);
  assert.deepEqual(cliSpares(d.spareDir), []);
});

/** berth run -it in a shell that prints the terminal's mode once berth is done (the pty goes with the pane's command). */
const itThenStty = () => ['sh', '-c', 'BERTH_CLI_SPARE_DEBUG=1 "$0" run -it --rm busybox sh; s=$?; echo "@@mode $(stty -a | tr -s "\n;" "  ") mode@@"; exit $s', BERTH];
const modeAfter = async (t: Term) => (await t.waitFor(/@@mode ([^@]*) mode@@/))[1].split(/\s+/);

test('on a terminal: run -it as cold (size, resize, exit status), and the terminal mode comes back even when the command is killed', { skip: !hasTmux && 'tmux is not installed (scripts/install-deps.sh)' }, async () => {
  await sparesReady();
  keepTerminals();
  const t = new Term(terminals, () => d, itThenStty(), 90, 25);
  try {
    await t.waitFor(SPARE);
    await t.waitRaw();
    // the container's shell at its prompt (its line editor asks the terminal where the cursor is first)
    await t.waitFor(/^\/ # $/m);
    assert.equal(await t.run('stty size'), '25 90\n');
    // SIGWINCH reaches the launcher (the terminal's foreground), which passes it on
    t.resize(100, 30);
    assert.equal(await t.sizeSettles('30 100\n'), '30 100\n');
    t.type('exit 3');
    assert.equal(await t.exitStatus(), 3);
    const mode = await modeAfter(t);
    for (const flag of ['icanon', 'echo', 'isig']) assert.ok(mode.includes(flag), `${flag} after exit: ${mode.join(' ')}`);
  } finally {
    t.kill();
  }
  await sparesReady();
  const k = new Term(terminals, () => d, itThenStty(), 90, 25);
  try {
    const pid = Number((await k.waitFor(SPARE))[1]);
    await k.waitRaw();
    process.kill(pid, 'SIGKILL');
    assert.equal(await k.exitStatus(), 1);
    await k.waitFor(/ended without an exit status/);
    const mode = await modeAfter(k);
    for (const flag of ['icanon', 'echo', 'isig']) assert.ok(mode.includes(flag), `${flag} after a kill: ${mode.join(' ')}`);
  } finally {
    k.kill();
  }
});

test('job control in an interactive shell: Ctrl-Z stops the command, fg continues it, Ctrl-C ends it with 130', { skip: !hasTmux && 'tmux is not installed (scripts/install-deps.sh)' }, async () => {
  await sparesReady();
  keepTerminals();
  const t = new Term(terminals, () => d, ['bash', '--norc', '--noprofile', '-i'], 100, 30);
  const state = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
  try {
    t.type(`BERTH_CLI_SPARE_DEBUG=1 ${shq(BERTH)} events`);
    const pid = Number((await t.waitFor(SPARE))[1]);
    t.keys('C-z');
    await t.waitFor(/Stopped/);
    assert.equal(state(pid), 'T');
    t.type('fg');
    for (let i = 0; i < 50 && state(pid) === 'T'; i++) await sleep(100);
    assert.notEqual(state(pid), 'T');
    t.keys('C-c');
    await t.waitFor(SPARE_ENDED);
    t.type('echo "status=$?"');
    assert.equal((await t.waitFor(/status=(\d+)/))[1], '130');
  } finally {
    t.kill();
  }
});
