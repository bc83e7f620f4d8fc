// Paths inside a container's root, driven by the real docker CLI: an image whose /etc/passwd
// is a symlink to a file of the host (by absolute path, climbing with /../..) and whose working
// dir is a symlink out of the root. `--user name` reads the container's own files or fails
// cleanly; the working dir is made and used inside the container; the host's files are never
// read or written.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const docker = (...args: string[]) => d.docker(args);

let hostDir: string;
let hostPasswd: string;

const importVariant = (tag: string, edit: (root: string) => void) => d.importBusyboxVariant(tag, edit);

/** Makes the host files and the two images once (after useDaemon's hook has run). */
let made: Promise<void> | undefined;
const ready = () => (made ??= makeImages());

async function makeImages(): Promise<void> {
  // the host side: a passwd that must never be read, a directory that must stay empty
  hostDir = path.join(d.root, 'host');
  fs.mkdirSync(path.join(hostDir, 'work'), { recursive: true });
  hostPasswd = path.join(hostDir, 'passwd');
  fs.writeFileSync(hostPasswd, 'evil:x:4242:4242:host:/host:/bin/sh\n');
  const escape = (p: string) => '/../../../../../../..' + p;
  // 1: /etc/passwd -> the host's file; nothing at that path inside
  await importVariant('inroot-missing', (root) => {
    fs.rmSync(path.join(root, 'etc/passwd'));
    fs.symlinkSync(escape(hostPasswd), path.join(root, 'etc/passwd'));
    fs.symlinkSync(escape(path.join(hostDir, 'work')), path.join(root, 'wd'));
  });
  // 2: the same link, and a file at that path inside the image: that one is meant
  await importVariant('inroot-inside', (root) => {
    fs.rmSync(path.join(root, 'etc/passwd'));
    fs.symlinkSync(hostPasswd, path.join(root, 'etc/passwd'));
    fs.mkdirSync(path.join(root, hostDir), { recursive: true });
    fs.writeFileSync(path.join(root, hostPasswd), 'root:x:0:0:root:/root:/bin/sh\nevil:x:1234:1234:inside:/inside:/bin/sh\n');
  });
}

test('--user name with /etc/passwd -> a host file: fails cleanly when the container has no such file', async () => {
  await ready();
  const r = await docker('run', '--rm', '--user', 'evil', 'inroot-missing', 'id', '-u');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unable to find user evil: no matching entries in passwd file/);
  assert.doesNotMatch(r.stdout, /4242/);
  // a numeric user needs no passwd entry
  const n = await docker('run', '--rm', '--user', '4242', 'inroot-missing', 'id', '-u');
  assert.equal(n.code, 0, n.stderr);
  assert.equal(n.stdout, '4242\n');
});

test('--user name with /etc/passwd -> a path that exists inside the container: the container\'s file', async () => {
  await ready();
  const r = await docker('run', '--rm', '--user', 'evil', 'inroot-inside', 'sh', '-c', 'echo $(id -u) $HOME');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1234 /inside\n');
  // and exec resolves the same way
  const c = await docker('run', '-d', 'inroot-inside', 'sleep', '100');
  assert.equal(c.code, 0, c.stderr);
  try {
    const e = await docker('exec', '-u', 'evil', c.stdout.trim(), 'id', '-u');
    assert.equal(e.stdout, '1234\n', e.stderr);
  } finally {
    await docker('rm', '-f', c.stdout.trim());
  }
});

test('a working dir that is a symlink out of the root is made and used inside the container', async () => {
  await ready();
  // run -w: runc makes the missing directory inside the container
  const r = await docker('run', '--rm', '-w', '/wd/sub', 'inroot-missing', 'sh', '-c', 'pwd -P; echo made > here; cat here');
  assert.equal(r.code, 0, r.stderr);
  // the link's target, resolved in the container's root
  assert.equal(r.stdout, `${hostDir}/work/sub\nmade\n`);
  const notDir = await docker('run', '--rm', '-w', '/bin/busybox/x', 'inroot-missing', 'true');
  assert.notEqual(notDir.code, 0);
  assert.match(notDir.stderr, /Cannot mkdir: \/bin\/busybox\/x is not a directory/);
  // exec -w through the same link
  const c = await docker('run', '-d', 'inroot-missing', 'sh', '-c', `mkdir -p ${hostDir}/work && sleep 100`);
  assert.equal(c.code, 0, c.stderr);
  try {
    const e = await docker('exec', '-w', '/wd', c.stdout.trim(), 'sh', '-c', 'echo exec > f; pwd -P; ls');
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.stdout, `${hostDir}/work\nf\n`);
    const u = await docker('exec', '-u', 'evil', c.stdout.trim(), 'true');
    assert.notEqual(u.code, 0);
    assert.match(u.stdout + u.stderr, /unable to find user evil: no matching entries in passwd file/);
  } finally {
    await docker('rm', '-f', c.stdout.trim());
  }
  assert.deepEqual(fs.readdirSync(path.join(hostDir, 'work')), [], 'nothing was written on the host');
  assert.equal(fs.readFileSync(hostPasswd, 'utf8'), 'evil:x:4242:4242:host:/host:/bin/sh\n');
});
