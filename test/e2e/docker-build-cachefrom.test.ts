// docker build --cache-from (classic builder) and the credentials a build pulls its FROM image
// with: an image built on one daemon, saved and loaded into a fresh one, is the cache of the
// same build there (every step ` ---> Using cache`, the same image ID); without --cache-from the
// steps run again; a changed file rebuilds from its COPY on. A FROM of an htpasswd registry's
// image pulls with what `docker login` stored (X-Registry-Config), through both CLIs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContext, classicBuild } from '../helpers/build';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { busyboxTar, makeImage, makeLayer, startRegistry, type TestRegistry } from '../helpers/registry';

const cacheHits = (out: string) => (out.match(/ ---> Using cache/g) ?? []).length;
const builtId = (out: string) => /Successfully built ([a-f0-9]{12})/.exec(out)?.[1];
const steps = (out: string) => (out.match(/^Step \d+\/\d+ : /gm) ?? []).length;

describe('docker build --cache-from', () => {
  let d1: TestDaemon;
  let d2: TestDaemon;
  let reg: TestRegistry;
  before(async () => {
    [d1, d2, reg] = await Promise.all([startDaemon(), startDaemon(), startRegistry({ auth: 'htpasswd', users: { alice: 'pw-alice' } })]);
    await d1.ensureBusybox();
  });
  after(async () => { await Promise.all([d1?.stop(), d2?.stop(), reg?.stop()]); });

  const files = (a: string) => ({
    Dockerfile: [
      'FROM busybox',
      'ARG V=1',
      'ENV GREETING=hello',
      'COPY dir/ /srv/dir/',
      'COPY --chown=7:7 a.txt /srv/',
      'RUN echo "$GREETING $V" > /srv/run.txt',
      'COPY <<EOF /srv/here.txt',
      'heredoc',
      'EOF',
      'WORKDIR /srv',
      'CMD ["cat", "/srv/a.txt", "/srv/run.txt"]',
      '',
    ].join('\n'),
    'dir/b.txt': 'B\n',
    'a.txt': a,
  });

  it('an image loaded into a fresh daemon is the cache of the same build: all hits, the same ID', async () => {
    const dir1 = buildContext(d1, 'cf', files('A\n'));
    const first = await classicBuild(d1, dir1, '-t', 'e2e-cf:1', '--label', 'cf=1');
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const id = builtId(first.stdout)!;
    assert.ok(id);
    const archive = path.join(d1.root, 'cf.tar');
    await d1.dockerOk(['save', '-o', archive, 'busybox:latest', 'e2e-cf:1']);
    await d2.dockerOk(['load', '-i', archive]);
    const dir2 = buildContext(d2, 'cf', files('A\n'));

    // No --cache-from: the daemon has no cache for these steps, they run.
    const plain = await classicBuild(d2, dir2, '-t', 'e2e-cf:plain', '--label', 'cf=1');
    assert.equal(plain.code, 0, plain.stderr + plain.stdout);
    assert.equal(cacheHits(plain.stdout), 0, plain.stdout);
    assert.match(plain.stdout, / ---> Running in [a-f0-9]{12}/);
    assert.notEqual(builtId(plain.stdout), id);

    // --cache-from: every step after FROM is a hit, nothing runs, the result is the loaded image.
    // (The daemon's own cache from the build above is not used: it is not the named image's.)
    const cached = await classicBuild(d2, dir2, '-t', 'e2e-cf:2', '--label', 'cf=1', '--cache-from', 'e2e-cf:1', '--cache-from', 'nosuch:1');
    assert.equal(cached.code, 0, cached.stderr + cached.stdout);
    assert.equal(cacheHits(cached.stdout), steps(cached.stdout) - 1, cached.stdout);
    assert.doesNotMatch(cached.stdout, /Running in/);
    assert.equal(builtId(cached.stdout), id);
    const run = await d2.dockerOk(['run', '--rm', 'e2e-cf:2']);
    assert.equal(run, 'A\nhello 1\n');

    // berth build --cache-from, with the daemon's own cache records gone: the same.
    fs.rmSync(path.join(d2.dataRoot, 'builder', 'cache'), { recursive: true, force: true });
    const viaBerth = await d2.berth(['build', '-t', 'e2e-cf:3', '--label', 'cf=1', '--cache-from', 'e2e-cf:1', dir2]);
    assert.equal(viaBerth.code, 0, viaBerth.stderr + viaBerth.stdout);
    assert.equal(cacheHits(viaBerth.stdout), steps(viaBerth.stdout) - 1, viaBerth.stdout);
    assert.equal(builtId(viaBerth.stdout), id);

    // One changed file: the steps before its COPY come from the loaded image, the rest run on
    // the image restored for that point (its layers are the loaded image's).
    fs.writeFileSync(path.join(dir2, 'a.txt'), 'A2\n');
    const changed = await classicBuild(d2, dir2, '-t', 'e2e-cf:4', '--cache-from', 'e2e-cf:1');
    assert.equal(changed.code, 0, changed.stderr + changed.stdout);
    assert.equal(cacheHits(changed.stdout), 3, changed.stdout);
    assert.match(changed.stdout, /Step 5\/9 : COPY --chown=7:7 a.txt \/srv\/\n(?! ---> Using cache)/);
    assert.match(changed.stdout, / ---> Running in /);
    assert.equal(await d2.dockerOk(['run', '--rm', 'e2e-cf:4']), 'A2\nhello 1\n');
    const look = await d2.dockerOk(['run', '--rm', 'e2e-cf:4', 'sh', '-c', 'cat /srv/dir/b.txt /srv/here.txt; stat -c %u:%g /srv/a.txt']);
    assert.equal(look, 'B\nheredoc\n7:7\n');
    // The restored images keep the loaded image's history up to that point.
    const hist = (ref: string) => d2.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', ref]).then((s) => s.replace(/\n$/, '').split('\n').reverse());
    const [src, rebuilt] = await Promise.all([hist('e2e-cf:1'), hist('e2e-cf:4')]);
    assert.deepEqual(rebuilt.slice(0, 4), src.slice(0, 4));
    assert.match(src[4], /#\(nop\) COPY --chown=7:7file:[a-f0-9]{64} in \/srv\/ $/);
    assert.notEqual(rebuilt[4], src[4]);

    // A changed build arg is a different ARG step: nothing below it is taken.
    const arg = await classicBuild(d2, dir2, '--build-arg', 'V=2', '--cache-from', 'e2e-cf:1');
    assert.equal(arg.code, 0, arg.stderr + arg.stdout);
    assert.equal(cacheHits(arg.stdout), 0, arg.stdout);
  });

  it('a malformed cachefrom is a 400', async () => {
    const r = await d2.request('POST', '/v1.44/build?cachefrom=%7B%7D', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 400);
    assert.match(r.json().message, /invalid cachefrom parameter/);
  });

  it('FROM an image of an htpasswd registry pulls with the credentials docker login stored', async () => {
    await reg.seedImage('priv/bb', 'v1', makeImage({ layers: [makeLayer(busyboxTar())] }));
    const base = `${reg.host}/priv/bb:v1`;
    const dir = buildContext(d1, 'authed', { Dockerfile: `FROM ${base}\nRUN echo pulled-with-login > /who; ls /sys/class/net > /nets\nCMD ["cat", "/who"]\n` });
    const anon = await classicBuild(d1, dir, '-t', 'e2e-authed:1');
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr + anon.stdout, /pull access denied|unauthorized|no basic auth credentials/);

    const login = await d1.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'pw-alice\n' });
    assert.equal(login.code, 0, login.stderr);
    const ok = await classicBuild(d1, dir, '-t', 'e2e-authed:1');
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.equal(await d1.dockerOk(['run', '--rm', 'e2e-authed:1']), 'pulled-with-login\n');

    assert.equal(await d1.dockerOk(['run', '--rm', 'e2e-authed:1', 'cat', '/nets']), 'eth0\nlo\n', 'RUN on the default bridge');

    // berth build sends the same header from the same config file (and --network, --no-cache).
    await d1.dockerOk(['rmi', 'e2e-authed:1', base]);
    const viaBerth = await d1.berth(['build', '--no-cache', '--network', 'none', '-t', 'e2e-authed:2', dir]);
    assert.equal(viaBerth.code, 0, viaBerth.stderr + viaBerth.stdout);
    assert.equal(await d1.dockerOk(['run', '--rm', 'e2e-authed:2']), 'pulled-with-login\n');
    assert.equal(await d1.dockerOk(['run', '--rm', 'e2e-authed:2', 'cat', '/nets']), 'lo\n', 'RUN with --network none');
  });
});
