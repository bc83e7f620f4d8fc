// Which runtimes get the runc fast paths: a binary named runc, without extra global args, whose
// `--version` says 1.1.x; asked once per binary, again after an upgrade or a failed probe.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { fastPathsApply } from '../../src/runtime/fastpaths';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brv-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `<tmp>/<dir>/<name>`: a script that counts its --version calls in `<dir>/n` and runs `body`. */
function fake(dir: string, body: string, name = 'runc'): string {
  fs.mkdirSync(path.join(tmp, dir), { recursive: true });
  const bin = path.join(tmp, dir, name);
  fs.writeFileSync(bin, `#!/bin/sh\necho x >> ${path.join(tmp, dir, 'n')}\n${body}\n`, { mode: 0o755 });
  return bin;
}
const probes = (dir: string) => fs.readFileSync(path.join(tmp, dir, 'n'), 'utf8').split('\n').filter(Boolean).length;

test('runc 1.1.x: yes, probed once', async () => {
  const bin = fake('v11', 'echo "runc version 1.1.12"; echo "spec: 1.0.2-dev"');
  assert.equal(await fastPathsApply({ name: 'other-name', path: bin }), true);
  assert.equal(await fastPathsApply({ name: 'runc', path: bin }), true);
  assert.equal(probes('v11'), 1);
  // extra global args (--systemd-cgroup, another --root ...): the plain CLI
  assert.equal(await fastPathsApply({ name: 'runc', path: bin, args: ['--systemd-cgroup'] }), false);
});

test('another version, another runtime, another name, no binary: no', async () => {
  assert.equal(await fastPathsApply({ name: 'runc', path: fake('v12', 'echo "runc version 1.2.0"') }), false);
  assert.equal(await fastPathsApply({ name: 'runc', path: fake('v10', 'echo "runc version 1.0.3"') }), false);
  assert.equal(await fastPathsApply({ name: 'runc', path: fake('crun', 'echo "crun version 1.8.1"') }), false);
  assert.equal(await fastPathsApply({ name: 'crun', path: fake('named', 'echo "runc version 1.1.12"', 'crun') }), false);
  assert.equal(await fastPathsApply({ name: 'runc', path: path.join(tmp, 'nowhere', 'runc') }), false);
});

test('an upgrade in place is seen (the binary is stat\'ed at most once a second); a probe that failed is asked again', async () => {
  const bin = fake('up', 'echo "runc version 1.1.12"');
  assert.equal(await fastPathsApply({ name: 'runc', path: bin }), true);
  fs.writeFileSync(bin, '#!/bin/sh\necho "runc version 1.2.3"\n');
  fs.utimesSync(bin, new Date(), new Date(Date.now() + 5000));
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(await fastPathsApply({ name: 'runc', path: bin }), false);
  const flaky = fake('flaky', `[ "$(wc -l < ${path.join(tmp, 'flaky', 'n')})" -gt 1 ] || exit 1\necho "runc version 1.1.12"`);
  assert.equal(await fastPathsApply({ name: 'runc', path: flaky }), false);
  assert.equal(await fastPathsApply({ name: 'runc', path: flaky }), true);
  assert.equal(probes('flaky'), 2);
});
