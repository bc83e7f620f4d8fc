// A real multi-service application through `berth compose`, as a user runs it: nginx (made
// from Debian packages) in front of a small HTTP service built from a Dockerfile, and a stateful
// service writing to a named volume with a health check the others wait for (service_healthy).
// Checked with curl through the published port, by name from inside, across down/up (data kept)
// and down -v (data gone); a changed service is the only one recreated; scale; orphans; and
// the docker CLI sees the project through compose's labels.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';
import { loadDebianImages } from '../helpers/images';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const P = 'shop';
let dir: string;
let file: string;

const API_DOCKERFILE = `FROM busybox
COPY index.html /www/index.html
CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]
`;

// the state token is made once per volume: it survives down/up and goes with down -v ($$: not interpolated)
const DB_START = '[ -f /data/state ] || echo "state-$$RANDOM$$RANDOM" > /data/state; sleep 1; touch /data/ready; exec httpd -f -p 7000 -h /data';

const NGINX_CONF = `server {
  listen 8080;
  location /api/ { proxy_pass http://backend:8000/; }
  location /state { proxy_pass http://db:7000/state; }
}
`;

function composeFile(o: { apiEnv?: string; extra?: boolean } = {}): string {
  return `services:
  db:
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(DB_START)}]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 2s
      retries: 20
  api:
    build: ./api
    environment:
      MODE: ${o.apiEnv ?? 'one'}
    depends_on:
      db:
        condition: service_healthy
    networks:
      default:
        aliases: [backend]
  web:
    image: nginx:latest
    ports:
      - "8080"
    configs:
      - source: site
        target: /etc/nginx/conf.d/app.conf
    depends_on:
      api:
        condition: service_started
        restart: true
      db:
        condition: service_healthy
${o.extra ? `  extra:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
` : ''}volumes:
  data: {}
configs:
  site:
    file: ./nginx.conf
`;
}

function writeApp(o: { apiEnv?: string; extra?: boolean } = {}): void {
  fs.writeFileSync(file, composeFile(o));
}

async function compose(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return d.berth(['compose', '-f', file, '-p', P, ...args], { timeout: 240_000 });
}

async function composeOk(...args: string[]): Promise<string> {
  const r = await compose(...args);
  assert.equal(r.code, 0, `berth compose ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

/** service → container ids, from the labels, through the docker CLI. */
async function idsByService(): Promise<Record<string, string[]>> {
  const out = await d.dockerOk(['ps', '-a', '--filter', `label=com.docker.compose.project=${P}`, '--format', '{{.ID}} {{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.container-number"}}']);
  const m: Record<string, string[]> = {};
  for (const line of out.trim().split('\n').filter(Boolean).sort((a, b) => Number(a.split(' ')[2]) - Number(b.split(' ')[2]))) {
    const [id, svc] = line.split(' ');
    (m[svc] ??= []).push(id);
  }
  return m;
}

async function webPort(): Promise<number> {
  const out = await d.dockerOk(['port', `${P}-web-1`, '8080/tcp']);
  return Number(out.trim().split('\n')[0].split(':').pop());
}

async function curl(urlPath: string): Promise<string> {
  const port = await webPort();
  // nginx may still be reading its config right after the start
  for (let i = 0; ; i++) {
    const r = await runCmd('curl', ['-fsS', '--max-time', '5', `http://127.0.0.1:${port}${urlPath}`], process.env);
    if (r.code === 0 || i >= 20) { assert.equal(r.code, 0, `curl ${urlPath}: ${r.stderr}`); return r.stdout.trim(); }
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function setup(): Promise<void> {
  await loadDebianImages(d);
  dir = path.join(d.root, 'shop');
  fs.mkdirSync(path.join(dir, 'api'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'api', 'Dockerfile'), API_DOCKERFILE);
  fs.writeFileSync(path.join(dir, 'api', 'index.html'), 'hello from api\n');
  fs.writeFileSync(path.join(dir, 'api', '.dockerignore'), 'secret.txt\n');
  fs.writeFileSync(path.join(dir, 'api', 'secret.txt'), 'not in the context\n');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), NGINX_CONF);
  file = path.join(dir, 'compose.yaml');
  writeApp();
}

let firstState = '';

test('build, then up -d --wait: the app answers through nginx, names resolve inside, labels as compose v2', { timeout: 600_000 }, async () => {
  await setup();
  const built = await composeOk('build');
  assert.match(built, /Service api {1,2}Built/);
  assert.match(await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']), new RegExp(`^${P}-api:latest$`, 'm'));
  const up = await composeOk('up', '-d', '--wait');
  for (const line of [`Network ${P}_default Created`, `Volume "${P}_data" Created`, `Container ${P}-db-1 Healthy`, `Container ${P}-api-1 Started`, `Container ${P}-web-1 Started`]) {
    assert.ok(up.includes(line), `${line} in:\n${up}`);
  }
  assert.equal(await curl('/api/'), 'hello from api');
  firstState = await curl('/state');
  assert.match(firstState, /^state-\d+$/);
  // by service name and by alias, from inside (the debian-based nginx image has getent)
  for (const name of ['api', 'backend', 'db', `${P}-api-1`]) {
    const r = await d.docker(['exec', `${P}-web-1`, 'getent', 'hosts', name]);
    assert.equal(r.code, 0, `getent hosts ${name}: ${r.stderr}`);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\.\d+\s/);
  }
  // the config file is mounted read-only where compose mounts it; .dockerignore kept secret.txt out of the image
  assert.equal((await d.dockerOk(['exec', `${P}-web-1`, 'cat', '/etc/nginx/conf.d/app.conf'])), NGINX_CONF);
  assert.notEqual((await d.docker(['run', '--rm', `${P}-api`, 'ls', '/www/secret.txt'])).code, 0);

  // what `docker compose ps` reads: compose v2's labels on containers, the network and the volume
  const ids = await idsByService();
  assert.deepEqual(Object.keys(ids).sort(), ['api', 'db', 'web']);
  const labels = JSON.parse(await d.dockerOk(['inspect', '--format', '{{json .Config.Labels}}', `${P}-api-1`])) as Record<string, string>;
  assert.equal(labels['com.docker.compose.project'], P);
  assert.equal(labels['com.docker.compose.service'], 'api');
  assert.equal(labels['com.docker.compose.container-number'], '1');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.match(labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/);
  assert.equal(labels['com.docker.compose.project.working_dir'], dir);
  assert.equal(labels['com.docker.compose.project.config_files'], file);
  assert.equal(labels['com.docker.compose.depends_on'], 'db:service_healthy:false');
  assert.match(labels['com.docker.compose.image'], /^sha256:[0-9a-f]{64}$/);
  assert.match(labels['com.docker.compose.version'], /^2\.\d+\.\d+$/);
  const net = JSON.parse(await d.dockerOk(['network', 'inspect', '--format', '{{json .Labels}}', `${P}_default`])) as Record<string, string>;
  assert.equal(net['com.docker.compose.project'], P);
  assert.equal(net['com.docker.compose.network'], 'default');
  const vol = JSON.parse(await d.dockerOk(['volume', 'inspect', '--format', '{{json .Labels}}', `${P}_data`])) as Record<string, string>;
  assert.equal(vol['com.docker.compose.project'], P);
  assert.equal(vol['com.docker.compose.volume'], 'data');
});

test('up again: nothing changed, nothing recreated; one changed service: only it is recreated', async () => {
  const before1 = await idsByService();
  const again = await composeOk('up', '-d');
  assert.ok(again.includes(`Container ${P}-api-1 Running`), again);
  assert.deepEqual(await idsByService(), before1);

  writeApp({ apiEnv: 'two' });
  const changed = await composeOk('up', '-d', '--wait');
  assert.ok(changed.includes(`Container ${P}-api-1 Recreated`), changed);
  const after = await idsByService();
  assert.notEqual(after.api[0], before1.api[0]);
  assert.equal(after.db[0], before1.db[0]);
  assert.equal(after.web[0], before1.web[0], 'web is restarted (depends_on restart: true), not recreated');
  assert.ok(changed.includes(`Container ${P}-web-1 Started`), changed);
  assert.match(await d.dockerOk(['exec', `${P}-api-1`, 'env']), /^MODE=two$/m);
  assert.equal(await curl('/api/'), 'hello from api');
  assert.equal(await curl('/state'), firstState);
});

test('scale up and down by number, highest removed first', async () => {
  await composeOk('up', '-d', '--scale', 'api=3');
  const three = await idsByService();
  assert.equal(three.api.length, 3);
  const names = (await d.dockerOk(['ps', '--filter', `label=com.docker.compose.service=api`, '--format', '{{.Names}}'])).trim().split('\n').sort();
  assert.deepEqual(names, [`${P}-api-1`, `${P}-api-2`, `${P}-api-3`]);
  // each replica by its name, the service name and the alias
  for (const name of [`${P}-api-2`, `${P}-api-3`, 'api', 'backend']) {
    const r = await d.docker(['exec', `${P}-web-1`, 'getent', 'hosts', name]);
    assert.equal(r.code, 0, `getent hosts ${name}: ${r.stderr}`);
  }
  const down = await composeOk('up', '-d', '--scale', 'api=1');
  assert.ok(down.includes(`Container ${P}-api-3 Removed`) && down.includes(`Container ${P}-api-2 Removed`), down);
  const one = await idsByService();
  assert.deepEqual(one.api, [three.api[0]]);
});

test('orphans: reported with compose\'s warning, removed with --remove-orphans', async () => {
  writeApp({ apiEnv: 'two', extra: true });
  await composeOk('up', '-d', 'extra');
  assert.equal((await idsByService()).extra.length, 1);
  writeApp({ apiEnv: 'two' });
  const warned = await composeOk('up', '-d');
  assert.ok(warned.includes(`Found orphan containers ([${P}-extra-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`), warned);
  assert.equal((await idsByService()).extra.length, 1);
  const removed = await composeOk('up', '-d', '--remove-orphans');
  assert.ok(removed.includes(`Container ${P}-extra-1 Removed`), removed);
  assert.equal((await idsByService()).extra, undefined);
});

test('stop, start, restart, pause, unpause, kill, rm of the project', async () => {
  const stopped = await composeOk('stop', '-t', '1');
  assert.ok(stopped.indexOf(`Container ${P}-web-1 Stopped`) < stopped.indexOf(`Container ${P}-db-1 Stopping`), `web stops before db:\n${stopped}`);
  assert.equal((await d.dockerOk(['ps', '-q', '--filter', `label=com.docker.compose.project=${P}`])).trim(), '');
  const started = await composeOk('start');
  assert.ok(started.includes(`Container ${P}-db-1 Healthy`) && started.includes(`Container ${P}-web-1 Started`), started);
  assert.equal(await curl('/state'), firstState);
  await composeOk('pause', 'api');
  assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}}', `${P}-api-1`]), /paused/);
  await composeOk('unpause', 'api');
  assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}}', `${P}-api-1`]), /running/);
  await composeOk('restart', 'api');
  await composeOk('kill', 'api');
  assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}}', `${P}-api-1`]), /exited/);
  const rm = await composeOk('rm', '-f', 'api');
  assert.ok(rm.includes(`Container ${P}-api-1 Removed`), rm);
  assert.equal((await idsByService()).api, undefined);
  await composeOk('up', '-d', '--wait');
});

test('down keeps the named volume, down -v removes it; external and missing things are errors', async () => {
  const down = await composeOk('down', '-t', '1');
  assert.ok(down.includes(`Network ${P}_default Removed`), down);
  assert.equal((await d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${P}`])).trim(), '');
  assert.equal((await d.docker(['network', 'inspect', `${P}_default`])).code, 1);
  await d.dockerOk(['volume', 'inspect', `${P}_data`]);
  await composeOk('up', '-d', '--wait');
  assert.equal(await curl('/state'), firstState, 'the data survived down/up');

  const gone = await composeOk('down', '-v', '-t', '1');
  assert.ok(gone.includes(`Volume ${P}_data Removed`), gone);
  assert.equal((await d.docker(['volume', 'inspect', `${P}_data`])).code, 1);
  await composeOk('up', '-d', '--wait');
  const fresh = await curl('/state');
  assert.match(fresh, /^state-\d+$/);
  assert.notEqual(fresh, firstState, 'a new volume, new data');
  await composeOk('down', '-v', '-t', '1', '--rmi', 'local');
  assert.equal((await d.docker(['image', 'inspect', `${P}-api`])).code, 1, '--rmi local removed the built image');
});

test('failures name what failed: an unhealthy dependency, an unsupported key, a missing external network', async () => {
  const bad = path.join(d.root, 'bad');
  fs.mkdirSync(bad, { recursive: true });
  const run = (yaml: string, ...args: string[]) => {
    fs.writeFileSync(path.join(bad, 'compose.yaml'), yaml);
    return d.berth(['compose', '-f', path.join(bad, 'compose.yaml'), '-p', 'bad', ...args], { timeout: 120_000 });
  };
  const sick = await run(`services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 2}
  app:
    image: busybox
    command: ["sleep", "1000"]
    depends_on: {db: {condition: service_healthy}}
`, 'up', '-d');
  assert.equal(sick.code, 1);
  assert.match(sick.stderr, /dependency failed to start: container bad-db-1 is unhealthy/);
  assert.match(await d.dockerOk(['inspect', '--format', '{{.State.Status}}', 'bad-app-1']), /created/);
  const waited = await run(`services:
  job:
    image: busybox
    command: ["sh", "-c", "sleep 1; exit 4"]
    # still "starting" when it exits: --wait is waiting, whatever the machine's speed
    healthcheck: {test: ["CMD", "true"], interval: 30s, start_period: 30s}
`, 'up', '--wait', '--remove-orphans');
  assert.equal(waited.code, 1);
  assert.match(waited.stderr, /container bad-job-1 exited \(4\)/);
  const refused = await run(`services:
  app:
    image: busybox
    cgroup_parent: /custom
`, 'up', '-d', '--remove-orphans');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /service "app": "cgroup_parent" is not supported by berth compose/);
  const external = await run(`services:
  app:
    image: busybox
    networks: [outside]
networks:
  outside:
    external: true
    name: no-such-net
`, 'up', '-d');
  assert.equal(external.code, 1);
  assert.match(external.stderr, /network no-such-net declared as external, but could not be found/);
  await composeOkIn(bad);
});

async function composeOkIn(bad: string): Promise<void> {
  const r = await d.berth(['compose', '-f', path.join(bad, 'compose.yaml'), '-p', 'bad', 'down', '-v', '-t', '1', '--remove-orphans']);
  assert.equal(r.code, 0, r.stderr);
}
