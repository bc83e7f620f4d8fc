// A build whose RUN reaches Debian's archive: `apt-get update && apt-get install` from the
// debian image, over the build's network (the host's until the networks issue gives builds the
// default bridge: src/engine/build/policy.ts).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';
import { loadDebianImages } from '../helpers/images';

let d: TestDaemon;
useDaemon((x) => { d = x; });

test('RUN apt-get install from a debian base', { timeout: 600_000 }, async () => {
  await loadDebianImages(d);
  const dir = path.join(d.root, 'ctx-apt');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), [
    'FROM debian:bookworm',
    'RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*',
    'CMD ["jq", "-n", "{built: true}"]',
    '',
  ].join('\n'));
  const r = await runCmd('docker', ['build', '-t', 'e2e-build-apt:1', dir], { ...d.env, DOCKER_BUILDKIT: '0' }, { timeout: 600_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Setting up jq/);
  const out = await d.docker(['run', '--rm', 'e2e-build-apt:1', 'jq', '-c', '-n', '{built: true}']);
  assert.equal(out.stdout, '{"built":true}\n');
});
