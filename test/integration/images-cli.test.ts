// Image commands of the real docker CLI against a real berthd.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { makeTar } from '../unit/store-tarutil';

let d: TestDaemon;
let rootfs: string;
before(async () => {
  d = await startDaemon();
  rootfs = path.join(d.root, 'rootfs.tar');
  fs.writeFileSync(rootfs, await makeTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/sh', body: 'not really a shell', mode: 0o755 },
    { name: 'etc/os-release', body: 'ID=test\n' },
  ]));
});
after(async () => { await d.stop(); });

const ok = (args: string[], input?: string) => d.dockerOk(args, input === undefined ? {} : { input });

test('docker import / images / inspect / history / tag', async () => {
  const id = (await ok(['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=b', '-m', 'tr import', rootfs, 'tr-imported:1'])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.equal((await ok(['image', 'inspect', '--format', '{{.Id}} {{json .Config.Cmd}} {{json .Config.Env}} {{.Comment}}', 'tr-imported:1'])).trim(),
    `${id} ["sh"] ["A=b"] tr import`);
  await ok(['tag', 'tr-imported:1', 'tr-busybox:1']);
  const ls = await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.match(ls, new RegExp(`tr-busybox:1 ${id.slice(7, 19)}`));
  assert.match(ls, new RegExp(`tr-imported:1 ${id.slice(7, 19)}`));
  assert.equal((await ok(['images', '-q', '--filter', 'reference=tr-busybox'])).trim(), id.slice(7, 19));
  assert.match(await ok(['history', 'tr-busybox:1']), /tr import/);
  const miss = await d.docker(['image', 'inspect', 'tr-missing:1']);
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /No such image: tr-missing:1/);
});

test('docker save / rmi / load round trip', async () => {
  const out = path.join(d.root, 'save.tar');
  await ok(['save', '-o', out, 'tr-imported:1', 'tr-busybox:1']);
  assert.ok(fs.statSync(out).size > 0);
  assert.equal((await ok(['rmi', 'tr-busybox:1'])).trim(), 'Untagged: tr-busybox:1');
  const conflictId = (await ok(['images', '-q', 'tr-imported'])).trim();
  await ok(['tag', 'tr-imported:1', 'tr-other:1']);
  const c = await d.docker(['rmi', conflictId]);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /must be forced\) - image is referenced in multiple repositories/);
  await ok(['rmi', 'tr-other:1']);
  const rm = await ok(['rmi', 'tr-imported:1']);
  assert.match(rm, /Untagged: tr-imported:1\nDeleted: sha256:/);
  const loaded = await ok(['load', '-i', out]);
  assert.match(loaded, /Loaded image: tr-imported:1/);
  assert.match(loaded, /Loaded image: tr-busybox:1/);
  assert.equal((await ok(['images', '-q', 'tr-busybox'])).trim(), conflictId);
  const rmMissing = await d.docker(['rmi', 'tr-missing:1']);
  assert.match(rmMissing.stderr, /No such image: tr-missing:1/);
  assert.match(await ok(['image', 'prune', '-f']), /Total reclaimed space/);
});
