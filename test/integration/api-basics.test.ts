// The Engine API's contract: versions, ping, errors, bad input, against a real berthd.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as fs from 'node:fs';
import { expectedDefaultRuntime, startDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
before(async () => { d = await startDaemon(); });
after(async () => { await d.stop(); });

test('HEAD and GET /_ping advertise API 1.44 and builder 1', async () => {
  const head = await d.request('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.headers['api-version'], '1.44');
  assert.equal(head.headers['ostype'], 'linux');
  assert.equal(head.headers['builder-version'], '1');
  const get = await d.request('GET', '/v1.44/_ping');
  assert.equal(get.body.toString(), 'OK');
  assert.equal((await d.request('POST', '/_ping')).status, 404);
});

test('versions outside 1.24..1.44 are refused with Docker\'s texts', async () => {
  const tooNew = await d.request('GET', '/v1.99/version');
  assert.equal(tooNew.status, 400);
  assert.match(tooNew.json().message, /client version 1.99 is too new. Maximum supported API version is 1.44/);
  const tooOld = await d.request('GET', '/v1.11/version');
  assert.equal(tooOld.status, 400);
  assert.match(tooOld.body.toString(), /client version 1.11 is too old/);
  for (const v of ['1.24', '1.41', '1.44']) assert.equal((await d.request('GET', `/v${v}/version`)).status, 200);
  assert.equal((await d.request('GET', '/version')).json().ApiVersion, '1.44');
});

test('unknown routes give 404 page not found', async () => {
  const r = await d.request('GET', '/v1.44/nothing/here');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'page not found' });
});

test('info has real figures', async () => {
  const info = (await d.request('GET', '/v1.44/info')).json();
  assert.equal(info.Driver, 'overlay2');
  assert.ok(info.NCPU >= 1);
  assert.ok(info.MemTotal > 0);
  assert.match(info.CgroupVersion, /^[12]$/);
  assert.ok(info.Runtimes.runc);
  assert.equal(info.DefaultRuntime, expectedDefaultRuntime());
  assert.ok(info.Runtimes[info.DefaultRuntime]);
  assert.equal(info.DockerRootDir, d.dataRoot);
});

test('the socket is not world-writable', () => {
  const mode = fs.statSync(d.socket).mode & 0o777;
  assert.equal(mode & 0o007, 0, `socket mode ${mode.toString(8)}`);
});

test('malformed JSON and missing objects get Docker-shaped errors, and the daemon survives', async () => {
  const bad = await d.request('POST', '/v1.44/containers/create', Buffer.from('{not json'), { 'Content-Type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.ok(bad.json().message);
  const noImage = await d.request('POST', '/v1.44/containers/create', { Image: 'nope-missing' });
  assert.equal(noImage.status, 404);
  assert.equal(noImage.json().message, 'No such image: nope-missing:latest');
  const noCtr = await d.request('GET', '/v1.44/containers/tr-missing/json');
  assert.equal(noCtr.status, 404);
  assert.equal(noCtr.json().message, 'No such container: tr-missing');
  const badFilter = await d.request('GET', '/v1.44/containers/json?filters=%7Bbad');
  assert.equal(badFilter.status, 400);
  assert.equal((await d.request('GET', '/_ping')).status, 200);
});

test('a second daemon on the same socket is refused', async () => {
  const { runCmd, BERTHD, networkArgs, removeNetworkLeftovers } = await import('../helpers/daemon');
  const r = await runCmd(BERTHD, ['--data-root', d.dataRoot + '2', '--exec-root', d.execRoot + '2', '-H', d.host, '--config-file', d.root + '/daemon.json',
    ...networkArgs(d.root + '2')], process.env, { timeout: 10_000 });
  await removeNetworkLeftovers(d.root + '2');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /in use/);
  fs.rmSync(d.dataRoot + '2', { recursive: true, force: true });
  fs.rmSync(d.execRoot + '2', { recursive: true, force: true });
});

test('TCP without mutual TLS is refused', async () => {
  const { runCmd, BERTHD } = await import('../helpers/daemon');
  const r = await runCmd(BERTHD, ['-H', 'tcp://127.0.0.1:23750', '--data-root', d.root + '/x', '--exec-root', d.root + '/y'], process.env, { timeout: 10_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /mutual TLS/);
});
