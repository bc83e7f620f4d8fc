// Merging files (13-merge.md, with the spec's own examples), extends and include.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { load, writeProject } from '../fixtures/compose/project';

const two = (a: string, b: string) => load(writeProject({ 'compose.yaml': a, 'compose.override.yaml': b }));

test('mapping: missing entries added, conflicting ones merged (the spec\'s example, with keys the schema knows)', () => {
  const p = two('services:\n  foo:\n    image: value1\n    user: value2\n', 'services:\n  foo:\n    user: VALUE\n    hostname: value3\n');
  assert.equal(p.services.foo.image, 'value1');
  assert.equal(p.services.foo.user, 'VALUE');
  assert.equal(p.services.foo.hostname, 'value3');
});

test('sequence: appended (the spec\'s DNS example)', () => {
  const p = two('services:\n  foo:\n    image: x\n    dns:\n      - 1.1.1.1\n', 'services:\n  foo:\n    dns: \n      - 8.8.8.8\n');
  assert.deepEqual(p.services.foo.dns, ['1.1.1.1', '8.8.8.8']);
});

test('shell commands: command, entrypoint and healthcheck test replaced, not appended', () => {
  const p = two(
    'services:\n  foo:\n    image: x\n    command: ["echo", "foo"]\n    entrypoint: [a, b]\n    healthcheck:\n      test: [CMD, a]\n      retries: 3\n',
    'services:\n  foo:\n    command: ["echo", "bar"]\n    entrypoint: c\n    healthcheck:\n      test: [CMD, b]\n',
  );
  assert.deepEqual(p.services.foo.command, ['echo', 'bar']);
  assert.deepEqual(p.services.foo.entrypoint, ['c']);
  assert.deepEqual(p.services.foo.healthcheck, { test: ['CMD', 'b'], retries: 3 });
});

test('unique resources: volumes by target (the spec\'s example), ports by ip/target/published/protocol, secrets by target', () => {
  const p = two(
    'services:\n  foo:\n    image: x\n    volumes:\n      - foo:/work\n    ports: ["8080:80", "9090:90"]\n    secrets: [s]\nvolumes: {foo: {}, bar: {}}\nsecrets: {s: {file: ./s}}\n',
    'services:\n  foo:\n    volumes:\n      - bar:/work\n    ports:\n      - target: 80\n        published: "8080"\n        mode: host\n      - "7070:70"\n    secrets:\n      - source: s\n        mode: 0400\n',
  );
  assert.deepEqual(p.services.foo.volumes, [{ type: 'volume', source: 'bar', target: '/work', volume: {} }]);
  assert.deepEqual(p.services.foo.ports, [
    { target: 80, published: '8080', protocol: 'tcp', mode: 'host' },
    { target: 90, published: '9090', protocol: 'tcp', mode: 'ingress' },
    { target: 70, published: '7070', protocol: 'tcp', mode: 'ingress' },
  ]);
  assert.deepEqual(p.services.foo.secrets, [{ source: 's', mode: 0o400 }]);
});

test('environment and labels merged by key whatever syntax each file uses', () => {
  const p = two(
    'services:\n  foo:\n    image: x\n    environment: [A=1, B=2]\n    labels: {l1: a, l2: b}\n',
    'services:\n  foo:\n    environment:\n      B: 3\n      C: 4\n    labels: [l2=c]\n',
  );
  assert.deepEqual(p.services.foo.environment, { A: '1', B: '3', C: '4' });
  assert.deepEqual(p.services.foo.labels, { l1: 'a', l2: 'c' });
});

test('!reset removes what the base file set (the spec\'s example)', () => {
  const p = two(
    'services:\n  app:\n    image: myapp\n    ports:\n      - "8080:80"\n    environment:\n      FOO: BAR\n',
    'services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n',
  );
  assert.deepEqual(p.services.app.ports, []);
  assert.deepEqual(p.services.app.environment, {});
  assert.equal(p.services.app.image, 'myapp');
});

test('!override replaces instead of merging (the spec\'s example)', () => {
  const p = two('services:\n  app:\n    image: myapp\n    ports:\n      - "8080:80"\n', 'services:\n  app:\n    ports: !override\n      - "8443:443"\n');
  assert.deepEqual(p.services.app.ports, [{ target: 443, published: '8443', protocol: 'tcp', mode: 'ingress' }]);
});

test('top-level networks and volumes merged per entry; relative paths of every -f file are relative to the project directory', () => {
  const dir = writeProject({
    'compose.yaml': 'services:\n  web:\n    image: x\n    networks: [n]\nnetworks:\n  n:\n    driver: bridge\n',
    'more/extra.yaml': 'services:\n  web:\n    volumes: [./data:/data]\nnetworks:\n  n:\n    internal: true\n',
  });
  const p = load(dir, { files: ['compose.yaml', 'more/extra.yaml'] });
  assert.equal(p.networks.n.driver, 'bridge');
  assert.equal(p.networks.n.internal, true);
  assert.equal(p.services.web.volumes[0].source, path.join(dir, 'data'));
});

test('extends: same file and another file, recursive; the base\'s relative paths stay relative to its own file', () => {
  const dir = writeProject({
    'compose.yaml': `services:
  web:
    extends:
      file: common/base.yaml
      service: webapp
    environment:
      OWN: "1"
    ports: ["8080:80"]
  worker:
    extends: web
    command: work
`,
    'common/base.yaml': `services:
  base:
    image: base-image
    environment: {BASE: "1"}
    volumes: [./conf:/conf]
  webapp:
    extends: base
    command: serve
    ports: ["9090:90"]
`,
  });
  const p = load(dir);
  const web = p.services.web;
  assert.equal(web.image, 'base-image');
  assert.deepEqual(web.command, ['serve']);
  assert.deepEqual(web.environment, { BASE: '1', OWN: '1' });
  assert.deepEqual(web.ports.map((x) => x.published), ['9090', '8080']);
  assert.equal(web.volumes[0].source, path.join(dir, 'common', 'conf'));
  assert.equal('extends' in web, false);
  assert.deepEqual(p.services.worker.command, ['work']);
  assert.equal(p.services.worker.image, 'base-image');
  assert.equal(p.services.base, undefined, 'services of the extended file are not part of the project');
});

test('extends: a cycle is refused, naming it; an unknown base service too', () => {
  assert.throws(() => load(writeProject({ 'compose.yaml': 'services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n' })),
    /compose\.yaml: services\.a\.extends: extends cycle: a -> b -> a/);
  assert.throws(() => load(writeProject({ 'compose.yaml': 'services:\n  a:\n    image: x\n    extends: nope\n' })),
    /services\.a\.extends: cannot extend service "nope": no such service/);
});

test('include: the included project\'s resources are added, with paths relative to its own directory and its own .env', () => {
  const dir = writeProject({
    'compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web:\n    image: x\n    depends_on: [db]\n',
    'db/compose.yaml': 'services:\n  db:\n    image: "postgres:${PGTAG}"\n    volumes: [./init:/docker-entrypoint-initdb.d, data:/var/lib/postgresql/data]\nvolumes:\n  data:\n',
    'db/.env': 'PGTAG=16\n',
  });
  const p = load(dir);
  assert.deepEqual(Object.keys(p.services).sort(), ['db', 'web']);
  assert.equal(p.services.db.image, 'postgres:16');
  assert.equal(p.services.db.volumes[0].source, path.join(dir, 'db', 'init'));
  assert.equal(p.volumes.data.name, 'app_data');
  assert.deepEqual(p.services.db.networks, { default: null });
});

test('include: long syntax with project_directory and env_file; a conflicting service is refused', () => {
  const dir = writeProject({
    'compose.yaml': 'include:\n  - path: [lib/a.yaml]\n    project_directory: lib/root\n    env_file: vars.env\nservices:\n  web:\n    image: x\n',
    'lib/a.yaml': 'services:\n  a:\n    image: "a:${V}"\n    build: ./ctx\n',
    'vars.env': 'V=7\n',
  });
  const p = load(dir);
  assert.equal(p.services.a.image, 'a:7');
  assert.equal(p.services.a.build?.context, path.join(dir, 'lib', 'root', 'ctx'));
  const clash = writeProject({
    'compose.yaml': 'include: [other.yaml]\nservices:\n  web:\n    image: x\n',
    'other.yaml': 'services:\n  web:\n    image: y\n',
  });
  assert.throws(() => load(clash), /compose\.yaml: services\.web: conflicts with the service of the same name in the included .*other\.yaml/);
});
