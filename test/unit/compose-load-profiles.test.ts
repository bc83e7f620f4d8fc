// Profiles (15-profiles.md), on the spec's illustrative example.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { load, writeProject } from '../fixtures/compose/project';

const dir = writeProject({
  'compose.yaml': `services:
  foo:
    image: foo
  bar:
    image: bar
    profiles:
      - test
  baz:
    image: baz
    depends_on:
      - bar
    profiles:
      - test
  zot:
    image: zot
    depends_on:
      - bar
    profiles:
      - debug
`,
});
const names = (o: Record<string, unknown>) => Object.keys(o).sort();

test('no profile enabled: only foo', () => {
  const p = load(dir);
  assert.deepEqual(names(p.services), ['foo']);
  assert.deepEqual(names(p.disabled_services), ['bar', 'baz', 'zot']);
});

test('profile test: bar, baz and foo', () => {
  assert.deepEqual(names(load(dir, { profiles: ['test'] }).services), ['bar', 'baz', 'foo']);
});

test('profile debug: zot depends on bar, which is disabled: the model is invalid', () => {
  assert.throws(() => load(dir, { profiles: ['debug'] }), /service bar is required by zot but is disabled. Can be enabled by profiles \[test\]/);
});

test('profiles debug and test: all services; COMPOSE_PROFILES does the same; "*" enables every profile', () => {
  assert.deepEqual(names(load(dir, { profiles: ['debug', 'test'] }).services), ['bar', 'baz', 'foo', 'zot']);
  assert.deepEqual(names(load(dir, { env: { COMPOSE_PROFILES: 'debug,test' } }).services), ['bar', 'baz', 'foo', 'zot']);
  assert.deepEqual(names(load(dir, { profiles: ['*'] }).services), ['bar', 'baz', 'foo', 'zot']);
});

test('bar targeted explicitly: bar and the test profile are active', () => {
  const p = load(dir, { services: ['bar'] });
  assert.ok(p.services.bar);
  assert.ok(p.services.baz, 'test is active, so baz is too');
});

test('baz targeted explicitly: the test profile is active and bar is pulled in', () => {
  assert.deepEqual(names(load(dir, { services: ['baz'] }).services), ['bar', 'baz', 'foo']);
});

test('zot targeted explicitly: invalid, bar has no profile in common; with profile test enabled it works', () => {
  assert.throws(() => load(dir, { services: ['zot'] }), /service bar is required by zot but is disabled/);
  assert.deepEqual(names(load(dir, { services: ['zot'], profiles: ['test'] }).services), ['bar', 'baz', 'foo', 'zot']);
});

test('a targeted service that does not exist', () => {
  assert.throws(() => load(dir, { services: ['nope'] }), /no such service: nope/);
});
