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
    // slow enough that the two pulls overlap
    proxy.bytesPerSecond = 4 << 20;
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
    assert.ok(from >= 1 << 20 && from < big.size, `resumed from ${from}`);
    assert.equal(last.status, 206);
    assert.equal(last.bytes, big.size - from);
    assert.deepEqual(fs.readdirSync(ingest), []);
    const run = await d.docker(['run', '--rm', `${proxy.host}/resume:v1`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${6 << 20} .*random.bin`));
  });
});
