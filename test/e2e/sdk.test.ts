// Real SDKs against berthd: dockerode (npm) and docker-py (Debian's python3-docker).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

test('dockerode: ping, version, run with attach, wait, logs, list, inspect, remove', async () => {
  const docker = new Docker({ socketPath: d.socket });
  assert.equal(String(await docker.ping()), 'OK');
  assert.equal((await docker.version()).ApiVersion, '1.44');
  const images = await docker.listImages();
  assert.ok(images.some((i) => (i.RepoTags ?? []).includes('busybox:latest')));
  const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], Labels: { sdk: 'dockerode' } });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const out = new PassThrough();
  const err = new PassThrough();
  let outText = '';
  let errText = '';
  out.on('data', (b) => { outText += b; });
  err.on('data', (b) => { errText += b; });
  docker.modem.demuxStream(stream, out, err);
  await container.start();
  const result = await container.wait();
  assert.equal(result.StatusCode, 4);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(outText, 'out\n');
  assert.equal(errText, 'err\n');
  const logs = await container.logs({ stdout: true, stderr: true });
  assert.match(logs.toString(), /out\n/);
  const list = await docker.listContainers({ all: true, filters: { label: ['sdk=dockerode'] } });
  assert.equal(list.length, 1);
  assert.equal(list[0].State, 'exited');
  const info = await container.inspect();
  assert.equal(info.State.ExitCode, 4);
  await container.remove();
  await assert.rejects(container.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('docker-py (python3-docker): run, detach, logs, stop, images, errors', async () => {
  const script = `${d.root}/sdk.py`;
  fs.writeFileSync(script, `
import docker, sys
c = docker.DockerClient(base_url='unix://${d.socket}', version='auto')
assert c.ping()
assert c.version()['ApiVersion'] == '1.44'
out = c.containers.run('busybox', ['echo', 'hello from docker-py'], remove=True)
assert out == b'hello from docker-py\\n', out
ctr = c.containers.run('busybox', ['sh', '-c', 'echo started; sleep 30'], detach=True, labels={'sdk': 'py'})
import time; time.sleep(0.5)
assert b'started' in ctr.logs()
ctr.reload(); assert ctr.status == 'running', ctr.status
ctr.stop(timeout=1)
ctr.reload(); assert ctr.status == 'exited'
assert [x.id for x in c.containers.list(all=True, filters={'label': 'sdk=py'})] == [ctr.id]
ctr.remove()
assert any('busybox:latest' in i.tags for i in c.images.list())
try:
    c.containers.get('no-such-thing')
    sys.exit('expected NotFound')
except docker.errors.NotFound:
    pass
try:
    c.containers.run('busybox', ['nonexistentcmd'], remove=True)
    sys.exit('expected an error')
except (docker.errors.ContainerError, docker.errors.APIError) as e:
    assert 'executable file not found' in str(e), str(e)
print('ok')
`);
  const r = await runCmd('/usr/bin/python3', [script], process.env, { timeout: 120_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim(), 'ok');
  assert.equal(r.code, 0);
});

test('SDKs get the 400 for a field berth does not apply (storage options), not a silent no-op', async () => {
  const docker = new Docker({ socketPath: d.socket });
  await assert.rejects(docker.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { StorageOpt: { size: '1G' } } }),
    (e: { statusCode?: number; message: string }) => e.statusCode === 400 && /HostConfig\.StorageOpt/.test(e.message));
  const script = `${d.root}/sdk-unsupported.py`;
  fs.writeFileSync(script, `
import docker
c = docker.DockerClient(base_url='unix://${d.socket}', version='auto')
try:
    c.containers.run('busybox', ['true'], storage_opt={'size': '1G'}, remove=True)
    raise SystemExit('storage options were accepted')
except docker.errors.APIError as e:
    assert e.status_code == 400 and 'HostConfig.StorageOpt' in str(e), str(e)
print('ok')
`);
  const r = await runCmd('/usr/bin/python3', [script], process.env, { timeout: 120_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim(), 'ok');
});
