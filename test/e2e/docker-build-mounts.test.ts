// RUN --mount through the real docker CLI's classic builder (DOCKER_BUILDKIT=0, which sends the
// Dockerfile as written): a cache mount whose contents outlive the build (a --no-cache rebuild
// sees them) and are not in the image; bind mounts of the context and of another stage,
// read-only unless `rw` (and then the writes are not kept); tmpfs; secret and ssh refused.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildContext, classicBuild } from '../helpers/build';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const docker = (...args: string[]) => d.docker(args);
const build = (dir: string, ...args: string[]) => classicBuild(d, dir, ...args);

const context = (name: string, files: Record<string, string>) => buildContext(d, name, files);

const run = async (image: string, script: string) => {
  const r = await docker('run', '--rm', image, 'sh', '-c', script);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

test('a cache mount keeps its contents between builds, keyed by id, and they are not in the image', async () => {
  const dir = context('cache', {
    Dockerfile: [
      'FROM busybox',
      // The target does not exist in busybox: its mount point must not be left in the layer.
      'RUN --mount=type=cache,target=/var/cache/e2e-tool,uid=1234,gid=1234,mode=0700 \\',
      '    echo run >> /var/cache/e2e-tool/runs && wc -l < /var/cache/e2e-tool/runs > /runs-seen && stat -c "%u %g %a" /var/cache/e2e-tool > /cache-owner',
      'RUN --mount=type=cache,id=e2e-shared,target=/a,sharing=locked echo from-a > /a/note',
      'RUN --mount=type=cache,id=e2e-shared,target=/b,sharing=shared cat /b/note > /note-seen',
      '',
    ].join('\n'),
  });
  const first = await build(dir, '-t', 'e2e-mounts-cache:1');
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.equal(await run('e2e-mounts-cache:1', 'cat /runs-seen /cache-owner /note-seen'), '1\n1234 1234 700\nfrom-a\n');
  // Neither the cache's files nor the mount points the runtime made are in the image.
  assert.equal(await run('e2e-mounts-cache:1', 'ls -d /var/cache/e2e-tool /a /b 2>&1 | grep -c "No such file"'), '3\n');
  const second = await build(dir, '--no-cache', '-t', 'e2e-mounts-cache:2');
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.equal(await run('e2e-mounts-cache:2', 'cat /runs-seen'), '2\n');
  // A cached rebuild: the cache mount's contents are not part of the key.
  const third = await build(dir, '-t', 'e2e-mounts-cache:3');
  assert.equal(third.code, 0, third.stderr + third.stdout);
  assert.equal((third.stdout.match(/ ---> Using cache/g) ?? []).length, 3);
  // Kept under the data root, by id.
  const ids = fs.readdirSync(path.join(d.dataRoot, 'builder', 'mounts')).map((h) => fs.readFileSync(path.join(d.dataRoot, 'builder', 'mounts', h, 'id'), 'utf8'));
  assert.ok(ids.includes('/var/cache/e2e-tool') && ids.includes('e2e-shared'), ids.join(','));
  const layers = async (ref: string) => JSON.parse((await docker('image', 'inspect', ref)).stdout)[0].RootFS.Layers as string[];
  // The image's layers are the same whatever the cache held: the RUN wrote the same files.
  assert.deepEqual((await layers('e2e-mounts-cache:1')).slice(0, -3), (await layers('e2e-mounts-cache:2')).slice(0, -3));
  await docker('rmi', 'e2e-mounts-cache:1', 'e2e-mounts-cache:2', 'e2e-mounts-cache:3');
});

test('bind mounts of the context and of another stage are read-only unless rw, and nothing of them stays', async () => {
  const dir = context('bind', {
    Dockerfile: [
      'FROM busybox AS tools',
      'RUN mkdir -p /opt/tools && echo "tool v1" > /opt/tools/version',
      'FROM busybox',
      'WORKDIR /work',
      'RUN --mount=type=bind,source=src,target=/mnt/src cat /mnt/src/input.txt > /from-context && \\',
      '    (touch /mnt/src/new 2>/dev/null && echo writable || echo read-only) > /context-mode',
      'RUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/tools cat /mnt/tools/version > /from-stage && \\',
      '    (touch /mnt/tools/x 2>/dev/null && echo writable || echo read-only) > /stage-mode',
      'RUN --mount=type=bind,target=ctx,rw echo scribble > ctx/src/input.txt && cat ctx/src/input.txt > /rw-seen',
      'RUN --mount=type=bind,source=src,target=/mnt/again cat /mnt/again/input.txt > /after-rw',
      'RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && grep -q " /scratch tmpfs" /proc/mounts && echo tmpfs > /tmpfs-seen',
      '',
    ].join('\n'),
    'src/input.txt': 'context input\n',
  });
  const r = await build(dir, '-t', 'e2e-mounts-bind:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(await run('e2e-mounts-bind:1', 'cat /from-context /context-mode /from-stage /stage-mode /rw-seen /after-rw /tmpfs-seen'),
    'context input\nread-only\ntool v1\nread-only\nscribble\ncontext input\ntmpfs\n');
  // The mount points and what was mounted are not in the layers.
  assert.equal(await run('e2e-mounts-bind:1', 'ls -d /mnt/src /mnt/tools /mnt/again /scratch /work/ctx 2>&1 | grep -c "No such file"; ls -A /work'), '5\n');
  assert.equal(fs.readFileSync(path.join(dir, 'src', 'input.txt'), 'utf8'), 'context input\n');

  // A changed file under a bound source reruns the step; other steps stay cached.
  fs.writeFileSync(path.join(dir, 'src', 'input.txt'), 'changed input\n');
  const again = await build(dir, '-t', 'e2e-mounts-bind:2');
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.equal(await run('e2e-mounts-bind:2', 'cat /from-context'), 'changed input\n');
  assert.match(again.stdout, /Step 4\/9 : WORKDIR \/work\n ---> Using cache/);
  assert.match(again.stdout, /Step 5\/9 : RUN --mount=type=bind,source=src[^\n]*\n ---> Running in/);
  await docker('rmi', 'e2e-mounts-bind:1', 'e2e-mounts-bind:2');
});

test('secret and ssh mounts, and malformed ones, are refused with a clear error', async () => {
  const cases: [string, RegExp][] = [
    ['RUN --mount=type=secret,id=token cat /run/secrets/token', /type=secret is not supported by berth's builder/],
    ['RUN --mount=type=ssh ssh-add -l', /type=ssh is not supported by berth's builder/],
    ['RUN --mount=type=volume,target=/x true', /unsupported mount type "volume"/],
    ['RUN --mount=type=cache true', /target is required/],
    ['RUN --mount=type=cache,target=/x,sharing=sometimes true', /unsupported sharing value "sometimes"/],
    ['RUN --mount=type=bind,source=../etc,target=/x true', /outside the build context/],
  ];
  for (const [line, re] of cases) {
    const r = await build(context('refused', { Dockerfile: `FROM busybox\n${line}\n` }));
    assert.notEqual(r.code, 0, line);
    assert.match(r.stderr, re, line);
  }
});

test('COPY --link is a plain COPY', async () => {
  const dir = context('link', { Dockerfile: 'FROM busybox\nCOPY --link a.txt /linked/a.txt\n', 'a.txt': 'linked\n' });
  const r = await build(dir, '-t', 'e2e-mounts-link:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(await run('e2e-mounts-link:1', 'cat /linked/a.txt'), 'linked\n');
  await docker('rmi', 'e2e-mounts-link:1');
});
