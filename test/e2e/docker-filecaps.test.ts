// File capabilities (the binary security.capability xattr, not UTF-8) through the image store
// and the real docker CLI: a rootfs tarball with a binary given `setcap cap_net_raw,cap_setuid+ep`
// (libcap2-bin) is imported; the extracted layer has the capability (getcap); `docker save`
// writes it byte for byte (the raw SCHILY.xattr record; GNU tar --xattrs and getcap read it
// back); and a non-root process running that binary in a container holds the capability.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { getXattr } from '../../src/lib/sys/xattr';
import { useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });
const docker = (...args: string[]) => d.docker(args);
const CAP_SETUID = 7;
const CAP_NET_RAW = 13;

/** The security.capability bytes given to the binary, read back from the source tree. */
let capBytes: Buffer;

function importCapImage(): Promise<void> {
  return d.importBusyboxVariant('caps:1', (root) => {
    // a copy named after an applet, so that `/capbin/sh` runs busybox's sh with the capability
    fs.mkdirSync(path.join(root, 'capbin'));
    fs.copyFileSync(path.join(root, 'bin/busybox'), path.join(root, 'capbin/sh'));
    // cap_setuid makes the permitted mask's first byte 0x80: not valid UTF-8, so a string
    // round trip anywhere would corrupt it
    execFileSync('setcap', ['cap_net_raw,cap_setuid+ep', path.join(root, 'capbin/sh')]);
    capBytes = getXattr(path.join(root, 'capbin/sh'), 'security.capability');
  }, ['--xattrs', '--xattrs-include=security.capability']);
}

let imported: Promise<void> | undefined;
const ready = () => (imported ??= importCapImage());

test('import: the extracted layer keeps the capability byte for byte', async () => {
  await ready();
  assert.ok(capBytes.length >= 20 && !isUtf8(capBytes), 'the value is binary (the test means something)');
  const ins = JSON.parse((await docker('image', 'inspect', 'caps:1')).stdout)[0];
  const diff: string = ins.GraphDriver.Data.UpperDir;
  assert.ok(fs.existsSync(path.join(diff, 'capbin/sh')), diff);
  assert.deepEqual(getXattr(path.join(diff, 'capbin/sh'), 'security.capability'), capBytes);
  assert.match(execFileSync('getcap', [path.join(diff, 'capbin/sh')], { encoding: 'utf8' }), /cap_setuid,cap_net_raw[=+]ep/);
});

test('docker save: the layer in the archive has the raw capability record; GNU tar and getcap read it', async () => {
  await ready();
  const out = path.join(d.root, 'caps-save');
  fs.mkdirSync(out);
  try {
    const archive = path.join(out, 'save.tar');
    const s = await docker('save', '-o', archive, 'caps:1');
    assert.equal(s.code, 0, s.stderr);
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    const layerName: string = manifest[0].Layers[0];
    const layer = execFileSync('tar', ['-xOf', archive, layerName], { maxBuffer: 1 << 28 });
    // the PAX record as Go's archive/tar and GNU tar write it: raw bytes after the '='
    const record = Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), capBytes, Buffer.from('\n')]);
    assert.ok(layer.includes(record), 'raw record in the saved layer');
    const x = path.join(out, 'x');
    fs.mkdirSync(x);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', x, '-xf', '-', './capbin/sh'], { input: layer, maxBuffer: 1 << 28 });
    assert.deepEqual(getXattr(path.join(x, 'capbin/sh'), 'security.capability'), capBytes);
    assert.match(execFileSync('getcap', [path.join(x, 'capbin/sh')], { encoding: 'utf8' }), /cap_setuid,cap_net_raw[=+]ep/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('a non-root process running the binary in a container holds the capability', async () => {
  await ready();
  const effective = async (prog: string): Promise<bigint> => {
    const r = await docker('run', '--rm', '--user', '1000', 'caps:1', prog, '-c', 'grep CapEff /proc/self/status');
    assert.equal(r.code, 0, r.stderr);
    return BigInt('0x' + r.stdout.trim().split(/\s+/)[1]);
  };
  assert.equal(await effective('/capbin/sh'), (1n << BigInt(CAP_NET_RAW)) | (1n << BigInt(CAP_SETUID)));
  assert.equal(await effective('/bin/sh'), 0n, 'the plain binary has none');
});

function isUtf8(b: Buffer): boolean {
  try { new TextDecoder('utf-8', { fatal: true }).decode(b); return true; } catch { return false; }
}
