import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { familiarName, familiarString, normalizedString, parseNormalizedNamed, parseNormalizedTagged } from '../../src/lib/reference';

const OK: Array<[string, string, string]> = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
  ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['user/app:v2', 'docker.io/user/app:v2', 'user/app:v2'],
  ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
  ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
  ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
  ['example.com/team/x_y.z-w', 'example.com/team/x_y.z-w:latest', 'example.com/team/x_y.z-w:latest'],
  [`name@sha256:${'a'.repeat(64)}`, `docker.io/library/name@sha256:${'a'.repeat(64)}`, `name@sha256:${'a'.repeat(64)}`],
  [`host:5000/r:t@sha256:${'b'.repeat(64)}`, `host:5000/r:t@sha256:${'b'.repeat(64)}`, `host:5000/r:t@sha256:${'b'.repeat(64)}`],
];

test('reference: parse and normalise', () => {
  for (const [input, norm, fam] of OK) {
    const r = parseNormalizedTagged(input);
    assert.equal(normalizedString(r), norm, input);
    assert.equal(familiarString(r), fam, input);
  }
  assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarName('docker.io/user/x:1'), 'user/x:1');
});

const BAD: Array<[string, RegExp]> = [
  ['BadName:x', /^invalid reference format: repository name \(library\/BadName\) must be lowercase$/],
  ['', /invalid reference format/],
  ['a:b:c', /^invalid reference format$/],
  ['-leading', /^invalid reference format$/],
  ['name:', /^invalid reference format$/],
  [`${'c'.repeat(64)}`, /cannot specify 64-byte hexadecimal strings/],
  ['name@sha256:abc', /invalid reference format/],
  [`${'x'.repeat(256)}`, /must not be more than 255 characters/],
  ['a//b', /^invalid reference format$/],
];

test('reference: invalid references get Docker texts', () => {
  for (const [input, re] of BAD) {
    assert.throws(() => parseNormalizedNamed(input), (e: Error) => {
      assert.match(e.message, re, input);
      assert.equal((e as { kind?: string }).kind, 'InvalidParameter');
      return true;
    });
  }
});
