// The compose loader: discovery, names, .env, the normalizations of the common keys, the default network.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { load, loadFiles, writeProject } from '../fixtures/compose/project';

test('a minimal file: the project is named after its directory, the service gets the default network', () => {
  const dir = writeProject({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n' }, 'My.App_1');
  const p = load(dir);
  assert.equal(p.name, 'myapp_1');
  assert.equal(p.working_dir, dir);
  assert.deepEqual(p.config_files, [path.join(dir, 'compose.yaml')]);
  assert.deepEqual(p.services.web.networks, { default: null });
  assert.deepEqual(p.networks, { default: { name: 'myapp_1_default', driver_opts: {}, labels: {} } });
  assert.equal(p.services.web.image, 'nginx');
  assert.equal(p.services.web.name, 'web');
});

test('discovery: compose.yaml wins over docker-compose.yml with a warning; the override file is merged after it; found from a subdirectory', () => {
  const dir = writeProject({
    'compose.yaml': 'services:\n  web:\n    image: a\n',
    'docker-compose.yml': 'services:\n  web:\n    image: b\n',
    'compose.override.yml': 'services:\n  web:\n    image: c\n',
    'sub/deeper/.keep': '',
  });
  const p = load(path.join(dir, 'sub/deeper'));
  assert.deepEqual(p.config_files, [path.join(dir, 'compose.yaml'), path.join(dir, 'compose.override.yml')]);
  assert.equal(p.services.web.image, 'c');
  assert.equal(p.working_dir, dir);
  assert.match(p.warnings.join('\n'), /Found multiple config files with supported names: .*compose\.yaml, .*docker-compose\.yml/);
  assert.match(p.warnings.join('\n'), /Using .*compose\.yaml/);
});

test('no file anywhere: compose\'s error', () => {
  const dir = writeProject({});
  assert.throws(() => load(dir), /no configuration file provided: not found/);
});

test('project name: -p over COMPOSE_PROJECT_NAME over name: over the directory; given names must be normal', () => {
  const dir = writeProject({ 'compose.yaml': 'name: fromfile\nservices:\n  web:\n    image: x\n' });
  assert.equal(load(dir).name, 'fromfile');
  assert.equal(load(dir, { env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).name, 'fromenv');
  assert.equal(load(dir, { projectName: 'fromflag', env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).name, 'fromflag');
  assert.throws(() => load(dir, { projectName: 'Bad Name' }), /invalid project name "Bad Name"/);
});

test('COMPOSE_FILE with COMPOSE_PATH_SEPARATOR, and -f several files merged in order', () => {
  const dir = writeProject({
    'a.yml': 'services:\n  web:\n    image: a\n    environment: [A=1]\n',
    'b.yml': 'services:\n  web:\n    image: b\n    environment: {B: 2}\n',
  });
  const viaEnv = load(dir, { env: { COMPOSE_FILE: 'a.yml;b.yml', COMPOSE_PATH_SEPARATOR: ';' } });
  assert.equal(viaEnv.services.web.image, 'b');
  assert.deepEqual(viaEnv.services.web.environment, { A: '1', B: '2' });
  const viaFlag = load(dir, { files: ['b.yml', 'a.yml'] });
  assert.equal(viaFlag.services.web.image, 'a');
});

test('.env in the project directory feeds interpolation; the process environment wins over it; --env-file replaces it', () => {
  const dir = writeProject({
    'compose.yaml': 'services:\n  web:\n    image: "nginx:${TAG}"\n    environment:\n      OTHER: ${OTHER:-none}\n',
    '.env': '# comment\nTAG=1.25\nexport OTHER="two words"\n',
    'alt.env': 'TAG=alt\n',
  });
  const p = load(dir);
  assert.equal(p.services.web.image, 'nginx:1.25');
  assert.equal(p.services.web.environment.OTHER, 'two words');
  assert.deepEqual(p.env_files, [path.join(dir, '.env')]);
  assert.equal(load(dir, { env: { TAG: 'shell' } }).services.web.image, 'nginx:shell');
  assert.equal(load(dir, { envFiles: ['alt.env'] }).services.web.image, 'nginx:alt');
  assert.throws(() => load(dir, { envFiles: ['missing.env'] }), /couldn't find env file: .*missing\.env/);
});

test('ports: short syntax in all its forms, long syntax, ranges expanded one entry per port', () => {
  const p = loadFiles({
    'compose.yaml': `services:
  web:
    image: x
    ports:
      - "8080:80"
      - "127.0.0.1:8081:81/udp"
      - "90"
      - 91
      - "8000-8001:70-71"
      - "9000-9010:60"
      - "[::1]:5000:5000"
      - "127.0.0.1::22"
      - target: 443
        published: 8443
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
`,
  });
  assert.deepEqual(p.services.web.ports, [
    { protocol: 'tcp', mode: 'ingress', target: 80, published: '8080' },
    { protocol: 'udp', mode: 'ingress', host_ip: '127.0.0.1', target: 81, published: '8081' },
    { protocol: 'tcp', mode: 'ingress', target: 90 },
    { protocol: 'tcp', mode: 'ingress', target: 91 },
    { protocol: 'tcp', mode: 'ingress', target: 70, published: '8000' },
    { protocol: 'tcp', mode: 'ingress', target: 71, published: '8001' },
    { protocol: 'tcp', mode: 'ingress', target: 60, published: '9000-9010' },
    { protocol: 'tcp', mode: 'ingress', host_ip: '::1', target: 5000, published: '5000' },
    { protocol: 'tcp', mode: 'ingress', host_ip: '127.0.0.1', target: 22 },
    { target: 443, protocol: 'tcp', mode: 'host', published: '8443', host_ip: '0.0.0.0' },
  ]);
});

test('volumes: binds (./ ../ / ~) resolved absolute, named and anonymous volumes, options, long syntax; undeclared named volume refused', () => {
  const dir = writeProject({
    'compose.yaml': `services:
  web:
    image: x
    volumes:
      - ./data:/data:ro
      - ../up:/up:z
      - /abs:/abs:rw
      - ~/home:/home
      - cache:/cache:nocopy
      - /anon
      - type: bind
        source: ./conf
        target: /conf
        read_only: "true"
      - type: tmpfs
        target: /tmp
        tmpfs:
          size: 1m
volumes:
  cache: {}
`,
  });
  const p = load(dir);
  const home = require('node:os').homedir();
  assert.deepEqual(p.services.web.volumes, [
    { type: 'bind', target: '/data', source: path.join(dir, 'data'), read_only: true, bind: { create_host_path: true } },
    { type: 'bind', target: '/up', source: path.join(path.dirname(dir), 'up'), bind: { selinux: 'z', create_host_path: true } },
    { type: 'bind', target: '/abs', source: '/abs', bind: { create_host_path: true } },
    { type: 'bind', target: '/home', source: path.join(home, 'home'), bind: { create_host_path: true } },
    { type: 'volume', target: '/cache', source: 'cache', volume: { nocopy: true } },
    { type: 'volume', target: '/anon', volume: {} },
    { type: 'bind', target: '/conf', source: path.join(dir, 'conf'), read_only: true },
    { type: 'tmpfs', target: '/tmp', tmpfs: { size: 1048576 } },
  ]);
  assert.equal(p.volumes.cache.name, 'app_cache');
  assert.throws(() => loadFiles({ 'compose.yaml': 'services:\n  web:\n    image: x\n    volumes: [data:/data]\n' }), /service "web" refers to undefined volume data: invalid compose project/);
});

test('environment and labels (list and map), env_file folded in under environment, a bare name taken from the environment', () => {
  const dir = writeProject({
    'compose.yaml': `services:
  web:
    image: x
    env_file:
      - web.env
      - path: optional.env
        required: false
    environment:
      - FROM_FILE=overridden
      - FROM_SHELL
      - UNSET
    labels:
      - com.example=1
      - bare
  db:
    image: y
    env_file: web.env
    environment:
      N: 3
      B: true
      E:
    labels:
      x: 1
`,
    'web.env': 'FROM_FILE=file\nONLY_FILE=${SHELLVAR}-x\n',
  });
  const p = load(dir, { env: { FROM_SHELL: 'shell', SHELLVAR: 'sv' } });
  assert.deepEqual(p.services.web.environment, { FROM_FILE: 'overridden', ONLY_FILE: 'sv-x', FROM_SHELL: 'shell', UNSET: null });
  assert.deepEqual(p.services.web.labels, { 'com.example': '1', bare: '' });
  assert.deepEqual(p.services.db.environment, { FROM_FILE: 'file', ONLY_FILE: 'sv-x', N: '3', B: 'true', E: null });
  assert.deepEqual(p.services.db.labels, { x: '1' });
  assert.equal('env_file' in p.services.web, false);
});

test('a missing env_file is an error naming it', () => {
  assert.throws(() => loadFiles({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: nope.env\n' }), /env file .*nope\.env not found/);
});

test('command and entrypoint strings split as a shell would; lists kept; healthcheck test string is CMD-SHELL; durations as Go prints them', () => {
  const p = loadFiles({
    'compose.yaml': `services:
  web:
    image: x
    command: sh -c 'echo "a b"; exit 0' "x y" z\\ w
    entrypoint: ["/bin/tini", "--"]
    stop_grace_period: 90s
    healthcheck:
      test: curl -f http://localhost
      interval: 1m30s
      timeout: 500ms
      retries: "3"
      start_period: 1h
`,
  });
  const s = p.services.web;
  assert.deepEqual(s.command, ['sh', '-c', 'echo "a b"; exit 0', 'x y', 'z w']);
  assert.deepEqual(s.entrypoint, ['/bin/tini', '--']);
  assert.equal(s.stop_grace_period, '1m30s');
  assert.deepEqual(s.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'], interval: '1m30s', timeout: '500ms', retries: 3, start_period: '1h0m0s' });
});

test('depends_on list to map, networks list to map with the networks named <project>_<key> unless name: or external', () => {
  const p = loadFiles({
    'compose.yaml': `services:
  web:
    image: x
    depends_on: [db]
    networks: [front, back]
  db:
    image: y
    depends_on:
      cache:
        condition: service_healthy
        restart: true
    networks:
      back:
        aliases: [database]
        ipv4_address: 172.20.0.5
  cache:
    image: z
    network_mode: host
networks:
  front:
    name: custom-front
  back:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.name: br-x
    internal: "true"
  outside:
    external: true
`,
  });
  assert.deepEqual(p.services.web.depends_on, { db: { condition: 'service_started', required: true } });
  assert.deepEqual(p.services.db.depends_on, { cache: { condition: 'service_healthy', restart: true, required: true } });
  assert.deepEqual(p.services.web.networks, { front: null, back: null });
  assert.deepEqual(p.services.db.networks, { back: { aliases: ['database'], ipv4_address: '172.20.0.5' } });
  assert.deepEqual(p.services.cache.networks, {});
  assert.equal(p.services.cache.network_mode, 'host');
  assert.equal(p.networks.front.name, 'custom-front');
  assert.equal(p.networks.back.name, 'app_back');
  assert.equal(p.networks.back.internal, true);
  assert.deepEqual(p.networks.back.driver_opts, { 'com.docker.network.bridge.name': 'br-x' });
  assert.equal(p.networks.outside.name, 'outside');
  assert.equal(p.networks.default, undefined, 'no service uses the default network');
});

test('the rest of the short syntaxes: ulimits, extra_hosts, devices, tmpfs, build, secrets, configs, sysctls, scale and replicas', () => {
  const dir = writeProject({
    'compose.yaml': `services:
  web:
    build: ./web
    ulimits:
      nproc: 65535
      nofile: {soft: 1024, hard: "2048"}
    extra_hosts:
      - "a.example:10.0.0.1"
      - "b.example=10.0.0.2"
    devices:
      - /dev/fuse
      - "/dev/sda:/dev/xvda:r"
    tmpfs: /run
    sysctls: [net.core.somaxconn=1024]
    secrets: [token]
    configs:
      - source: conf
        target: /etc/conf
        mode: 0440
    deploy:
      replicas: "2"
  api:
    image: x
    scale: 3
    extra_hosts:
      c.example: 10.0.0.3
    build:
      context: api
      dockerfile: Dockerfile.api
      args: [A=1, B]
secrets:
  token:
    file: ./token.txt
configs:
  conf:
    file: conf.ini
`,
  });
  const p = load(dir);
  const w = p.services.web;
  assert.deepEqual(w.ulimits, { nproc: { soft: 65535, hard: 65535 }, nofile: { soft: 1024, hard: 2048 } });
  assert.deepEqual(w.extra_hosts, ['a.example:10.0.0.1', 'b.example:10.0.0.2']);
  assert.deepEqual(w.devices, [{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' }, { source: '/dev/sda', target: '/dev/xvda', permissions: 'r' }]);
  assert.deepEqual(w.tmpfs, ['/run']);
  assert.deepEqual(w.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(w.build, { context: path.join(dir, 'web'), dockerfile: 'Dockerfile', args: {}, labels: {} });
  assert.deepEqual(w.secrets, [{ source: 'token' }]);
  assert.deepEqual(w.configs, [{ source: 'conf', target: '/etc/conf', mode: 0o440 }]);
  assert.equal(w.scale, 2);
  assert.equal(w.deploy?.replicas, 2);
  assert.equal(p.secrets.token.file, path.join(dir, 'token.txt'));
  assert.equal(p.secrets.token.name, 'app_token');
  assert.equal(p.configs.conf.file, path.join(dir, 'conf.ini'));
  const a = p.services.api;
  assert.equal(a.scale, 3);
  assert.deepEqual(a.extra_hosts, ['c.example:10.0.0.3']);
  assert.deepEqual(a.build, { context: path.join(dir, 'api'), dockerfile: 'Dockerfile.api', args: { A: '1', B: null }, labels: {} });
});

test('keys berth may not implement are passed through as written; x- keys are left out', () => {
  const p = loadFiles({
    'compose.yaml': 'x-base: &base\n  image: x\nservices:\n  web:\n    <<: *base\n    cpu_shares: 512\n    links: [db]\n    x-note: hi\n  db:\n    image: y\n',
  });
  assert.equal(p.services.web.image, 'x');
  assert.equal(p.services.web.cpu_shares, 512);
  assert.deepEqual(p.services.web.links, ['db']);
  assert.equal('x-note' in p.services.web, false);
  assert.equal('x-base' in p, false);
});
