// The real docker CLI with berthd's image store: import, images, tag, rmi, save, load, history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);

test('import with changes, then run it', async () => {
  const tar = path.join(d.root, 'busybox.tar');
  const r = await docker('import', '-c', 'CMD ["sh", "-c", "echo $GREETING"]', '-c', 'ENV GREETING=hello', '-m', 'e2e import', tar, 'e2e-imported:1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
  const run = await docker('run', '--rm', 'e2e-imported:1');
  assert.equal(run.stdout, 'hello\n');
  const ins = JSON.parse((await docker('image', 'inspect', 'e2e-imported:1')).stdout)[0];
  assert.equal(ins.Comment, 'e2e import');
  assert.deepEqual(ins.Config.Env.filter((e: string) => e.startsWith('GREETING')), ['GREETING=hello']);
  assert.equal(ins.RootFS.Type, 'layers');
});

test('images lists with tags and sizes; tag and rmi untag vs delete', async () => {
  const ls = await docker('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
  assert.match(ls.stdout, /^busybox:latest [a-f0-9]{12}$/m);
  assert.equal((await docker('tag', 'busybox', 'e2e-bb:2')).code, 0);
  assert.match((await docker('images', 'e2e-bb')).stdout, /e2e-bb\s+2/);
  const untag = await docker('rmi', 'e2e-bb:2');
  assert.equal(untag.stdout.trim(), 'Untagged: e2e-bb:2');
  const missing = await docker('rmi', 'e2e-bb:2');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: e2e-bb:2/);
});

test('an image in use by a container cannot be removed without force', async () => {
  await docker('tag', 'busybox', 'e2e-used:1');
  await docker('create', '--name', 'e2e-user', 'e2e-used:1', 'true');
  await docker('rmi', 'busybox'); // shares the ID: untag only
  const r = await docker('rmi', 'e2e-used:1');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /conflict: unable to remove repository reference "e2e-used:1" \(must force\) - container [a-f0-9]{12} is using its referenced image/);
  await docker('rm', 'e2e-user');
  await docker('tag', 'e2e-used:1', 'busybox:latest');
  await docker('rmi', 'e2e-used:1');
});

test('save and load round trip', async () => {
  await docker('tag', 'busybox', 'e2e-save:1');
  const out = path.join(d.root, 'save.tar');
  const save = await docker('save', '-o', out, 'e2e-save:1');
  assert.equal(save.code, 0, save.stderr);
  assert.ok(fs.statSync(out).size > 1_000_000);
  await docker('rmi', 'e2e-save:1');
  const load = await docker('load', '-i', out);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /Loaded image: e2e-save:1/);
  const run = await docker('run', '--rm', 'e2e-save:1', 'echo', 'loaded');
  assert.equal(run.stdout, 'loaded\n');
  const hist = await docker('history', 'e2e-save:1');
  assert.match(hist.stdout, /IMAGE\s+CREATED/);
});

test('image prune removes dangling images only', async () => {
  const r = await docker('image', 'prune', '-f');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Total reclaimed space/);
  assert.match((await docker('images')).stdout, /busybox/);
});
