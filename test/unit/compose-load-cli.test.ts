// `berth compose config` and the command group, run as the built bin/berth (no daemon needed).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { BERTH } from '../helpers/daemon';
import { CACHE_HOME, writeProject } from '../fixtures/compose/project';

function berth(cwd: string, args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(BERTH, args, { cwd, input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', XDG_CACHE_HOME: CACHE_HOME, BERTH_CLI_SPARE: '0', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = writeProject({
  'compose.yaml': `services:
  web:
    image: "nginx:\${TAG:-latest}"
    ports: ["8080:80"]
    volumes: [./html:/usr/share/nginx/html:ro, data:/data]
    depends_on: [db]
    environment: [B=2, A=1]
  db:
    image: postgres
    profiles: [db]
  builder:
    build: ./src
volumes:
  data:
`,
}, 'Shop');

test('config prints the resolved model as YAML in compose\'s layout', () => {
  const r = berth(dir, ['compose', '--profile', 'db', 'config']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `name: shop
services:
  builder:
    build:
      context: ${path.join(dir, 'src')}
      dockerfile: Dockerfile
    networks:
      default: null
  db:
    image: postgres
    networks:
      default: null
    profiles:
      - db
  web:
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      A: "1"
      B: "2"
    image: nginx:latest
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    volumes:
      - type: bind
        source: ${path.join(dir, 'html')}
        target: /usr/share/nginx/html
        read_only: true
        bind:
          create_host_path: true
      - type: volume
        source: data
        target: /data
networks:
  default:
    name: shop_default
volumes:
  data:
    name: shop_data
`);
});

test('config --format json is the same model; -p and the environment reach the loader', () => {
  const r = berth(dir, ['compose', '-p', 'other', '--profile', 'db', 'config', '--format', 'json'], { TAG: '1.25' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.name, 'other');
  assert.equal(j.services.web.image, 'nginx:1.25');
  assert.equal(j.networks.default.name, 'other_default');
  const y = YAML.parse(berth(dir, ['compose', '-p', 'other', '--profile', 'db', 'config'], { TAG: '1.25' }).stdout);
  assert.deepEqual(y, j);
});

test('config --services, --volumes, --profiles, --images, -q', () => {
  assert.equal(berth(dir, ['compose', '--profile', 'db', 'config', '--services']).stdout, 'builder\ndb\nweb\n');
  assert.equal(berth(dir, ['compose', '--profile', 'db', 'config', '--volumes']).stdout, 'data\n');
  assert.equal(berth(dir, ['compose', 'config', '--profiles']).stdout, 'db\n');
  assert.equal(berth(dir, ['compose', '--profile', 'db', 'config', '--images']).stdout, 'shop-builder\npostgres\nnginx:latest\n');
  const q = berth(dir, ['compose', '--profile', 'db', 'config', '-q']);
  assert.deepEqual([q.status, q.stdout], [0, '']);
});

test('config naming a service enables its profile (web needs db: without it the project is invalid)', () => {
  const bad = berth(dir, ['compose', 'config', '--services']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /service db is required by web but is disabled/);
  assert.equal(berth(dir, ['compose', 'config', '--services', 'db', 'web']).stdout, 'db\nweb\n');
  // a named service brings what it depends on
  assert.equal(berth(dir, ['compose', '--profile', 'db', 'config', '--services', 'web']).stdout, 'db\nweb\n');
  assert.equal(berth(dir, ['compose', 'config', '--services', 'builder']).stdout, 'builder\n');
});

test('-f and --project-directory; --no-interpolate; --resolve-image-digests refused by name', () => {
  const other = writeProject({ 'conf/my.yml': 'services:\n  a:\n    image: "x:${V:?needed}"\n    volumes: [./d:/d]\n' });
  const r = berth(other, ['compose', '-f', 'conf/my.yml', '--project-directory', '.', 'config', '--no-interpolate']);
  assert.equal(r.status, 0, r.stderr);
  const y = YAML.parse(r.stdout);
  assert.equal(y.services.a.image, 'x:${V:?needed}');
  assert.equal(y.services.a.volumes[0].source, path.join(other, 'd'));
  assert.equal(y.name, 'app');
  const e = berth(other, ['compose', '-f', 'conf/my.yml', 'config']);
  assert.equal(e.status, 1);
  assert.equal(e.stderr, 'conf/my.yml: services.a.image: required variable V is missing a value: needed\n');
  const d = berth(other, ['compose', '-f', 'conf/my.yml', 'config', '--resolve-image-digests']);
  assert.equal(d.status, 1);
  assert.match(d.stderr, /--resolve-image-digests is not supported/);
});

test('warnings go to stderr as compose prints them; a schema error exits 1 naming the file and the path', () => {
  const w = writeProject({ 'compose.yaml': 'services:\n  a:\n    image: "x${UNSET}"\n' });
  const r = berth(w, ['compose', 'config', '--images']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'x\n');
  assert.equal(r.stderr, 'WARN[0000] The "UNSET" variable is not set. Defaulting to a blank string.\n');
  const bad = writeProject({ 'compose.yaml': 'services:\n  a:\n    image: x\n    prots: []\n' });
  const b = berth(bad, ['compose', 'config']);
  assert.deepEqual([b.status, b.stderr], [1, 'compose.yaml: services.a: additional property "prots" is not allowed\n']);
});

test('berth compose alone prints the help of the group', () => {
  const r = berth(dir, ['compose']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: +berth compose \[OPTIONS\] COMMAND/);
  assert.match(r.stdout, /--project-name/);
  assert.match(r.stdout, /config/);
  const u = berth(dir, ['compose', 'nope']);
  assert.equal(u.status, 1);
  assert.match(u.stderr, /unknown command: berth compose nope/);
});

test('-f - reads the file from standard input, paths relative to the working directory', () => {
  const here = writeProject({}, 'stdin');
  const r = berth(here, ['compose', '-f', '-', 'config', '--format', 'json'], {}, 'services:\n  a:\n    image: x\n    volumes: [./d:/d]\n');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.name, 'stdin');
  assert.equal(j.services.a.volumes[0].source, path.join(here, 'd'));
});
