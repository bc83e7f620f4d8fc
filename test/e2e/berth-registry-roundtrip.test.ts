// berthd against berth's own registry server, through the docker CLI and the berth CLI: push an
// image (a layer kept uncompressed, gzipped at push) and a build's result, pull them into a
// second daemon and run them; with htpasswd auth, login first. The pull/push tests against
// Debian's distribution are in docker-push / docker-pull*; this is the same path to ours.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, useDaemon, type TestDaemon } from '../helpers/daemon';
import { run, startRegistry, type TestRegistry } from '../helpers/registryserver';

let d: TestDaemon;
useDaemon((x) => { d = x; });

let other: TestDaemon;
let plain: TestRegistry;
let authed: TestRegistry;

before(async () => {
  other = await startDaemon();
  plain = await startRegistry();
  const file = path.join(other.root, 'htpasswd');
  await run('htpasswd', ['-Bbc', file, 'alice', 'wonderland']);
  authed = await startRegistry(['--htpasswd', file]);
});

after(async () => {
  await plain?.stop();
  await authed?.stop();
  await other?.stop();
});

const ok = (dd: TestDaemon, args: string[], opts: { input?: string } = {}) => dd.dockerOk(args, { ...opts, timeout: 120_000 });

test('docker push to berth registry, then pull and run in another daemon; the second push uploads nothing', async () => {
  const ref = `${plain.hostPort}/tools/busybox:1`;
  await ok(d, ['tag', 'busybox', ref]);
  const first = await ok(d, ['push', ref]);
  assert.match(first, /Pushed/);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(first)?.[1];
  assert.ok(digest, first);
  const again = await ok(d, ['push', ref]);
  assert.match(again, /Layer already exists/);
  assert.doesNotMatch(again, /Pushed/);
  assert.equal(/digest: (sha256:[0-9a-f]{64})/.exec(again)?.[1], digest);

  const pulled = await ok(other, ['pull', ref]);
  assert.match(pulled, new RegExp(`Digest: ${digest}`));
  assert.equal((await ok(other, ['run', '--rm', ref, 'echo', 'from berth registry'])).trim(), 'from berth registry');
  // the manifest the registry keeps is Docker's schema2 (the uncompressed layer went as gzip)
  const res = await fetch(`${plain.url}/v2/tools/busybox/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(res.headers.get('content-type'), 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(res.headers.get('docker-content-digest'), digest);
});

test('a built image goes through berth push and berth pull; a registry with htpasswd wants a login', async () => {
  const ctx = fs.mkdtempSync(path.join(d.root, 'ctx-'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\nCMD ["cat", "/built"]\n');
  const ref = `${authed.hostPort}/team/built:v1`;
  const b = await d.berth(['build', '-q', '-t', ref, ctx], { timeout: 120_000 });
  assert.equal(b.code, 0, b.stderr);

  const denied = await d.berth(['push', ref], { timeout: 60_000 });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /unauthorized|authentication required|no basic auth credentials/i);

  const login = await d.berth(['login', '-u', 'alice', '--password-stdin', authed.hostPort], { input: 'wonderland\n' });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);
  const pushed = await d.berth(['push', ref], { timeout: 120_000 });
  assert.equal(pushed.code, 0, pushed.stderr);

  // the other daemon's CLI logs in with docker, pulls with berth
  await ok(other, ['login', '-u', 'alice', '--password-stdin', authed.hostPort], { input: 'wonderland\n' });
  const p = await other.berth(['pull', ref], { timeout: 120_000 });
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await ok(other, ['run', '--rm', ref])).trim(), 'built');
});
