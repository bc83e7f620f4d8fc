// userns-remap's resolution from passwd/group/subuid/subgid (temp copies: nothing is created
// on the host), dockerd's errors, the id maps and the container-setting conflicts.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ownerMapsOf, resolveRemap, validateUsernsRemap, type IdFiles } from '../../src/engine/usernsRemap';
import { nextFreeRange, readSubIds } from '../../src/lib/subid';
import { toContainerId, toHostId } from '../../src/lib/sys/idmap';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-userns-unit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function files(sub: { subuid: string; subgid: string }): IdFiles {
  const f: IdFiles = { passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group'), subuid: path.join(dir, 'subuid'), subgid: path.join(dir, 'subgid') };
  fs.writeFileSync(f.passwd, 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n');
  fs.writeFileSync(f.group, 'root:x:0:\nalice:x:1000:\nstaff:x:50:\n');
  fs.writeFileSync(f.subuid, sub.subuid);
  fs.writeFileSync(f.subgid, sub.subgid);
  return f;
}

describe('resolveRemap', () => {
  test('user, user:group, uid:gid read the user\'s ranges, consecutive from container id 0', async () => {
    const f = files({ subuid: 'alice:200000:1000\n1000:300000:64536\nbob:400000:65536\n', subgid: 'alice:500000:65536\n' });
    const r = (await resolveRemap('alice', f))!;
    assert.equal(r.user, 'alice');
    assert.equal(r.group, 'alice');
    assert.deepEqual(r.idmap.uids, [{ containerId: 0, hostId: 200000, size: 1000 }, { containerId: 1000, hostId: 300000, size: 64536 }]);
    assert.deepEqual(r.root, { uid: 200000, gid: 500000 });
    assert.equal(toHostId(r.idmap.uids, 1500), 300500);
    assert.equal(toContainerId(r.idmap.uids, 300500), 1500);
    assert.equal(toHostId(r.idmap.uids, 65536), undefined);
    assert.equal((await resolveRemap('alice:staff', f))!.group, 'staff');
    assert.equal((await resolveRemap('1000:50', f))!.group, 'staff');
    assert.equal((await resolveRemap('1000', f))!.user, 'alice');
  });

  test('dockerd\'s errors', async () => {
    const f = files({ subuid: 'alice:200000:65536\n', subgid: '' });
    await assert.rejects(resolveRemap('a:b:c', f), { message: 'Invalid user/group specification in --userns-remap: "a:b:c"' });
    await assert.rejects(resolveRemap('nobody', f), /Error during uid lookup for "nobody"/);
    await assert.rejects(resolveRemap('4242', f), /Uid 4242 has no entry in \/etc\/passwd/);
    await assert.rejects(resolveRemap('bob', f), /Error during gid lookup for "bob"/);
    await assert.rejects(resolveRemap('alice:nogroup', f), /Error during groupname lookup for "nogroup"/);
    await assert.rejects(resolveRemap('alice', f), /error creating ID mappings: no subgid ranges found for user "alice"/);
    fs.writeFileSync(f.subuid, 'alice:x:1\n');
    await assert.rejects(resolveRemap('alice', f), /invalid subuid line/);
  });

  test('root and the empty setting are off', async () => {
    const f = files({ subuid: '', subgid: '' });
    assert.equal(await resolveRemap('root', f), undefined);
    assert.equal(await resolveRemap('', f), undefined);
  });
});

test('the next free range skips the ranges in use (moby\'s findNextRangeStart)', () => {
  assert.equal(nextFreeRange([]), 100000);
  assert.equal(nextFreeRange(readSubIdsOf('a:100000:65536\nb:165536:65536\n')), 231072);
  assert.equal(nextFreeRange(readSubIdsOf('a:500000:65536\n')), 100000);
});

function readSubIdsOf(text: string) {
  const p = path.join(dir, `sub-${Math.random()}`);
  fs.writeFileSync(p, text);
  return readSubIds(p);
}

test('conflicts with user namespaces, and ownership maps for cp', async () => {
  const f = files({ subuid: 'alice:200000:65536\n', subgid: 'alice:300000:65536\n' });
  const r = await resolveRemap('alice', f);
  assert.throws(() => validateUsernsRemap({ Privileged: true }, r), /privileged mode is incompatible with user namespaces/);
  assert.throws(() => validateUsernsRemap({ PidMode: 'host' }, r), /cannot share the host PID namespace/);
  validateUsernsRemap({ Privileged: true, UsernsMode: 'host' }, r);
  validateUsernsRemap({ Privileged: true }, undefined);
  const maps = ownerMapsOf({ HostConfig: {} }, r)!;
  assert.deepEqual(maps.toHost({ uid: 5, gid: 6 }), { uid: 200005, gid: 300006 });
  assert.throws(() => maps.toHost({ uid: 70000, gid: 0 }), /Container ID 70000 cannot be mapped to a host ID/);
  assert.deepEqual(maps.toContainer({ uid: 200005, gid: 0 }), { uid: 5, gid: 65534 });
  assert.equal(ownerMapsOf({ HostConfig: { UsernsMode: 'host' } }, r), undefined);
});
