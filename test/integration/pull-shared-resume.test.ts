// Downloads shared between concurrent pulls (each blob fetched once, counted by a proxy in front
// of the registry), and a berthd killed with -9 mid-download: after the restart the stores are
// consistent and the next pull resumes the blob with an HTTP Range request.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { busyboxTar, makeImage, makeLayer, startProxy, startRegistry, tarOf, type RegistryProxy, type TestRegistry } from '../helpers/registry';

const until = async (what: string, ok: () => boolean, ms = 60_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('pull: shared downloads and resume after kill -9', () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let proxy: RegistryProxy;
  before(async () => {
    [d, reg] = await Promise.all([startDaemon(), startRegistry()]);
    proxy = await startProxy(reg.url);
  });
  after(async () => { await Promise.all([d?.stop(), reg?.stop(), proxy?.stop()]); });

  const pull = (ref: string) => d.docker(['pull', ref], { timeout: 180_000 });

  it('two concurrent pulls of images sharing layers fetch each shared blob once', async () => {
    const base = makeLayer(tarOf({ 'big.bin': randomBytes(2 << 20) }), 'gzip');
    const mid = makeLayer(busyboxTar(), 'gzip');
    const a = makeImage({ layers: [base, mid, makeLayer(tarOf({ 'a': 'a' }))] });
    const b = makeImage({ layers: [base, mid, makeLayer(tarOf({ 'b': 'b' }))] });
    await reg.seedImage('shared-a', 'v1', a);
    await reg.seedImage('shared-b', 'v1', b);
    // slow enough that the two pulls overlap (the 2 MB layer takes 2 s)
    proxy.bytesPerSecond = 1 << 20;
    const [ra, rb] = await Promise.all([pull(`${proxy.host}/shared-a:v1`), pull(`${proxy.host}/shared-b:v1`)]);
    proxy.bytesPerSecond = 0;
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    for (const l of [base, mid]) {
      // both pulls found the layer missing (they overlapped), and still one GET
      for (const out of [ra.stdout, rb.stdout]) assert.doesNotMatch(out, new RegExp(`${l.digest.slice(7, 19)}: Already exists`));
      const gets = proxy.blobGets(l.digest).filter((q) => q.status === 200 || q.status === 206);
      assert.equal(gets.length, 1, `${l.digest}: ${JSON.stringify(gets)}`);
    }
    const run = await d.docker(['run', '--rm', `${proxy.host}/shared-b:v1`, 'cat', '/b']);
    assert.equal(run.stdout, 'b', run.stderr);
  });

  it('kill -9 mid-download: consistent stores after restart, and the pull resumes with Range', async () => {
    const big = makeLayer(tarOf({ 'random.bin': randomBytes(6 << 20) }), 'none');
    const im = makeImage({ layers: [makeLayer(busyboxTar(), 'gzip'), big], cmd: ['ls', '-l', '/random.bin'] });
    await reg.seedImage('resume', 'v1', im);
    proxy.bytesPerSecond = 1 << 20;
    const first = d.request('POST', `/v1.44/images/create?${new URLSearchParams({ fromImage: `${proxy.host}/resume`, tag: 'v1' })}`).catch((e: Error) => e);
    await until('part of the big blob', () => proxy.blobGets(big.digest).some((q) => q.bytes > 1 << 20));
    await d.kill9();
    await first;
    proxy.bytesPerSecond = 0;
    const ingest = path.join(d.dataRoot, 'content/ingest');
    const held = fs.readdirSync(ingest);
    assert.equal(held.length, 1, 'the partial download is kept as a named ingest');
    const kept = fs.statSync(path.join(ingest, held[0], 'data')).size;
    assert.ok(kept > 0 && kept < big.size, `kept ${kept}`);
    await d.start();
    // nothing half-made is visible
    const ls = await d.docker(['images', '-q', `${proxy.host}/resume`]);
    assert.equal(ls.stdout.trim(), '');
    assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'layers/tmp')).length, 0);
    const r = await pull(`${proxy.host}/resume:v1`);
    assert.equal(r.code, 0, r.stderr);
    const gets = proxy.blobGets(big.digest);
    const last = gets.at(-1)!;
    assert.match(String(last.range), /^bytes=\d+-$/, JSON.stringify(gets));
    const from = Number(/^bytes=(\d+)-$/.exec(last.range!)![1]);
    // from exactly the bytes the killed daemon had written
    assert.equal(from, kept);
    assert.equal(last.status, 206);
    assert.equal(last.bytes, big.size - from);
    assert.deepEqual(fs.readdirSync(ingest), []);
    const run = await d.docker(['run', '--rm', `${proxy.host}/resume:v1`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${6 << 20} .*random.bin`));
  });

  it('a connection dropped mid-blob is resumed with Range within the same pull', async () => {
    const big = makeLayer(tarOf({ 'drop.bin': randomBytes(3 << 20) }), 'none');
    const im = makeImage({ layers: [big] });
    await reg.seedImage('dropped', 'v1', im);
    proxy.dropBlob = { digest: big.digest, bytes: 1 << 20 };
    proxy.bytesPerSecond = 8 << 20;
    const r = await pull(`${proxy.host}/dropped:v1`);
    proxy.bytesPerSecond = 0;
    assert.equal(r.code, 0, r.stderr);
    const gets = proxy.blobGets(big.digest);
    assert.equal(gets.length, 2, JSON.stringify(gets));
    assert.equal(gets[0].range, undefined);
    assert.match(String(gets[1].range), /^bytes=\d+-$/);
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1].range!)![1]);
    assert.ok(from > 0 && from <= gets[0].bytes, JSON.stringify(gets));
    assert.equal(gets[1].status, 206);
    assert.equal(gets[1].bytes, big.size - from);
  });

  it('killed after a layer was made (crash point): no image, and the next pull reuses that layer', async () => {
    const first = makeLayer(tarOf({ 'first.txt': 'made before the crash\n' }));
    const im = makeImage({ layers: [first, makeLayer(tarOf({ 'second.txt': 'after\n' }))] });
    await reg.seedImage('crashed', 'v1', im);
    await d.stopDaemon();
    process.env.BERTH_CRASH_AT = 'image.pull.after-layer';
    try {
      await d.start();
    } finally {
      delete process.env.BERTH_CRASH_AT;
    }
    const r1 = await d.request('POST', `/v1.44/images/create?${new URLSearchParams({ fromImage: `${reg.host}/crashed`, tag: 'v1' })}`).catch((e: Error) => e);
    assert.ok(r1 instanceof Error || !r1.body.toString().includes('Status: Downloaded'));
    await until('berthd to die at the crash point', () => d.exited);
    await d.start();
    assert.equal((await d.docker(['images', '-q', `${reg.host}/crashed`])).stdout.trim(), '');
    const r = await pull(`${reg.host}/crashed:v1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${first.digest.slice(7, 19)}: Already exists`));
    const insp = await d.docker(['image', 'inspect', '-f', '{{.Id}} {{len .RootFS.Layers}}', `${reg.host}/crashed:v1`]);
    assert.equal(insp.stdout.trim(), `${im.configDigest} 2`);
  });
});
