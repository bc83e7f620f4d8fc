// The berth CLI's volume commands and mount flags against a real berthd: volume
// create/ls/inspect/rm/prune, run/create with -v, --mount, --tmpfs and --volumes-from, rm -v.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

async function berth(...args: string[]): Promise<string> {
  const r = await d.berth(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const names = async () => (await berth('volume', 'ls', '-q')).split('\n').filter(Boolean).sort();

test('berth volume create, ls, inspect, rm', async () => {
  assert.equal(await berth('volume', 'create', '--label', 'tier=db', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'bv1'), 'bv1\n');
  assert.equal(await berth('volume', 'create', '--name', 'bv2'), 'bv2\n');
  assert.match(await berth('volume', 'create'), /^[0-9a-f]{64}\n$/);
  const table = await berth('volume', 'ls', '--filter', 'name=bv');
  assert.match(table, /^DRIVER\s+VOLUME NAME\nlocal\s+bv1\nlocal\s+bv2\n$/);
  assert.equal(await berth('volume', 'ls', '-q', '--filter', 'label=tier=db'), 'bv1\n');
  assert.equal(await berth('volume', 'ls', '--format', '{{.Name}} {{.Labels}} {{.Label "tier"}}', '--filter', 'name=bv1'), 'bv1 tier=db db\n');
  const v = JSON.parse(await berth('volume', 'inspect', 'bv1'))[0];
  assert.deepEqual([v.Name, v.Driver, v.Scope, v.Options, v.Labels], ['bv1', 'local', 'local', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, { tier: 'db' }]);
  assert.equal(await berth('volume', 'inspect', '-f', '{{.Mountpoint}}', 'bv2'), path.join(d.dataRoot, 'volumes', 'bv2', '_data') + '\n');
  const missing = await d.berth(['volume', 'inspect', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such volume/);
  assert.equal(await berth('volume', 'rm', 'bv1', 'bv2'), 'bv1\nbv2\n');
  await berth('volume', 'prune', '-af');
  assert.deepEqual(await names(), []);
});

test('berth run: a named volume keeps data across containers; -v, --mount, --tmpfs and --volumes-from mount what they say', async () => {
  const host = fs.mkdtempSync(path.join(d.root, 'host-'));
  fs.writeFileSync(path.join(host, 'h'), 'host\n');
  await berth('run', '--name', 'bw', '-v', 'bdb:/db', 'busybox', 'sh', '-c', 'echo row > /db/t');
  await berth('rm', 'bw');
  assert.equal(await berth('run', '--rm', '-v', 'bdb:/db', 'busybox', 'cat', '/db/t'), 'row\n');
  const out = await d.berth(['run', '--rm', '--mount', `type=bind,src=${host},dst=/h,readonly`, '--tmpfs', '/t:size=1m',
    '--mount', 'type=tmpfs,dst=/u,tmpfs-size=2m', 'busybox', 'sh', '-c', 'cat /h/h; touch /h/x; df -k /t /u | tail -n 2 | awk \'{print $2}\'']);
  assert.equal(out.stdout, 'host\n1024\n2048\n');
  assert.match(out.stderr, /Read-only file system/);
  // --volumes-from, and rm -v taking only the anonymous volume
  const before = await names();
  await berth('create', '--name', 'bsrc', '-v', 'bshared:/s', '-v', '/banon', 'busybox', 'true');
  await berth('run', '--rm', '--volumes-from', 'bsrc', 'busybox', 'sh', '-c', 'echo from > /s/x');
  assert.equal(await berth('run', '--rm', '-v', 'bshared:/s', 'busybox', 'cat', '/s/x'), 'from\n');
  const mounts = JSON.parse(await berth('inspect', '-f', '{{json .Mounts}}', 'bsrc')) as { Type: string; Name: string; Destination: string }[];
  assert.deepEqual(mounts.map((m) => [m.Type, m.Destination]), [['volume', '/banon'], ['volume', '/s']]);
  assert.equal((await names()).length, before.length + 2);
  const inUse = await d.berth(['volume', 'rm', 'bshared']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /volume is in use/);
  await berth('rm', '-v', 'bsrc');
  assert.deepEqual(await names(), [...before, 'bshared'].sort());
  // run --rm removes its anonymous volume
  await berth('run', '--rm', '-v', '/scratch', 'busybox', 'true');
  assert.deepEqual(await names(), [...before, 'bshared'].sort());
  const pruned = await berth('volume', 'prune', '-a', '-f');
  assert.match(pruned, /Deleted Volumes:\n(bdb\nbshared|bshared\nbdb)\n\nTotal reclaimed space: \d+B\n/);
  assert.deepEqual(await names(), []);
});

test('berth system df [-v] prints what docker system df [-v] prints', async () => {
  await berth('run', '--name', 'dfw', '-v', 'bdf:/d', 'busybox', 'sh', '-c', 'head -c 3000 /dev/zero > /d/x; echo hi > /f');
  await berth('volume', 'create', 'bdf2');
  try {
    const docker = async (...args: string[]) => { const r = await d.docker(args); assert.equal(r.code, 0, r.stderr); return r.stdout; };
    assert.equal(await berth('system', 'df'), await docker('system', 'df'));
    assert.match(await berth('system', 'df'), /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+1\s+.*\nContainers\s+1\s+0\s+3B\s+3B \(100%\)\nLocal Volumes\s+2\s+1\s+3kB\s+0B \(0%\)\nBuild Cache\s+0\s+0\s+0B\s+0B\n$/);
    // the relative times may tick between the two calls; column widths follow them
    const norm = (s: string) => s.replace(/(Less than a second|About a minute|\d+ (seconds?|minutes?)) ago/g, 'T ago').replace(/ {2,}/g, '  ');
    const ours = await berth('system', 'df', '-v');
    assert.equal(norm(ours), norm(await docker('system', 'df', '-v')));
    assert.match(ours, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\nbdf\s+1\s+3kB\nbdf2\s+0\s+0B\n/);
  } finally {
    await berth('rm', 'dfw');
    await berth('volume', 'rm', 'bdf', 'bdf2');
  }
});
