// Volumes across berthd crashes: after a kill -9 and a restart the volumes, their data and
// who uses them are all there (a used volume is still refused removal; a device-backed
// volume of a running container stays mounted, and goes down after that container's exit),
// and a create or removal cut short by a crash leaves no half volume.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.dockerOk(args);

const restart = (env: Record<string, string> = {}) => d.restart(env);

async function crashAt(point: string, op: () => Promise<unknown>): Promise<void> {
  await restart({ BERTH_CRASH_AT: point });
  const proc = d.proc!;
  const died = new Promise<void>((r) => { if (d.exited) r(); else proc.once('exit', () => r()); });
  await op().catch(() => undefined);
  await died;
  assert.equal(proc.signalCode, 'SIGKILL');
  assert.match(d.stderr, new RegExp(`crash point ${point.replace(/\./g, '\\.')}`));
  await restart();
}

const mounted = (p: string) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);
const volumesDir = () => fs.readdirSync(path.join(d.dataRoot, 'volumes')).sort();

test('kill -9 and restart: volumes, their data and their users survive; a device-backed one follows its running user', async () => {
  await docker('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m', 'rtv');
  const running = (await docker('run', '-d', '-v', 'rkeep:/k', '-v', 'rtv:/t', 'busybox', 'sh', '-c', 'echo data > /k/f; echo tmp > /t/f; exec sleep 300')).trim();
  const created = (await docker('create', '-v', 'rkeep2:/k', 'busybox', 'true')).trim();
  const tv = path.join(d.dataRoot, 'volumes', 'rtv', '_data');
  assert.ok(mounted(tv));
  await restart();
  assert.deepEqual((await docker('volume', 'ls', '-q')).split('\n').filter(Boolean).sort(), ['rkeep', 'rkeep2', 'rtv']);
  for (const [v, id] of [['rkeep', running], ['rkeep2', created], ['rtv', running]]) {
    const r = await d.request('DELETE', `/v1.44/volumes/${v}`);
    assert.equal(r.status, 409, `${v}: ${r.body}`);
    assert.deepEqual(r.json(), { message: `remove ${v}: volume is in use - [${id}]` });
  }
  assert.equal((await d.request('GET', '/v1.44/system/df?type=volume')).json().Volumes.find((v: { Name: string }) => v.Name === 'rkeep').UsageData.RefCount, 1);
  // still mounted for the running container, which still sees its data
  assert.ok(mounted(tv));
  assert.equal(await docker('exec', running, 'cat', '/k/f', '/t/f'), 'data\ntmp\n');
  // its exit (followed by the restarted daemon) takes the device-backed volume down
  await docker('stop', '-t', '0', running);
  assert.ok(!mounted(tv));
  await docker('rm', running, created);
  await docker('volume', 'rm', 'rtv', 'rkeep2');
  assert.equal(await docker('run', '--rm', '-v', 'rkeep:/k', 'busybox', 'cat', '/k/f'), 'data\n');
  await docker('volume', 'rm', 'rkeep');
});

test('a crash inside a volume create or removal leaves no half volume; the name is free again', async () => {
  await crashAt('volume.create.before-rename', () => d.request('POST', '/v1.44/volumes/create', { Name: 'torn' }));
  assert.equal((await d.request('GET', '/v1.44/volumes/torn')).status, 404);
  assert.deepEqual(volumesDir(), []);
  await docker('volume', 'create', 'torn');
  fs.writeFileSync(path.join(d.dataRoot, 'volumes', 'torn', '_data', 'f'), 'x');
  await crashAt('volume.remove.after-rename', () => d.request('DELETE', '/v1.44/volumes/torn'));
  assert.equal((await d.request('GET', '/v1.44/volumes/torn')).status, 404);
  assert.deepEqual(volumesDir(), []);
  await docker('volume', 'create', 'torn');
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'volumes', 'torn', '_data')), []);
  await docker('volume', 'rm', 'torn');
});

test('rm -v cut short by a crash still removes the anonymous volumes at the next start', async () => {
  const id = (await docker('create', '-v', '/anon', '-v', 'named:/n', 'busybox', 'true')).trim();
  await crashAt('container.remove.after-state', () => d.request('DELETE', `/v1.44/containers/${id}?v=1`));
  assert.equal((await d.request('GET', `/v1.44/containers/${id}/json`)).status, 404);
  assert.deepEqual((await docker('volume', 'ls', '-q')).split('\n').filter(Boolean), ['named']);
  await docker('volume', 'rm', 'named');
});

test('a copy-up cut short by a crash leaves the volume empty, and the next start copies it whole', async () => {
  await d.importBusyboxVariant('cufull:1', (root) => {
    fs.mkdirSync(path.join(root, 'data'));
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, 'data', `f${i}`), `file ${i}\n`);
  });
  const id = (await docker('create', '-v', 'cuv:/data', 'cufull:1', 'ls', '/data')).trim();
  await crashAt('volume.copyup.before-rename', () => d.request('POST', `/v1.44/containers/${id}/start`));
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'volumes', 'cuv', '_data')), []);
  assert.ok(!fs.existsSync(path.join(d.dataRoot, 'volumes', 'cuv', '.copyup')));
  assert.equal((await docker('start', '-a', id)).split('\n').filter(Boolean).length, 20);
  await docker('rm', id);
  await docker('volume', 'rm', 'cuv');
});
