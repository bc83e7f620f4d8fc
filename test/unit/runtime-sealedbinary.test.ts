// The sealed runtime copies (runtime/sealedBinary.ts): only crun and runc by absolute path, the
// same bytes, nothing can write into them, one copy per binary until the binary changes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { sealedBinaryPath } from '../../src/runtime/sealedBinary';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('other runtimes, relative paths and missing files are run as they are', () => {
  const other = path.join(dir, 'youki');
  fs.writeFileSync(other, 'x');
  assert.equal(sealedBinaryPath(other), other);
  assert.equal(sealedBinaryPath('crun'), 'crun');
  assert.equal(sealedBinaryPath(path.join(dir, 'nope', 'runc')), path.join(dir, 'nope', 'runc'));
  // crun-<handler> finds its handler in its own name: left alone
  const handler = path.join(dir, 'crun-wasm');
  fs.writeFileSync(handler, 'x');
  assert.equal(sealedBinaryPath(handler), handler);
});

test('a copy with the same bytes that cannot be written; a new one when the binary changes', () => {
  const bin = path.join(dir, 'runc');
  fs.writeFileSync(bin, 'first version', { mode: 0o755 });
  const p = sealedBinaryPath(bin);
  assert.match(p, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
  assert.equal(fs.readFileSync(p, 'utf8'), 'first version');
  assert.equal(sealedBinaryPath(bin), p, 'one copy while the binary stays');
  // F_SEAL_WRITE / GROW / SHRINK: no write, no truncate
  const fd = fs.openSync(p, 'r+');
  try {
    assert.throws(() => fs.writeSync(fd, 'changed'), { code: 'EPERM' });
    assert.throws(() => fs.ftruncateSync(fd, 0), { code: 'EPERM' });
  } finally {
    fs.closeSync(fd);
  }
  // an upgrade replaces the file (a new inode)
  fs.writeFileSync(bin + '.new', 'second version', { mode: 0o755 });
  fs.renameSync(bin + '.new', bin);
  const q = sealedBinaryPath(bin);
  assert.notEqual(q, p);
  assert.equal(fs.readFileSync(q, 'utf8'), 'second version');
  assert.equal(fs.readFileSync(p, 'utf8'), 'first version', 'the old copy stays for a conmon that may still run it');
});

test('the real crun runs from its copy', { skip: !fs.existsSync('/usr/bin/crun') }, async () => {
  const { execFileSync } = await import('node:child_process');
  const p = sealedBinaryPath('/usr/bin/crun');
  assert.notEqual(p, '/usr/bin/crun');
  assert.match(execFileSync(p, ['--version'], { encoding: 'utf8' }), /^crun version/);
});
