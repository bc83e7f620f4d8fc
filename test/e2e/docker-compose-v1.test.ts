// Debian's docker-compose 1.29 (python, docker-py) against berthd, unchanged: one application
// (a web service built from a Dockerfile, a stateful service writing to a named volume with a
// health check the web service waits on with service_healthy, a debian client that reaches the
// others by name) through up -d, ps, logs, exec (with and without a terminal), run --rm, scale,
// recreate, down / up (data kept) and down -v (data gone); then the same kind of file in the 3.x
// format, built through docker-py's own /build call at a pinned older API version.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCmd, type TestDaemon } from '../helpers/daemon';
import { dockerOk, inspectOf, useNetworkDaemon } from '../helpers/network';

let d: TestDaemon;
useNetworkDaemon((x) => { d = x; });

interface Project { dir: string; name: string; env: Record<string, string> }

/** Writes a project directory under the daemon's root: the compose file and a web/ build context. */
function project(name: string, composeFile: string, env: Record<string, string> = {}): Project {
  const dir = path.join(d.root, name);
  fs.mkdirSync(path.join(dir, 'web'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'web', 'Dockerfile'), [
    'FROM busybox',
    'ARG GREETING=hello',
    'RUN mkdir -p /www && echo "$GREETING from web" > /www/index.html',
    'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), composeFile);
  return { dir, name, env };
}

function compose(p: Project, args: string[], opts: { timeout?: number; input?: string } = {}) {
  return runCmd('docker-compose', ['-f', path.join(p.dir, 'docker-compose.yml'), '-p', p.name, ...args],
    { ...d.env, ...p.env }, { timeout: opts.timeout ?? 120_000, input: opts.input });
}

async function composeOk(p: Project, args: string[], timeout?: number): Promise<{ stdout: string; stderr: string }> {
  const r = await compose(p, args, { timeout });
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
  return r;
}

/** The containers of a project's service, by compose v1's labels. */
async function containersOf(p: Project, service: string, all = false): Promise<string[]> {
  const out = await dockerOk(d, ['ps', ...(all ? ['-a'] : []), '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${p.name}`,
    '--filter', `label=com.docker.compose.service=${service}`]);
  return out.split('\n').filter(Boolean).sort();
}

async function volumeNames(): Promise<string[]> {
  return (await dockerOk(d, ['volume', 'ls', '-q'])).split('\n').filter(Boolean);
}

/** GET / on the web service through its published port (the kernel picked the host port). */
async function curlWeb(p: Project): Promise<string> {
  const port = (await composeOk(p, ['port', 'web', '8080'])).stdout.trim();
  assert.match(port, /^0\.0\.0\.0:\d+$/);
  const r = await runCmd('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port.split(':')[1]}/`], process.env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

// db becomes healthy a little after it starts (its ready file, kept on the volume, is made
// afresh at each start): service_healthy must wait for it.
const V2_FILE = `version: "2.4"
services:
  db:
    image: busybox
    init: true
    command: sh -c 'rm -f /data/ready; sleep 2; echo started >> /data/log; touch /data/ready; echo db-ready; exec sleep 3600'
    volumes:
      - dbdata:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 3s
      retries: 30
  web:
    build:
      context: ./web
      args:
        GREETING: hello
    init: true
    ports:
      - "8080"
    depends_on:
      db:
        condition: service_healthy
  client:
    image: debian:bookworm
    init: true
    command: sleep 3600
    depends_on: [web]
    links: ["db:database"]
volumes:
  dbdata:
`;

let app: Project;

test('up -d: builds web, creates the network and the volume, waits for db to be healthy, publishes the port', async () => {
  app = project('appv2', V2_FILE);
  const up = await composeOk(app, ['up', '-d'], 300_000);
  assert.match(up.stdout + up.stderr, /Successfully tagged appv2_web:latest/);
  assert.match(up.stderr, /Creating network "appv2_default" with the default driver/);
  assert.match(up.stderr, /Creating volume "appv2_dbdata" with default driver/);
  // web was started only once db's health check could pass: after db made /data/ready (the
  // health log keeps the last 5 probes only, so the file's time is the witness).
  const [db] = await containersOf(app, 'db');
  const [web] = await containersOf(app, 'web');
  const dbState = (await inspectOf(d, db)).State;
  assert.equal(dbState.Health.Status, 'healthy');
  const readyAt = Number((await composeOk(app, ['exec', '-T', 'db', 'stat', '-c', '%Y', '/data/ready'])).stdout.trim());
  const webStarted = (await inspectOf(d, web)).State.StartedAt;
  assert.ok(Date.parse(webStarted) / 1000 >= readyAt, `web started at ${webStarted}, before db was ready (${readyAt})`);
  assert.ok(Date.parse(webStarted) >= Date.parse(dbState.StartedAt) + 2000, `web started at ${webStarted}, db at ${dbState.StartedAt}: db sleeps 2 s before it is ready`);
  assert.equal(await curlWeb(app), 'hello from web\n');
  const ps = (await composeOk(app, ['ps'])).stdout;
  assert.match(ps, /appv2_db_1 .* Up \(healthy\)/);
  assert.match(ps, /appv2_web_1 .* Up .*0\.0\.0\.0:\d+->8080\/tcp/);
  assert.match(ps, /appv2_client_1 .* Up/);
  assert.deepEqual((await composeOk(app, ['ps', '--services'])).stdout.split('\n').filter(Boolean).sort(), ['client', 'db', 'web']);
  // A second up changes nothing.
  const again = await composeOk(app, ['up', '-d']);
  assert.match(again.stderr, /appv2_db_1 is up-to-date/);
  assert.deepEqual(await containersOf(app, 'web'), [web]);
});

test('services reach each other by name on the project network, and by a link alias', async () => {
  const hosts = (await composeOk(app, ['exec', '-T', 'client', 'getent', 'hosts', 'web', 'db', 'database'])).stdout;
  assert.match(hosts, /^\d+\.\d+\.\d+\.\d+\s+web$/m);
  const dbIp = /^(\d+\.\d+\.\d+\.\d+)\s+db$/m.exec(hosts)?.[1];
  assert.ok(dbIp, hosts);
  // `links: [db:database]` is an endpoint link: the alias is client's own name for db.
  assert.match(hosts, new RegExp(`^${dbIp.replace(/\./g, '\\.')}\\s+database$`, 'm'));
  const [client] = await containersOf(app, 'client');
  assert.ok((await inspectOf(d, client)).NetworkSettings.Networks.appv2_default.Links.includes('appv2_db_1:database'));
  const other = await d.docker(['run', '--rm', '--network', 'appv2_default', 'debian:bookworm', 'getent', 'hosts', 'database']);
  assert.equal(other.code, 2, other.stdout);
  const page = await composeOk(app, ['exec', '-T', 'client', 'bash', '-c',
    'exec 3<>/dev/tcp/web/8080; printf "GET / HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n" >&3; cat <&3']);
  assert.match(page.stdout, /^HTTP\/1\.[01] 200/);
  assert.match(page.stdout, /hello from web/);
});

test('exec: exit codes, environment and user, and a terminal', async () => {
  const r = await compose(app, ['exec', '-T', 'db', 'sh', '-c', 'echo out; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal((await composeOk(app, ['exec', '-T', '-e', 'X=1', '-u', 'nobody', '-w', '/tmp', 'db', 'sh', '-c', 'echo $X $(id -un) $(pwd)'])).stdout, '1 nobody /tmp\n');
  // Without -T compose wants a terminal: script(1) gives it one.
  const tty = await runCmd('script', ['-qec', `docker-compose -f ${path.join(app.dir, 'docker-compose.yml')} -p ${app.name} exec db sh -c 'tty; exit 4'`, '/dev/null'],
    { ...d.env, ...app.env });
  assert.equal(tty.code, 4, tty.stderr);
  assert.match(tty.stdout, /\/dev\/pts\/\d+/);
});

test('run --rm: output, exit code, the one-off container is gone', async () => {
  const r = await compose(app, ['run', '--rm', 'client', 'sh', '-c', 'getent hosts web >/dev/null && echo found-web; exit 7']);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stdout, /found-web/);
  const r2 = await compose(app, ['run', '--rm', '-T', '-e', 'V=x', '--no-deps', 'client', 'sh', '-c', 'echo "v=$V"']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout.trim(), 'v=x');
  assert.equal(await dockerOk(d, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${app.name}`, '--filter', 'label=com.docker.compose.oneoff=True']), '');
});

test('logs: per service, with timestamps and tail', async () => {
  const logs = (await composeOk(app, ['logs', '--no-color', 'db'])).stdout;
  assert.match(logs, /^db_1\s+\| db-ready$/m);
  const stamped = (await composeOk(app, ['logs', '--no-color', '-t', '--tail=1', 'db'])).stdout;
  assert.match(stamped, /^db_1\s+\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z db-ready$/m);
});

test('scale to 3 and back to 1 (up --scale and the scale command)', async () => {
  await composeOk(app, ['up', '-d', '--scale', 'client=3']);
  const three = await containersOf(app, 'client');
  assert.equal(three.length, 3);
  const names = (await Promise.all(three.map((id) => inspectOf(d, id)))).map((c) => c.Name).sort();
  assert.deepEqual(names, ['/appv2_client_1', '/appv2_client_2', '/appv2_client_3']);
  // Each replica is on the network and resolves the others' service name.
  const seen = (await composeOk(app, ['exec', '-T', '--index=3', 'client', 'getent', 'hosts', 'client'])).stdout.trim().split('\n');
  assert.equal(seen.length, 3, seen.join('\n'));
  const scaled = await composeOk(app, ['scale', 'client=1']);
  assert.match(scaled.stderr, /Stopping and removing appv2_client_3/);
  const one = await containersOf(app, 'client', true);
  assert.equal(one.length, 1);
  assert.equal((await inspectOf(d, one[0])).Name, '/appv2_client_1');
});

test('a changed service is recreated (renamed aside, replaced), the others are kept', async () => {
  const [db] = await containersOf(app, 'db');
  const [web] = await containersOf(app, 'web');
  const [client] = await containersOf(app, 'client');
  fs.writeFileSync(path.join(app.dir, 'docker-compose.yml'), V2_FILE.replace('command: sleep 3600', 'command: sleep 3601'));
  const up = await composeOk(app, ['up', '-d']);
  assert.match(up.stderr, /Recreating appv2_client_1/);
  assert.deepEqual(await containersOf(app, 'db'), [db]);
  assert.deepEqual(await containersOf(app, 'web'), [web]);
  const [client2] = await containersOf(app, 'client', true);
  assert.notEqual(client2, client);
  const c = await inspectOf(d, client2);
  assert.equal(c.Name, '/appv2_client_1');
  assert.deepEqual(c.Config.Cmd, ['sleep', '3601']);
  assert.deepEqual(c.NetworkSettings.Networks.appv2_default.Aliases.sort(), ['client', client2.slice(0, 12)].sort());
  assert.equal((await d.request('GET', `/containers/${client}/json`)).status, 404);
});

test('down keeps the named volume and its data; down -v removes it', async () => {
  const down = await composeOk(app, ['down']);
  assert.match(down.stderr, /Removing network appv2_default/);
  assert.equal(await dockerOk(d, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${app.name}`]), '');
  assert.ok((await volumeNames()).includes('appv2_dbdata'));
  await composeOk(app, ['up', '-d'], 180_000);
  assert.equal((await composeOk(app, ['exec', '-T', 'db', 'cat', '/data/log'])).stdout, 'started\nstarted\n');
  assert.equal(await curlWeb(app), 'hello from web\n');
  const gone = await composeOk(app, ['down', '-v']);
  assert.match(gone.stderr, /Removing volume appv2_dbdata/);
  assert.equal((await volumeNames()).includes('appv2_dbdata'), false);
  assert.equal((await dockerOk(d, ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('appv2_default'), false);
  assert.equal(await dockerOk(d, ['ps', '-aq']), '');
});

test('up without -d: attached output, --abort-on-container-exit and --exit-code-from', async () => {
  const p = project('attached', `version: "2.4"
services:
  a:
    image: busybox
    command: sh -c 'echo a-says-hi; sleep 1; echo a-bye; exit 5'
  b:
    image: busybox
    init: true
    command: sh -c 'echo b-says-hi; exec sleep 60'
`);
  const r = await compose(p, ['up', '--no-color', '--abort-on-container-exit', '--exit-code-from', 'a']);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stdout, /^a_1\s+\| a-says-hi$/m);
  assert.match(r.stdout, /^a_1\s+\| a-bye$/m);
  assert.match(r.stdout, /^b_1\s+\| b-says-hi$/m);
  assert.match(r.stdout, /attached_a_1 exited with code 5/);
  await composeOk(p, ['down']);
});

test('a health check that never passes: up -d fails naming the unhealthy container', async () => {
  const p = project('sick', `version: "2.4"
services:
  db:
    image: busybox
    init: true
    command: sleep 3600
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 2
  web:
    image: busybox
    init: true
    command: sleep 3600
    depends_on:
      db:
        condition: service_healthy
`);
  const r = await compose(p, ['up', '-d']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ERROR: for web {2}Container "[0-9a-f]{12}" is unhealthy\./);
  assert.deepEqual(await containersOf(p, 'web', true), []);
  await composeOk(p, ['down']);
});

test('a 3.x file at a pinned older API version, built through docker-py: networks with aliases, healthcheck, volume data', async () => {
  // COMPOSE_DOCKER_CLI_BUILD=0: compose's own POST /build (rm, forcerm, nocache, pull, buildargs),
  // not the docker CLI's; COMPOSE_API_VERSION: every request at /v1.30 (the 3.3 file format's era).
  const p = project('appv3', `version: "3.8"
services:
  db:
    image: busybox
    init: true
    command: sh -c 'rm -f /data/ready; sleep 1; echo started >> /data/log; touch /data/ready; exec sleep 3600'
    volumes:
      - type: volume
        source: dbdata
        target: /data
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/ready"]
      interval: 1s
      timeout: 3s
      retries: 30
      start_period: 1s
    networks:
      back:
        aliases: [database]
  web:
    build:
      context: ./web
      args:
        GREETING: hi3
    ports:
      - target: 8080
    environment:
      MODE: three
    labels:
      app.tier: web
    depends_on:
      db:
        condition: service_healthy
    networks: [back, front]
    init: true
    stop_grace_period: 3s
  client:
    image: debian:bookworm
    init: true
    command: sleep 3600
    networks: [front]
volumes:
  dbdata:
networks:
  back:
  front:
`, { COMPOSE_DOCKER_CLI_BUILD: '0', COMPOSE_API_VERSION: '1.30' });
  const up = await composeOk(p, ['up', '-d', '--build'], 300_000);
  assert.match(up.stderr + up.stdout, /Successfully tagged appv3_web:latest/);
  assert.equal(await curlWeb(p), 'hi3 from web\n');
  const [web] = await containersOf(p, 'web');
  const w = await inspectOf(d, web);
  assert.deepEqual(Object.keys(w.NetworkSettings.Networks).sort(), ['appv3_back', 'appv3_front']);
  assert.equal(w.Config.Labels['app.tier'], 'web');
  assert.ok(w.Config.Env.includes('MODE=three'));
  assert.equal(w.HostConfig.Init, true);
  // db answers to its alias on back; client (front only) finds web but not db.
  assert.match(await dockerOk(d, ['run', '--rm', '--network', 'appv3_back', 'debian:bookworm', 'getent', 'hosts', 'database']), /\sdatabase$/m);
  assert.match((await composeOk(p, ['exec', '-T', 'client', 'getent', 'hosts', 'web'])).stdout, /\sweb$/m);
  assert.equal((await compose(p, ['exec', '-T', 'client', 'getent', 'hosts', 'db'])).code, 2);
  await composeOk(p, ['down']);
  await composeOk(p, ['up', '-d'], 180_000);
  assert.equal((await composeOk(p, ['exec', '-T', 'db', 'cat', '/data/log'])).stdout, 'started\nstarted\n');
  await composeOk(p, ['down', '-v', '--rmi', 'local']);
  assert.equal((await volumeNames()).includes('appv3_dbdata'), false);
  assert.equal((await d.request('GET', '/images/appv3_web/json')).status, 404);
});
