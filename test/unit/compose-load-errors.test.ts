// Bad files: every error names the file, the path in the document and what was expected.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadFiles } from '../fixtures/compose/project';
import { ComposeFileError } from '../../src/compose/model';

/** The message of loading a compose.yaml with `text`, with the temp directory cut off. */
function errorOf(text: string, extra: Record<string, string> = {}): string {
  try {
    loadFiles({ 'compose.yaml': text, ...extra });
  } catch (e) {
    assert.ok(e instanceof ComposeFileError, `a ComposeFileError, not ${String(e)}`);
    return e.message.replace(/^\/\S*\/app\//, '');
  }
  assert.fail('the file loaded');
}

test('schema: an unknown service key', () => {
  assert.equal(errorOf('services:\n  web:\n    imagee: nginx\n'), 'compose.yaml: services.web: additional property "imagee" is not allowed');
});

test('schema: an unknown top-level key, and x- keys allowed', () => {
  assert.equal(errorOf('servics:\n  web:\n    image: x\n'), 'compose.yaml: additional property "servics" is not allowed');
  assert.doesNotThrow(() => loadFiles({ 'compose.yaml': 'x-anything: {a: 1}\nservices:\n  web:\n    image: x\n    x-mine: 1\n' }));
});

test('schema: a value of the wrong type, with what would have been accepted', () => {
  assert.equal(errorOf('services:\n  web:\n    image: x\n    ports:\n      - true\n'), 'compose.yaml: services.web.ports[0]: must be a number, a string or a mapping');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    environment: oops\n'), 'compose.yaml: services.web.environment: must be a mapping or a list');
  assert.equal(errorOf('services:\n  web:\n    image: [x]\n'), 'compose.yaml: services.web.image: must be a string');
});

test('schema: the precise error inside a long syntax wins over the other branches', () => {
  assert.equal(errorOf('services:\n  web:\n    image: x\n    ports:\n      - target: 80\n        publishd: 8080\n'), 'compose.yaml: services.web.ports[0]: additional property "publishd" is not allowed');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_ready\n  db:\n    image: y\n'),
    'compose.yaml: services.web.depends_on.db.condition: must be one of: service_started, service_healthy, service_completed_successfully');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    volumes:\n      - source: a\n        target: /a\n'), 'compose.yaml: services.web.volumes[0]: missing required property "type"');
});

test('schema errors in a second file name that file', () => {
  const msg = errorOf('services:\n  web:\n    image: x\n', { 'compose.override.yaml': 'services:\n  web:\n    restart: [always]\n' });
  assert.equal(msg, 'compose.override.yaml: services.web.restart: must be a string');
});

test('YAML syntax errors and duplicate keys, with the line', () => {
  assert.match(errorOf('services:\n  web:\n    image: x\n   bad: [\n'), /^compose\.yaml: yaml: line \d+: /);
  assert.match(errorOf('services:\n  web:\n    image: x\n    image: y\n'), /^compose\.yaml: yaml: line 4: Map keys must be unique/);
  assert.equal(errorOf('- just\n- a list\n'), 'compose.yaml: the top level must be a mapping');
});

test('references: an unknown service in depends_on, an undefined network', () => {
  assert.equal(errorOf('services:\n  web:\n    image: x\n    depends_on: [db]\n'), 'service "web" depends on undefined service "db": invalid compose project');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    networks: [back]\n'), 'service "web" refers to undefined network back: invalid compose project');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    secrets: [s]\n'), 'service "web" refers to undefined secret s: invalid compose project');
  // an optional dependency on a missing service is dropped
  const p = loadFiles({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_started\n        required: false\n' });
  assert.deepEqual(p.services.web.depends_on, {});
});

test('a service needs an image or a build; container_name allows one container only', () => {
  assert.equal(errorOf('services:\n  web:\n    user: x\n'), 'service "web" has neither an image nor a build context specified: invalid compose project');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    container_name: web1\n    scale: 2\n'), 'services.web: can\'t set container_name and scale > 1 as container name must be unique: invalid compose project');
});

test('a missing required variable names the variable, the file and the path', () => {
  assert.equal(errorOf('services:\n  web:\n    image: "nginx:${TAG:?set TAG}"\n'), 'compose.yaml: services.web.image: required variable TAG is missing a value: set TAG');
});

test('short syntaxes that cannot be read: the path and the reason', () => {
  assert.equal(errorOf('services:\n  web:\n    image: x\n    ports: ["abc:80"]\n'), 'compose.yaml: services.web.ports: invalid port "abc:80": "abc" is not a port or a range');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    ports: ["8000-8002:80-81"]\n'), 'compose.yaml: services.web.ports: invalid port "8000-8002:80-81": invalid ranges specified for container and host Ports: 80-81 and 8000-8002');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    volumes: ["a:b:c:d"]\n'), 'compose.yaml: services.web.volumes: invalid volume specification: "a:b:c:d"');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    stop_grace_period: 10x\n'), 'services.web.stop_grace_period: time: unknown unit "x" in duration "10x"');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    command: "echo \'unterminated"\n'), 'compose.yaml: services.web.command: invalid command line string: unterminated single quote');
});

test('network_mode and networks together are refused; scale and deploy.replicas must agree', () => {
  assert.equal(errorOf('services:\n  web:\n    image: x\n    network_mode: host\n    networks: [n]\nnetworks: {n: {}}\n'), 'service web declares mutually exclusive `network_mode` and `networks`: invalid compose project');
  assert.equal(errorOf('services:\n  web:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n'), 'services.web: can\'t set distinct values on \'scale\' and \'deploy.replicas\'');
});

test('the build writes the schema\'s validator as ajv standalone code: current with the schema, same errors as one compiled now', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const { validators, validatorSource } = require('../../src/compose/load/validate') as typeof import('../../src/compose/load/validate');
  const file = path.join(__dirname, '../../src/compose/load/compose-spec-validator.js');
  assert.equal(fs.readFileSync(file, 'utf8'), validatorSource(), 'npm run build wrote it from this schema and ajv');
  const { prebuilt, fresh } = validators();
  assert.ok(prebuilt, 'the validator the build made is loaded');
  const docs: unknown[] = [
    { services: { web: { image: 'x' } } },
    { services: { web: { imagee: 1 } } },
    { services: { web: { image: 'x', ports: [true] } } },
    { services: { web: { image: 'x', restart: 3 } }, networks: { n: { ipam: { config: [{ subnet: 1 }] } } } },
  ];
  for (const d of docs) {
    const a: boolean = prebuilt(d) as boolean;
    const b: boolean = fresh(d) as boolean;
    assert.equal(a, b, JSON.stringify(d));
    assert.deepEqual(prebuilt.errors ?? null, fresh.errors ?? null, JSON.stringify(d));
  }
});
