// Builds through the real docker CLI's classic builder (DOCKER_BUILDKIT=0) against berthd: the
// images run, and their files, users, env, entrypoints and history are what the Dockerfile says;
// multi-stage builds with --target; the cache (all hits on a second build, a one-file change
// rebuilding from its COPY, surviving a restart); ADD of a local tar; failing steps.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildContext, classicBuild } from '../helpers/build';
import { runCmd, useDaemon, type TestDaemon } from '../helpers/daemon';
import { busyboxTar, makeImage, makeLayer, startRegistry, tarOf } from '../helpers/registry';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);
const build = (dir: string, ...args: string[]) => classicBuild(d, dir, ...args);

const context = (name: string, files: Record<string, string>) => buildContext(d, name, files);

const inspect = async (ref: string) => JSON.parse((await docker('image', 'inspect', ref)).stdout)[0];
const cacheHits = (out: string) => (out.match(/ ---> Using cache/g) ?? []).length;

test('a build makes an image with its files, user, env, workdir, entrypoint, cmd and history', async () => {
  const dir = context('basic', {
    Dockerfile: [
      '# syntax=docker/dockerfile:1',
      'FROM busybox',
      'LABEL org.example.kind="e2e build"',
      'ENV GREETING=hello \\',
      '    TARGET=world',
      'RUN echo "$GREETING $TARGET" > /greeting && \\',
      '    echo app:x:1234:1234::/home/app:/bin/sh >> /etc/passwd && echo app:x:1234: >> /etc/group',
      'COPY --chown=app:app files/ /srv/files/',
      'COPY ["one.txt", "/srv/"]',
      'WORKDIR /srv',
      'USER app',
      'EXPOSE 8080/tcp',
      'ENTRYPOINT ["sh", "-c", "echo entry: $0 $@; cat /greeting", "first"]',
      'CMD ["second"]',
      '',
    ].join('\n'),
    'files/a.txt': 'A\n',
    'files/sub/b.txt': 'B\n',
    'one.txt': 'one\n',
  });
  const r = await build(dir, '-t', 'e2e-build-basic:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^Step 1\/11 : FROM busybox$/m);
  assert.match(r.stdout, /^Step 4\/11 : RUN echo "\$GREETING \$TARGET" > \/greeting && +echo app:x:1234/m);
  assert.match(r.stdout, / ---> Running in [a-f0-9]{12}\n/);
  assert.match(r.stdout, /Removing intermediate container [a-f0-9]{12}/);
  assert.match(r.stdout, /Successfully built [a-f0-9]{12}\nSuccessfully tagged e2e-build-basic:1\n/);

  const run = await docker('run', '--rm', 'e2e-build-basic:1');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'entry: first second\nhello world\n');
  const look = await docker('run', '--rm', '--entrypoint', 'sh', 'e2e-build-basic:1', '-c',
    'id -u; id -g; pwd; stat -c "%U:%G %a %n" /srv/files /srv/files/a.txt /srv/files/sub/b.txt /srv/one.txt; cat /srv/files/sub/b.txt');
  assert.equal(look.code, 0, look.stderr);
  assert.equal(look.stdout, '1234\n1234\n/srv\napp:app 755 /srv/files\napp:app 644 /srv/files/a.txt\napp:app 644 /srv/files/sub/b.txt\nroot:root 644 /srv/one.txt\nB\n');

  const img = await inspect('e2e-build-basic:1');
  assert.equal(img.Config.User, 'app');
  assert.equal(img.Config.WorkingDir, '/srv');
  assert.deepEqual(img.Config.Entrypoint, ['sh', '-c', 'echo entry: $0 $@; cat /greeting', 'first']);
  assert.deepEqual(img.Config.Cmd, ['second']);
  assert.ok(img.Config.Env.includes('GREETING=hello') && img.Config.Env.includes('TARGET=world'));
  assert.deepEqual(img.Config.ExposedPorts, { '8080/tcp': {} });
  assert.equal(img.Config.Labels['org.example.kind'], 'e2e build');
  const base = await inspect('busybox');
  // RUN and the two COPYs make layers; WORKDIR of a directory the COPY made changes nothing.
  assert.equal(img.RootFS.Layers.length, base.RootFS.Layers.length + 3);

  const hist = (await docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'e2e-build-basic:1')).stdout.trim().split('\n');
  assert.equal(hist[0], '/bin/sh -c #(nop)  CMD ["second"]');
  assert.equal(hist[3], '/bin/sh -c #(nop)  USER app');
  assert.equal(hist[4], '/bin/sh -c #(nop)  WORKDIR /srv');
  assert.match(hist[5], /^\/bin\/sh -c #\(nop\) COPY file:[a-f0-9]{64} in \/srv\/ $/);
  // --chown is in the line as dockerd writes it (no space before the hash).
  assert.match(hist[6], /^\/bin\/sh -c #\(nop\) COPY --chown=app:appdir:[a-f0-9]{64} in \/srv\/files\/ $/);
  assert.match(hist[7], /^\/bin\/sh -c echo "\$GREETING \$TARGET" > \/greeting && +echo app:x:1234:1234/);
  // The image's history marks the steps without a layer as empty ones.
  const sizes = (await docker('history', '--format', '{{.Size}}', 'e2e-build-basic:1')).stdout.trim().split('\n');
  assert.deepEqual(sizes.slice(0, 5), ['0B', '0B', '0B', '0B', '0B']);
});

test('a second identical build is all cache hits; a one-file change rebuilds from the COPY that reads it', async () => {
  const files = {
    Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /a.copy\nCOPY b.txt /b.txt\nRUN cat /b.txt > /b.copy\nCMD ["cat", "/a.copy", "/b.copy"]\n',
    'a.txt': 'a1\n', 'b.txt': 'b1\n',
  };
  const dir = context('cache', files);
  const first = await build(dir, '-t', 'e2e-build-cache:1');
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.equal(cacheHits(first.stdout), 0);
  const id1 = (await inspect('e2e-build-cache:1')).Id;

  // Touching mtimes changes nothing: the cache keys on content and metadata.
  const later = new Date(Date.now() + 3600_000);
  fs.utimesSync(path.join(dir, 'a.txt'), later, later);
  const second = await build(dir, '-t', 'e2e-build-cache:2');
  assert.equal(second.code, 0, second.stderr);
  assert.equal(cacheHits(second.stdout), 5);
  assert.doesNotMatch(second.stdout, /Running in/);
  assert.equal((await inspect('e2e-build-cache:2')).Id, id1);

  fs.writeFileSync(path.join(dir, 'b.txt'), 'b2\n');
  const third = await build(dir, '-t', 'e2e-build-cache:3');
  assert.equal(third.code, 0, third.stderr);
  assert.equal(cacheHits(third.stdout), 2, third.stdout); // COPY a.txt and its RUN
  assert.match(third.stdout, /Step 4\/6 : COPY b.txt \/b.txt\n ---> [a-f0-9]{12}\n/);
  assert.equal((await docker('run', '--rm', 'e2e-build-cache:3')).stdout, 'a1\nb2\n');

  // --no-cache rebuilds every step; the COPY layer comes out byte for byte the same (its file's
  // mtime is the same as in the third build; a.txt's was moved after the first).
  const fresh = await build(dir, '--no-cache', '-t', 'e2e-build-cache:4');
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(cacheHits(fresh.stdout), 0);
  const l3 = (await inspect('e2e-build-cache:3')).RootFS.Layers;
  const l4 = (await inspect('e2e-build-cache:4')).RootFS.Layers;
  const n = (await inspect('busybox')).RootFS.Layers.length;
  assert.equal(l4[n + 2], l3[n + 2], 'COPY b.txt gives the same diff ID');
});

test('the cache survives a daemon restart', async () => {
  const dir = context('restart', { Dockerfile: 'FROM busybox\nRUN echo one > /one\nCOPY f /f\n', f: 'f\n' });
  const first = await build(dir, '-t', 'e2e-build-restart:1');
  assert.equal(first.code, 0, first.stderr);
  await d.stopDaemon();
  await d.start();
  const again = await build(dir, '-t', 'e2e-build-restart:2');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(cacheHits(again.stdout), 2, again.stdout);
  assert.equal((await inspect('e2e-build-restart:1')).Id, (await inspect('e2e-build-restart:2')).Id);
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'builder', 'tmp')).length, 0);
});

test('a 3-stage build: COPY --from a stage, FROM a stage, --target, stages the target does not need are skipped', async () => {
  const dir = context('stages', {
    Dockerfile: [
      'ARG BASE=busybox',
      'FROM ${BASE} AS builder',
      'RUN mkdir /out && echo compiled > /out/app',
      'FROM busybox AS broken',
      'RUN echo this stage must not run && exit 9',
      'FROM builder AS tested',
      'RUN test -f /out/app && echo ok > /out/tested',
      'FROM busybox AS final',
      'COPY --from=tested /out/ /app/',
      'COPY --from=0 /out/app /app/again',
      'CMD ["cat", "/app/app", "/app/tested", "/app/again"]',
      'FROM busybox AS after',
      'RUN exit 7',
      '',
    ].join('\n'),
  });
  const r = await build(dir, '--target', 'final', '-t', 'e2e-build-stages:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /must not run/);
  assert.doesNotMatch(r.stdout, /exit 7/);
  assert.match(r.stdout, /Step 1\/8 : FROM \$\{BASE\} AS builder\n ---> [a-f0-9]{12}\n/);
  assert.equal((await docker('run', '--rm', 'e2e-build-stages:1')).stdout, 'compiled\nok\ncompiled\n');
  const missing = await build(dir, '--target', 'nope');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr + missing.stdout, /failed to reach build target nope in Dockerfile/);
});

test('ADD extracts a local tar; .dockerignore with exceptions applies; heredocs; build args', async () => {
  const dir = context('add', {
    Dockerfile: [
      'FROM busybox',
      'ARG WHO=nobody',
      'ADD bundle.tar.gz /opt/',
      'COPY . /ctx/',
      'RUN <<EOF',
      'echo "heredoc ran for $WHO" > /heredoc.txt',
      'EOF',
      'COPY <<EOT /etc/motd',
      'welcome $WHO',
      'EOT',
      '',
    ].join('\n'),
    '.dockerignore': '*.log\nsecret/\n!keep.log\n',
    'drop.log': 'x', 'keep.log': 'kept\n', 'secret/key': 'k', 'plain.txt': 'p\n',
  });
  const src = path.join(d.root, 'ctx', 'bundle-src');
  fs.mkdirSync(path.join(src, 'pkg', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(src, 'pkg', 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  execFileSync('tar', ['-C', src, '--owner=0', '--group=0', '-czf', path.join(dir, 'bundle.tar.gz'), 'pkg']);
  const r = await build(dir, '--build-arg', 'WHO=tester', '--build-arg', 'UNUSED=1', '-t', 'e2e-build-add:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
  const out = await docker('run', '--rm', 'e2e-build-add:1', 'sh', '-c',
    '/opt/pkg/bin/tool; cat /heredoc.txt /etc/motd; ls -A /ctx | sort | tr "\\n" " "');
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'tool\nheredoc ran for tester\nwelcome tester\n.dockerignore Dockerfile bundle.tar.gz keep.log plain.txt ');
});

test('a failing RUN fails the build with its output and exit code; bad input is refused clearly', async () => {
  const dir = context('fail', { Dockerfile: 'FROM busybox\nRUN echo failing output && exit 3\n' });
  const r = await build(dir);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /failing output/);
  assert.match(r.stderr, /The command '\/bin\/sh -c echo failing output && exit 3' returned a non-zero code: 3/);

  // Not local and no registry holds it: the pull's error (this machine reaches no Docker Hub).
  const noBase = await build(context('nobase', { Dockerfile: 'FROM 127.0.0.1:1/e2e-no-such-base:1\n' }));
  assert.notEqual(noBase.code, 0);
  assert.match(noBase.stderr, /127\.0\.0\.1:1/);

  const badInstr = await build(context('badinstr', { Dockerfile: 'FROM busybox\nFROBNICATE x\n' }));
  assert.notEqual(badInstr.code, 0);
  assert.match(badInstr.stderr, /unknown instruction: FROBNICATE/i);

  const mem = await build(context('mem', { Dockerfile: 'FROM busybox\n' }), '--memory', '64m');
  assert.notEqual(mem.code, 0);
  assert.match(mem.stderr, /memory/);
});

test('ONBUILD triggers run in the child build; -q prints only the image ID', async () => {
  const parent = context('onbuild-parent', { Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /trigger.txt\n' });
  assert.equal((await build(parent, '-t', 'e2e-build-onbuild:parent')).code, 0);
  const child = context('onbuild-child', { Dockerfile: 'FROM e2e-build-onbuild:parent\nCMD ["cat", "/trigger.txt"]\n' });
  const q = await build(child, '-q', '-t', 'e2e-build-onbuild:child');
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
  assert.equal((await docker('run', '--rm', 'e2e-build-onbuild:child')).stdout, 'triggered\n');
  assert.equal((await inspect('e2e-build-onbuild:child')).Config.OnBuild, null);
});

test('berth build: -t, -f outside the context, --build-arg, --target, --label, --no-cache, -q; .dockerignore honoured', async () => {
  const dir = context('berth', {
    'app.txt': 'app\n', 'notes.md': 'excluded\n', '.dockerignore': '*.md\n',
  });
  const dockerfile = path.join(d.root, 'ctx', 'berth.Dockerfile');
  fs.writeFileSync(dockerfile, [
    'FROM busybox AS base',
    'ARG FLAVOUR=plain',
    'COPY . /in/',
    'RUN echo "$FLAVOUR" > /flavour',
    'FROM base AS extra',
    'RUN exit 5',
    '',
  ].join('\n'));
  const r = await d.berth(['build', '-f', dockerfile, '-t', 'e2e-berth-build', '-t', 'e2e-berth-build:two',
    '--build-arg', 'FLAVOUR=spicy', '--target', 'base', '--label', 'made.by=berth', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^Step 1\/5 : FROM busybox AS base$/m);
  assert.match(r.stdout, /Successfully tagged e2e-berth-build:latest\nSuccessfully tagged e2e-berth-build:two\n/);
  const out = await docker('run', '--rm', 'e2e-berth-build:two', 'sh', '-c', 'cat /flavour; ls -A /in | sort | tr "\\n" " "');
  assert.equal(out.stdout, 'spicy\n.dockerignore app.txt ');
  assert.equal((await inspect('e2e-berth-build')).Config.Labels['made.by'], 'berth');

  const again = await d.berth(['build', '-f', dockerfile, '--target', 'base', '--build-arg', 'FLAVOUR=spicy', '--label', 'made.by=berth', dir]);
  assert.equal(cacheHits(again.stdout), 4, again.stdout);
  const q = await d.berth(['build', '-q', '--no-cache', '-f', dockerfile, '--target', 'base', dir]);
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[a-f0-9]{64}\n$/);

  const fail = await d.berth(['build', '-f', dockerfile, dir]);
  assert.equal(fail.code, 5);
  assert.match(fail.stderr, /The command '\/bin\/sh -c exit 5' returned a non-zero code: 5/);
});

test('ADD of a URL downloads it (0600, checksum verified); FROM scratch with COPY', async () => {
  const http = await import('node:http');
  let body = 'served v1\n';
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const url = `http://127.0.0.1:${port}/files/served.txt`;
    const dir = context('addurl', { Dockerfile: `FROM busybox\nADD ${url} /dl/\nCMD ["sh", "-c", "stat -c '%a %Y' /dl/served.txt; cat /dl/served.txt"]\n` });
    const r = await build(dir, '-t', 'e2e-build-url:1');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await docker('run', '--rm', 'e2e-build-url:1')).stdout, '600 1445412480\nserved v1\n');
    // Fetched again each build: a changed body misses the cache.
    body = 'served v2\n';
    const again = await build(dir, '-t', 'e2e-build-url:2');
    assert.equal(cacheHits(again.stdout), 0, again.stdout);
    assert.match((await docker('run', '--rm', 'e2e-build-url:2')).stdout, /served v2/);
    const bad = await build(context('addsum', { Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${url} /x\n` }));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /digest mismatch/);
  } finally {
    server.close();
  }

  const scratch = context('scratch', { Dockerfile: 'FROM scratch\nCOPY only.txt /\nCMD ["/nothing"]\n', 'only.txt': 'alone\n' });
  const s = await build(scratch, '-t', 'e2e-build-scratch:1');
  assert.equal(s.code, 0, s.stderr + s.stdout);
  const img = await inspect('e2e-build-scratch:1');
  assert.equal(img.RootFS.Layers.length, 1);
  const saved = await runCmd('sh', ['-c', `docker save e2e-build-scratch:1 | tar -t | grep -c layer.tar`], d.env);
  assert.equal(saved.stdout.trim(), '1');
});

test('stages that do not depend on each other build at the same time; their lines stay in order', async () => {
  // Stage "listener" can only finish when stage "talker" connects to it over the (host)
  // network: built one after the other, the listener's nc would wait out its timeout and fail.
  const net = await import('node:net');
  // A free port below the kernel's ephemeral range: the ports other test files' daemons publish
  // (kernel-picked) can not take it between this check and the build.
  const port = await new Promise<number>((resolve, reject) => {
    const tryPort = (left: number) => {
      const p = 20000 + Math.floor(Math.random() * 10000);
      const s = net.createServer().once('error', () => (left > 0 ? tryPort(left - 1) : reject(new Error('no free port'))))
        .listen(p, '127.0.0.1', () => s.close(() => resolve(p)));
    };
    tryPort(50);
  });
  const dir = context('parallel', {
    Dockerfile: [
      'FROM busybox AS listener',
      // nc's stdin is a fifo this shell holds open: busybox nc -l ends at its stdin's EOF, and
      // with RUN's /dev/null it could end before the talker's line arrived (2 in 40 by hand)
      `RUN mkfifo /dev/shm/in && exec 3<>/dev/shm/in && timeout 60 nc -l -p ${port} <&3 > /got && test -s /got`,
      'FROM busybox AS talker',
      `RUN for i in $(seq 1 200); do echo hello-from-talker | nc 127.0.0.1 ${port} && exit 0; sleep 0.2; done; exit 1`,
      'FROM busybox',
      'COPY --from=listener /got /got',
      'COPY --from=talker /bin/busybox /talker-busybox',
      'CMD ["cat", "/got"]',
      '',
    ].join('\n'),
  });
  // The two stages meet on the host's loopback: their RUN steps share the host network.
  const r = await build(dir, '--network', 'host', '-t', 'e2e-build-parallel:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await docker('run', '--rm', 'e2e-build-parallel:1')).stdout, 'hello-from-talker\n');
  const steps = [...r.stdout.matchAll(/^Step (\d+)\/8 : /gm)].map((m) => Number(m[1]));
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('SHELL, exec-form RUN, HEALTHCHECK, STOPSIGNAL, VOLUME, MAINTAINER, ARG in history, SOURCE_DATE_EPOCH', async () => {
  const dir = context('meta', {
    Dockerfile: [
      'FROM busybox',
      'MAINTAINER Berth Tester <t@example.com>',
      'ARG LEVEL=3',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN echo "level $LEVEL via $0" > /shell.txt',
      'RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]',
      'HEALTHCHECK --interval=5s --retries=2 CMD test -f /shell.txt',
      'STOPSIGNAL SIGUSR1',
      'VOLUME ["/data"]',
      'COPY stamp.txt /stamp.txt',
      '',
    ].join('\n'),
    'stamp.txt': 'stamp\n',
  });
  const r = await build(dir, '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-t', 'e2e-build-meta:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await docker('run', '--rm', 'e2e-build-meta:1', 'sh', '-c', 'cat /shell.txt /exec.txt; stat -c %Y /stamp.txt');
  assert.equal(out.stdout, 'level 3 via /bin/sh\nexec-form\n1700000000\n');
  const img = await inspect('e2e-build-meta:1');
  assert.equal(img.Author, 'Berth Tester <t@example.com>');
  assert.equal(img.Created, '2023-11-14T22:13:20Z');
  assert.deepEqual(img.Config.Shell, ['/bin/sh', '-ec']);
  assert.equal(img.Config.StopSignal, 'SIGUSR1');
  assert.deepEqual(img.Config.Volumes, { '/data': {} });
  assert.deepEqual(img.Config.Healthcheck, { Test: ['CMD-SHELL', 'test -f /shell.txt'], Interval: 5e9, Retries: 2 });
  const hist = (await docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'e2e-build-meta:1')).stdout.trim().split('\n');
  assert.ok(hist.includes('|1 LEVEL=3 /bin/sh -ec echo "level $LEVEL via $0" > /shell.txt'), hist.join('\n'));
  assert.ok(hist.includes('|1 LEVEL=3 /bin/sh -c echo exec-form > /exec.txt'), hist.join('\n'));
  assert.ok(hist.includes('/bin/sh -ec #(nop)  STOPSIGNAL SIGUSR1'), hist.join('\n'));
});

test('FROM an image that is not local pulls it from its registry; --pull pulls again', async () => {
  const reg = await startRegistry();
  try {
    await reg.seedImage('base', 'v1', makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), makeLayer(tarOf({ 'etc/motd': 'base v1\n' }), 'gzip')] }));
    const dir = context('pulled-base', { Dockerfile: `FROM ${reg.host}/base:v1\nRUN cat /etc/motd > /copied\nCMD ["cat", "/copied"]\n` });
    const r = await build(dir, '-t', 'e2e-build-pulled:1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pulling from base/);
    assert.equal((await docker('run', '--rm', 'e2e-build-pulled:1')).stdout, 'base v1\n');
    // The registry's tag moves: --pull sees the new image, a plain build keeps the local one.
    await reg.seedImage('base', 'v1', makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), makeLayer(tarOf({ 'etc/motd': 'base v2\n' }), 'gzip')] }));
    assert.equal((await build(dir, '-t', 'e2e-build-pulled:2')).code, 0);
    assert.equal((await docker('run', '--rm', 'e2e-build-pulled:2')).stdout, 'base v1\n');
    const p = await build(dir, '--pull', '-t', 'e2e-build-pulled:3');
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await docker('run', '--rm', 'e2e-build-pulled:3')).stdout, 'base v2\n');
  } finally {
    await reg.stop();
  }
});

test('${VAR:-default} and ${VAR:+alt}, COPY globs and --chmod, --add-host, --shm-size, --platform, several -t', async () => {
  const dir = context('subst', {
    Dockerfile: [
      'FROM --platform=linux/amd64 busybox',
      'ARG SET=yes',
      'ARG UNSET',
      'ENV A=${UNSET:-fallback} B=${SET:+alternative} C=${UNSET:+never}',
      'COPY --chmod=0751 *.sh /bin-x/',
      'COPY dir/*.txt /texts/',
      'RUN grep build-peer /etc/hosts > /peer; df -k /dev/shm | tail -n 1 | awk \'{print $2}\' > /shm',
      '',
    ].join('\n'),
    'a.sh': 'echo a\n', 'b.sh': 'echo b\n', 'c.md': 'not copied\n',
    'dir/one.txt': '1\n', 'dir/two.txt': '2\n', 'dir/three.log': 'no\n',
  });
  const r = await build(dir, '-t', 'e2e-build-subst:1', '-t', 'e2e-build-subst:2', '--add-host', 'build-peer:10.9.8.7',
    '--shm-size', '8m', '--platform', 'linux/amd64');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Successfully tagged e2e-build-subst:1\nSuccessfully tagged e2e-build-subst:2\n/);
  const img = await inspect('e2e-build-subst:2');
  assert.ok(img.Config.Env.includes('A=fallback') && img.Config.Env.includes('B=alternative') && img.Config.Env.includes('C='), img.Config.Env.join(' '));
  const out = await docker('run', '--rm', 'e2e-build-subst:1', 'sh', '-c',
    'stat -c "%a %n" /bin-x/*; ls /texts; tr -s " \\t" " " < /peer; cat /shm');
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, '751 /bin-x/a.sh\n751 /bin-x/b.sh\none.txt\ntwo.txt\n10.9.8.7 build-peer\n8192\n');
  const arm = await build(dir, '--platform', 'linux/arm64');
  assert.notEqual(arm.code, 0);
  assert.match(arm.stderr, /berth builds for linux\/amd64 only/);
});

test('intermediate containers: removed after each step by default, kept with --rm=false; a failed step\'s kept unless --force-rm', async () => {
  const all = async () => new Set((await docker('ps', '-aq', '--no-trunc')).stdout.trim().split('\n').filter(Boolean));
  const ok = context('rm-ok', { Dockerfile: 'FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n' });
  const before = await all();
  const kept = await build(ok, '--rm=false', '--no-cache');
  assert.equal(kept.code, 0, kept.stderr);
  assert.doesNotMatch(kept.stdout, /Removing intermediate container/);
  const made = [...await all()].filter((id) => !before.has(id));
  assert.equal(made.length, 2, 'one container per RUN, kept');
  for (const id of made) await docker('rm', id);
  const removed = await build(ok, '--no-cache');
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((removed.stdout.match(/Removing intermediate container/g) ?? []).length, 2);
  assert.deepEqual([...await all()].filter((id) => !before.has(id)), []);

  const bad = context('rm-bad', { Dockerfile: 'FROM busybox\nRUN exit 4\n' });
  assert.equal((await build(bad)).code, 4);
  const left = [...await all()].filter((id) => !before.has(id));
  assert.equal(left.length, 1, 'the failed step\'s container is kept, as dockerd');
  await docker('rm', left[0]);
  assert.equal((await build(bad, '--force-rm')).code, 4);
  assert.deepEqual([...await all()].filter((id) => !before.has(id)), [], '--force-rm removes it');
});

test('a 512 MiB context streams through: berthd\'s memory stays bounded', async () => {
  const dir = context('big', { Dockerfile: 'FROM busybox\nCOPY big.bin /big.bin\nRUN wc -c < /big.bin > /size\n' });
  // sparse on this side; the CLI reads 512 MiB of zeros into the tar it streams (1 GiB took
  // 76 s here under load, the same path: a context is never held, only extracted as it comes)
  fs.writeFileSync(path.join(dir, 'big.bin'), '');
  fs.truncateSync(path.join(dir, 'big.bin'), 512 << 20);
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${d.proc!.pid}/status`, 'utf8'))![1]) * 1024;
  const before = hwm();
  const r = await runCmd('docker', ['build', '-t', 'e2e-build-big:1', dir], { ...d.env, DOCKER_BUILDKIT: '0' }, { timeout: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await docker('run', '--rm', 'e2e-build-big:1', 'cat', '/size')).stdout.trim(), String(512 << 20));
  const grew = hwm() - before;
  assert.ok(grew < 150 << 20, `berthd's peak RSS grew by ${grew >> 20} MB for a 512 MB context`);
  fs.rmSync(path.join(dir, 'big.bin'));
  await docker('rmi', 'e2e-build-big:1');
});
