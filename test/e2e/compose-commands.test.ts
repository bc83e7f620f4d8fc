// berth compose's commands on a running project: ps, logs, exec, run, top, port, images, ls,
// events, version, against one berthd with real busybox containers, compared with what the
// docker CLI sees of the same containers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon';
import { hasTmux, Term, TmuxServer } from '../helpers/terminal';

let d: TestDaemon;
let dir: string;
let composeFile: string;
const P = 'cc';

async function berth(args: string[], opts: { input?: string; timeout?: number } = {}) {
  return d.berth(args, opts);
}

async function berthOk(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<string> {
  const r = await berth(args, opts);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const compose = (...args: string[]) => ['compose', '-p', P, ...args];

/** The project's containers as the docker CLI lists them: name → inspect. */
async function dockerContainers(): Promise<Map<string, { Id: string; Name: string; Config: { Hostname: string } }>> {
  const ids = (await d.dockerOk(['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${P}`])).trim().split('\n').filter(Boolean);
  const m = new Map();
  if (!ids.length) return m;
  for (const c of JSON.parse(await d.dockerOk(['inspect', ...ids]))) m.set(c.Name.replace(/^\//, ''), c);
  return m;
}

before(async () => {
  d = await startDaemon();
  await d.ensureBusybox();
  dir = fs.mkdtempSync(path.join(d.root, 'proj-'));
  composeFile = path.join(dir, 'compose.yaml');
  fs.writeFileSync(composeFile, [
    `name: ${P}`,
    'services:',
    '  db:',
    '    image: busybox',
    '    command: ["sh", "-c", "echo db ready; echo db second; exec sleep 3600"]',
    '  web:',
    '    image: busybox',
    '    command: ["sh", "-c", "echo web $$HOSTNAME; exec sleep 3600"]',
    '    depends_on: [db]',
    '    ports: ["127.0.0.1::80"]',
    '    scale: 2',
    '',
  ].join('\n'));
  await berthOk(['compose', '-f', composeFile, 'up', '-d']);
});

const terminals = new TmuxServer('compose');

after(async () => {
  if (hasTmux) terminals.close();
  await d?.stop();
});

describe('compose ps', () => {
  test('table: compose v2 columns, one row per container, sorted by name', async () => {
    const out = await berthOk(compose('ps'));
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), [`${P}-db-1`, `${P}-web-1`, `${P}-web-2`]);
    const web1 = lines.find((l) => l.startsWith(`${P}-web-1`)) ?? '';
    assert.match(web1, /busybox\s+"sh -c 'echo web \$HO…"\s+web\s+.* ago\s+Up .*127\.0\.0\.1:\d+->80\/tcp$/);
  });

  test('-q prints the full IDs; --services the services', async () => {
    const ids = (await berthOk(compose('ps', '-q'))).trim().split('\n').sort();
    const docker = await dockerContainers();
    assert.deepEqual(ids, [...docker.values()].map((c) => c.Id).sort());
    assert.equal(await berthOk(compose('ps', '--services')), 'db\nweb\n');
    assert.equal(await berthOk(compose('ps', '-q', 'db')), docker.get(`${P}-db-1`)!.Id + '\n');
    // with the file: its services are checked
    assert.equal(await berthOk(['compose', '-f', composeFile, 'ps', '--services', 'web']), 'web\n');
    const bad = await berth(['compose', '-f', composeFile, 'ps', 'nosuch']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no such service: nosuch/);
  });

  test('--format json: compose v2\'s fields, one object a line', async () => {
    const lines = (await berthOk(compose('ps', '--format', 'json'))).trim().split('\n');
    assert.equal(lines.length, 3);
    const web = JSON.parse(lines[1]);
    assert.deepEqual(Object.keys(web), ['Command', 'CreatedAt', 'ExitCode', 'Health', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts',
      'Name', 'Names', 'Networks', 'Ports', 'Project', 'Publishers', 'RunningFor', 'Service', 'Size', 'State', 'Status']);
    assert.equal(web.Name, `${P}-web-1`);
    assert.equal(web.Service, 'web');
    assert.equal(web.Project, P);
    assert.equal(web.State, 'running');
    assert.equal(web.ExitCode, 0);
    assert.equal(web.ID.length, 12);
    assert.equal(web.Publishers.length, 1);
    assert.equal(web.Publishers[0].TargetPort, 80);
    assert.equal(web.Publishers[0].URL, '127.0.0.1');
    assert.ok(web.Publishers[0].PublishedPort > 0);
    assert.match(web.Labels, /com\.docker\.compose\.service=web/);
    const tmpl = await berthOk(compose('ps', '--format', '{{.Service}} {{.State}}'));
    assert.equal(tmpl, 'db running\nweb running\nweb running\n');
  });

  test('--status / --filter status= / -a', async () => {
    await d.dockerOk(['stop', '-t', '0', `${P}-web-2`]);
    try {
      assert.equal(await berthOk(compose('ps', '--format', '{{.Name}}')), `${P}-db-1\n${P}-web-1\n`);
      assert.equal(await berthOk(compose('ps', '-a', '--format', '{{.Name}} {{.State}} {{.ExitCode}}')),
        `${P}-db-1 running 0\n${P}-web-1 running 0\n${P}-web-2 exited 137\n`);
      assert.equal(await berthOk(compose('ps', '--status', 'exited', '--format', '{{.Name}}')), `${P}-web-2\n`);
      assert.equal((await berthOk(compose('ps', '--filter', 'status=running', '-q'))).trim().split('\n').length, 2);
      const bad = await berth(compose('ps', '--filter', 'name=x'));
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /unknown filter name/);
    } finally {
      await d.dockerOk(['start', `${P}-web-2`]);
    }
  });
});

describe('compose logs', () => {
  test('every container behind its padded prefix, no colours off a terminal', async () => {
    const out = await berthOk(compose('logs'));
    const lines = out.trimEnd().split('\n').sort();
    assert.ok(lines.includes('db-1   | db ready'), out);
    assert.ok(lines.includes('db-1   | db second'), out);
    assert.equal(lines.filter((l) => /^web-[12]  \| web [0-9a-f]{12}$/.test(l)).length >= 2, true, out);
    assert.doesNotMatch(out, /\x1b\[/);
  });

  test('service names, --tail, -t, --no-log-prefix', async () => {
    assert.equal(await berthOk(compose('logs', 'db')), 'db-1  | db ready\ndb-1  | db second\n');
    assert.equal(await berthOk(compose('logs', '--tail', '1', 'db')), 'db-1  | db second\n');
    assert.equal(await berthOk(compose('logs', '--no-log-prefix', '-n', '1', 'db')), 'db second\n');
    const ts = await berthOk(compose('logs', '-t', 'db'));
    assert.match(ts, /^db-1  \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z db ready\n/);
    const one = await berthOk(compose('logs', '--index', '2', 'web'));
    const web2 = (await dockerContainers()).get(`${P}-web-2`)!;
    assert.ok(one.includes(`web-2  | web ${web2.Config.Hostname}`), one);
    assert.doesNotMatch(one, /web-1/);
  });
  test('-f follows until the containers stop, and says how each exited', async () => {
    const p = spawn(BERTH, [...compose('logs', '-f', 'db')], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { out += b; });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 100 && !out.includes('db-1  | db second\n'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(out.includes('db-1  | db ready\ndb-1  | db second\n'), out);
      await d.dockerOk(['stop', '-t', '0', `${P}-db-1`]);
      assert.equal(await exited, 0, out);
      assert.match(out, /db-1 exited with code 137\n$/);
    } finally {
      p.kill();
      await d.dockerOk(['start', `${P}-db-1`]);
    }
  });
});

describe('compose exec', () => {
  test('-T runs in the first container, --index in the one numbered so; the exit code passes through', async () => {
    const docker = await dockerContainers();
    assert.equal(await berthOk(compose('exec', '-T', 'web', 'hostname')), docker.get(`${P}-web-1`)!.Config.Hostname + '\n');
    assert.equal(await berthOk(compose('exec', '-T', '--index', '2', 'web', 'hostname')), docker.get(`${P}-web-2`)!.Config.Hostname + '\n');
    assert.equal(await berthOk(compose('exec', '-T', '-e', 'X=1', '-w', '/tmp', '-u', '1000', 'db', 'sh', '-c', 'echo $X $(pwd) $(id -u)')), '1 /tmp 1000\n');
    const r = await berth(compose('exec', '-T', 'db', 'sh', '-c', 'exit 3'));
    assert.equal(r.code, 3);
    const stdin = await berthOk(compose('exec', '-T', 'db', 'cat'), { input: 'piped\n' });
    assert.equal(stdin, 'piped\n');
    const missing = await berth(compose('exec', '-T', '--index', '5', 'web', 'true'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /service "web" is not running container #5/);
  });
});

describe('compose top, port, images', () => {
  test('top: each container\'s processes under its name', async () => {
    const out = await berthOk(compose('top', 'db'));
    const lines = out.split('\n');
    assert.equal(lines[0], `${P}-db-1`);
    assert.match(lines[1], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.match(lines[2], /sleep 3600\s*$/);
    const all = await berthOk(compose('top'));
    assert.deepEqual(all.split('\n').filter((l) => l.startsWith(`${P}-`)), [`${P}-db-1`, `${P}-web-1`, `${P}-web-2`]);
  });

  test('port: the published address, as docker port says', async () => {
    const docker = (await d.dockerOk(['port', `${P}-web-2`, '80'])).trim().split('\n')[0];
    assert.equal((await berthOk(compose('port', '--index', '2', 'web', '80'))).trim(), docker);
    const none = await berth(compose('port', 'web', '81'));
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`no port 81/tcp for container ${P}-web-1: \\d+/tcp`));
  });

  test('images: one row per container; -q each image once; --format json', async () => {
    const out = await berthOk(compose('images'));
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
    const id = (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    assert.match(lines[1], new RegExp(`^${P}-db-1\\s+busybox\\s+latest\\s+${id.slice(7, 19)}\\s+\\S+`));
    assert.equal(lines.length, 4);
    assert.equal(await berthOk(compose('images', '-q')), id.slice(7) + '\n');
    const json = JSON.parse(await berthOk(compose('images', '--format', 'json')));
    assert.deepEqual(Object.keys(json[0]), ['ID', 'ContainerName', 'Repository', 'Tag', 'Size']);
    assert.equal(json[0].ID, id);
  });
});

describe('compose ls, version', () => {
  test('ls: the project from its labels, its states counted, its config files', async () => {
    const out = await berthOk(['compose', 'ls']);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+STATUS\s+CONFIG FILES$/);
    assert.match(lines[1], new RegExp(`^${P}\\s+running\\(3\\)\\s+${composeFile.replace(/[.]/g, '\\.')}$`));
    assert.equal(await berthOk(['compose', 'ls', '-q']), `${P}\n`);
    assert.deepEqual(JSON.parse(await berthOk(['compose', 'ls', '--format', 'json'])), [{ Name: P, Status: 'running(3)', ConfigFiles: composeFile }]);
    assert.equal(await berthOk(['compose', 'ls', '-q', '--filter', 'name=nomatch']), '');
    const bad = await berth(['compose', 'ls', '--filter', 'status=x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'status'/);
  });

  test('version', async () => {
    assert.match(await berthOk(['compose', 'version']), /^Docker Compose version v2\.\d+\.\d+\n$/);
    assert.match(await berthOk(['compose', 'version', '--short']), /^2\.\d+\.\d+\n$/);
    assert.match(await berthOk(['compose', 'version', '--format', 'json']), /^\{"version":"v2\.\d+\.\d+"\}\n$/);
  });
});

describe('compose events', () => {
  test('--json: the project\'s container events in compose v2\'s shape', async () => {
    const p = spawn(BERTH, [...compose('events', '--json', 'db')], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const got = new Promise<string>((resolve) => {
        p.stdout.on('data', (b) => {
          out += b;
          const line = out.split('\n').find((l) => l.includes('"action":"kill"'));
          if (line) resolve(line);
        });
      });
      // the subscription is live once the CLI connected: retry the kill until an event arrives
      let line: string | undefined;
      for (let i = 0; i < 50 && !line; i++) {
        await d.dockerOk(['kill', '-s', 'USR1', `${P}-db-1`]);
        line = await Promise.race([got, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      }
      assert.ok(line, out);
      const ev = JSON.parse(line);
      assert.deepEqual(Object.keys(ev), ['action', 'attributes', 'id', 'service', 'time', 'type']);
      assert.equal(ev.type, 'container');
      assert.equal(ev.service, 'db');
      assert.equal(ev.id, (await dockerContainers()).get(`${P}-db-1`)!.Id);
      assert.equal(ev.attributes.name, `${P}-db-1`);
      assert.equal(ev.attributes.signal, '10');
      assert.ok(!Object.keys(ev.attributes).some((k) => k.startsWith('com.docker.compose.')));
      assert.match(ev.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    } finally {
      p.kill();
    }
  });
});

describe('compose run', () => {
  const file = () => ['compose', '-f', composeFile];
  const oneOffs = async () => (await d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.compose.oneoff=True'])).trim();

  test('--rm: the exit code passes through, the one-off is gone after', async () => {
    const r = await berth([...file(), 'run', '--rm', 'db', 'sh', '-c', 'echo out; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(await oneOffs(), '');
  });

  test('flags: -e, -w, -u, --entrypoint, -l, -T; -d names it project-service-run-<12 hex>, oneoff=True', async () => {
    process.env.CC_FROM_ENV = 'fromenv';
    const out = await berthOk([...file(), 'run', '--rm', '-T', '-e', 'A=1', '-e', 'CC_FROM_ENV', '-w', '/tmp', '-u', '1000', '--entrypoint', 'sh -c', 'db',
      'echo $A $CC_FROM_ENV $(pwd) $(id -u)']);
    assert.equal(out, '1 fromenv /tmp 1000\n');
    const id = (await berthOk([...file(), 'run', '-d', '-l', 'x=y', 'db', 'sleep', '600'])).trim();
    try {
      const c = JSON.parse(await d.dockerOk(['inspect', id]))[0];
      assert.match(c.Name, new RegExp(`^/${P}-db-run-[0-9a-f]{12}$`));
      assert.equal(c.Config.Labels['com.docker.compose.oneoff'], 'True');
      assert.equal(c.Config.Labels['com.docker.compose.service'], 'db');
      assert.equal(c.Config.Labels['com.docker.compose.slug'].slice(0, 12), c.Name.slice(-12));
      assert.equal(c.Config.Labels.x, 'y');
      // ps leaves one-offs out unless -a
      assert.doesNotMatch(await berthOk(compose('ps', '--format', '{{.Name}}')), /-run-/);
      assert.match(await berthOk(compose('ps', '-a', '--format', '{{.Name}}')), /-db-run-/);
    } finally {
      await d.dockerOk(['rm', '-f', id]);
    }
  });

  test('dependencies are started first, not with --no-deps', async () => {
    await d.dockerOk(['stop', '-t', '0', `${P}-db-1`]);
    const noDeps = await berth([...file(), 'run', '--rm', '--no-deps', 'web', 'true']);
    assert.equal(noDeps.code, 0, noDeps.stderr);
    assert.equal((await d.dockerOk(['inspect', '-f', '{{.State.Running}}', `${P}-db-1`])).trim(), 'false');
    const r = await berth([...file(), 'run', '--rm', 'web', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await d.dockerOk(['inspect', '-f', '{{.State.Running}}', `${P}-db-1`])).trim(), 'true');
    assert.equal(await oneOffs(), '');
  });
});

describe('on a terminal', { skip: !hasTmux && 'tmux is not installed (scripts/install-deps.sh)' }, () => {
  before(() => terminals.keepAlive());

  test('logs: one colour per container on the prefix, compose\'s order', async () => {
    const t = new Term(terminals, () => d, [BERTH, ...compose('logs', 'db', 'web')], 120, 30);
    try {
      assert.equal(await t.exitStatus(), 0);
      assert.match(t.screen(), /^db-1   \| db ready$/m);
      const raw = terminals.tmux('capture-pane', '-p', '-e', '-J', '-S', '-200', '-t', t.name);
      // registration is by name: db-1 cyan, web-1 yellow, web-2 green; the text after the prefix is plain
      assert.match(raw, /\x1b\[36mdb-1   \| \x1b\[(0|39)mdb ready/);
      assert.match(raw, /\x1b\[33mweb-1  \| \x1b\[(0|39)mweb /);
      assert.match(raw, /\x1b\[32mweb-2  \| \x1b\[(0|39)mweb /);
    } finally {
      t.kill();
    }
  });

  test('exec: a TTY by default on a terminal, the exit code passes through', async () => {
    const t = new Term(terminals, () => d, [BERTH, ...compose('exec', 'web', 'sh')], 90, 25);
    try {
      await t.waitRaw();
      assert.match(await t.run('tty'), /^\/dev\/pts\/\d+\n$/);
      assert.equal(await t.run('stty size'), '25 90\n');
      t.type('exit 5');
      assert.equal(await t.exitStatus(), 5);
    } finally {
      t.kill();
    }
  });
});

describe('session 5 flags on the running project', () => {
  test('ps --orphans (default true) lists containers of services the file lacks; --orphans=false does not', async () => {
    // an orphan as compose would leave one: the project's labels, a service the file no longer has
    const labels = ['project=' + P, 'service=gone', 'container-number=1', 'oneoff=False', 'config-hash=x'].flatMap((l) => ['--label', `com.docker.compose.${l}`]);
    await d.dockerOk(['run', '-d', '--name', `${P}-gone-1`, ...labels, 'busybox', 'sleep', '3600']);
    try {
      const names = (out: string) => out.trim().split('\n').filter(Boolean).sort();
      assert.deepEqual(names(await berthOk(['compose', '-f', composeFile, 'ps', '--format', '{{.Name}}'])), [`${P}-db-1`, `${P}-gone-1`, `${P}-web-1`, `${P}-web-2`]);
      assert.deepEqual(names(await berthOk(['compose', '-f', composeFile, 'ps', '--orphans=false', '--format', '{{.Name}}'])), [`${P}-db-1`, `${P}-web-1`, `${P}-web-2`]);
      assert.deepEqual(names(await berthOk(['compose', '-f', composeFile, 'ps', '--orphans', '--format', '{{.Name}}'])), [`${P}-db-1`, `${P}-gone-1`, `${P}-web-1`, `${P}-web-2`]);
    } finally {
      await d.dockerOk(['rm', '-f', `${P}-gone-1`]);
    }
  });

  test('config --hash is the config-hash label up put on the containers', async () => {
    const hashes = await berthOk(['compose', '-f', composeFile, 'config', '--hash', '*']);
    for (const line of hashes.trim().split('\n')) {
      const [service, hash] = line.split(' ');
      assert.equal((await d.dockerOk(['inspect', '--format', '{{index .Config.Labels "com.docker.compose.config-hash"}}', `${P}-${service}-1`])).trim(), hash, service);
    }
  });

  test('pull --policy missing leaves present images alone; run --pull never/missing', async () => {
    const r = await berth(['compose', '-f', composeFile, 'pull', '--policy', 'missing']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Pulling|Error/);
    const run = await berth(['compose', '-f', composeFile, 'run', '--rm', '--no-deps', '--pull', 'missing', '-T', 'db', 'echo', 'pulled nothing']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /pulled nothing/);
    const other = fs.mkdtempSync(path.join(d.root, 'pullnever-'));
    fs.writeFileSync(path.join(other, 'compose.yaml'), 'services:\n  x:\n    image: berth-test-absent:1\n');
    const never = await berth(['compose', '-f', path.join(other, 'compose.yaml'), '-p', 'pn', 'run', '--rm', '--pull', 'never', '-T', 'x', 'true']);
    assert.equal(never.code, 1);
    assert.match(never.stderr, /image berth-test-absent:1 is not present and pull_policy is never/);
  });

  test('--all-resources makes the networks and volumes no service uses', async () => {
    const other = fs.mkdtempSync(path.join(d.root, 'allres-'));
    const file = path.join(other, 'compose.yaml');
    fs.writeFileSync(file, 'services:\n  x:\n    image: busybox\n    command: ["sleep", "3600"]\n    init: true\nnetworks:\n  spare: {}\nvolumes:\n  unused: {}\n');
    const base = ['compose', '-f', file, '-p', 'allres'];
    try {
      await berthOk([...base, 'up', '-d']);
      assert.equal((await d.docker(['network', 'inspect', 'allres_spare'])).code, 1, 'not made without the flag');
      await berthOk(['compose', '--all-resources', '-f', file, '-p', 'allres', 'up', '-d']);
      await d.dockerOk(['network', 'inspect', 'allres_spare']);
      await d.dockerOk(['volume', 'inspect', 'allres_unused']);
    } finally {
      await berth([...base, 'down', '-v', '-t', '1']);
    }
    assert.equal((await d.docker(['network', 'inspect', 'allres_spare'])).code, 1, 'down removed it');
  });
});

describe('--dry-run', () => {
  test('down, up --force-recreate: compose\'s DRY-RUN MODE lines, nothing changed on berthd', async () => {
    const before = await dockerContainers();
    const down = await berth(['compose', '-f', composeFile, '--dry-run', 'down']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, new RegExp(`^ DRY-RUN MODE -  Container ${P}-web-1 Stopped $`, 'm'));
    assert.match(down.stderr, new RegExp(`^ DRY-RUN MODE -  Container ${P}-db-1 Removed $`, 'm'));
    assert.match(down.stderr, new RegExp(`^ DRY-RUN MODE -  Network ${P}_default Removed $`, 'm'));
    // persistent, as in compose: after the subcommand too
    const up = await berth(['compose', '-f', composeFile, 'up', '-d', '--force-recreate', '--dry-run']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, new RegExp(`^ DRY-RUN MODE -  Container ${P}-web-2 Recreated $`, 'm'));
    assert.match(up.stderr, new RegExp(`^ DRY-RUN MODE -  Container ${P}-web-2 Started $`, 'm'));
    const after = await dockerContainers();
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [name, c] of after) assert.equal(c.Id, before.get(name)!.Id, `${name} kept`);
    assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}}', `${P}-web-1`]), /running/);
  });

  test('a new project: made, started and waited on only in pretence; exec is refused', async () => {
    const other = fs.mkdtempSync(path.join(d.root, 'dry-'));
    const file = path.join(other, 'compose.yaml');
    fs.writeFileSync(file, 'services:\n  db:\n    image: busybox\n    healthcheck: {test: ["CMD", "true"], interval: 1s}\n  web:\n    image: busybox\n    depends_on: {db: {condition: service_healthy}}\nvolumes:\n  data: {}\n');
    const r = await berth(['compose', '--dry-run', '-f', file, '-p', 'dry', 'up', '-d', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    for (const l of ['Network dry_default Created', 'Container dry-db-1 Created', 'Container dry-db-1 Healthy', 'Container dry-web-1 Started']) {
      assert.ok(r.stderr.split('\n').includes(` DRY-RUN MODE -  ${l} `), `${l} in:\n${r.stderr}`);
    }
    assert.equal((await d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.compose.project=dry'])).trim(), '');
    assert.equal((await d.docker(['network', 'inspect', 'dry_default'])).code, 1);
    const attached = await berth(['compose', '--dry-run', '-f', file, '-p', 'dry', 'run', '--rm', 'web', 'true']);
    assert.equal(attached.code, 1);
    assert.match(attached.stderr, /interactive run is not supported in dry-run mode/);
    const ex = await berth(['compose', '--dry-run', '-p', P, 'exec', '-T', 'db', 'true']);
    assert.equal(ex.code, 1);
    assert.match(ex.stderr, /berth compose exec: --dry-run is not supported/);
  });
});
