// The Debian test images (test/helpers/images.ts) load and run: debian's libc resolver and
// nginx, which the network and pull tests build on; the two images share their base layer.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { loadDebianImages } from '../helpers/images';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await loadDebianImages(d);
});
after(async () => { await d?.stop(); });

test('debian runs bash and resolves through its libc', async () => {
  const r = await d.docker(['run', '--rm', 'debian:bookworm', 'sh', '-c', 'cat /etc/debian_version; getent hosts localhost']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^12\.\d+/);
  assert.match(r.stdout, /127\.0\.0\.1|::1/);
});

test('nginx is on top of the debian layer, which is stored once', async () => {
  const r = await d.docker(['run', '--rm', 'nginx', 'nginx', '-t']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /test is successful/);
  const layers = async (ref: string) => (await d.request('GET', `/images/${ref}/json`)).json<{ RootFS: { Layers: string[] } }>().RootFS.Layers;
  const [deb, ngx] = [await layers('debian:bookworm'), await layers('nginx')];
  assert.equal(deb.length, 1);
  assert.deepEqual(ngx.slice(0, 1), deb);
  assert.equal(ngx.length, 2);
});
