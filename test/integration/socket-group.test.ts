// The unix socket is 0660, owned by root and the `berth` group when one exists (Docker's
// docker-group habit): members of the group reach the daemon, other users do not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { cleanupRoot, startDaemon, TestDaemon } from '../helpers/daemon';
import * as os from 'node:os';

const gidOf = (name: string) => Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
const groupExists = (name: string) => spawnSync('getent', ['group', name]).status === 0;

/** `curl /_ping` on the socket as uid 65534, with or without the group. */
function pingAs(socket: string, gid?: number): string {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', gid === undefined ? '--clear-groups' : `--groups=${gid}`,
    'curl', '-s', '-o', '-', '-w', ' %{http_code}', '--unix-socket', socket, 'http://berth/_ping'], { encoding: 'utf8' });
  return r.stdout.trim();
}

test('-G <group>: the socket is root:<group> 0660 and the group\'s members may use it', async () => {
  const name = `bt-sock-${process.pid}`;
  execFileSync('groupadd', [name]);
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon(['-G', name]);
    fs.chmodSync(d.root, 0o711); // mkdtemp's 0700 would stop uid 65534 above the exec root
    const st = fs.statSync(d.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, gidOf(name));
    assert.equal(fs.statSync(path.dirname(d.socket)).mode & 0o777, 0o710);
    assert.equal(pingAs(d.socket, gidOf(name)), 'OK 200');
    assert.notEqual(pingAs(d.socket), 'OK 200');
  } finally {
    await d?.stop();
    execFileSync('groupdel', [name]);
  }
});

test('a group asked for that does not exist stops the daemon from starting', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  fs.writeFileSync(path.join(root, 'daemon.json'), '{}');
  const d = new TestDaemon(root, ['-G', `bt-nogroup-${process.pid}`]);
  try {
    await assert.rejects(d.start(), /group bt-nogroup-\d+ not found/);
  } finally {
    await d.stop();
    await cleanupRoot(root);
  }
});

test('the default group is berth when it exists, else the socket stays root\'s', { skip: groupExists('berth') && 'a berth group already exists on this host' }, async () => {
  let d = await startDaemon();
  try {
    assert.equal(fs.statSync(d.socket).gid, 0);
  } finally {
    await d.stop();
  }
  execFileSync('groupadd', ['berth']);
  try {
    d = await startDaemon();
    try {
      assert.equal(fs.statSync(d.socket).gid, gidOf('berth'));
      fs.chmodSync(d.root, 0o711);
      assert.equal(pingAs(d.socket, gidOf('berth')), 'OK 200');
    } finally {
      await d.stop();
    }
  } finally {
    execFileSync('groupdel', ['berth']);
  }
});
