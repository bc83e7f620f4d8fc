// The Docker config file as the docker CLI writes and reads it: auths with base64 user:password,
// other keys kept, URL keys matched by host, and a real credential helper program on PATH
// (a shell script speaking docker-credential-helpers' get/store/erase protocol).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerConfig, encodeAuthHeader, INDEX_SERVER, registryKey } from '../../src/cli/dockerconfig';

function tmp(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'bcfg-')); }

test('auths: stored as docker stores them, other keys kept, read back', async () => {
  const dir = tmp();
  try {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ psFormat: '{{.ID}}', auths: { 'https://other.example/v1/': { auth: Buffer.from('o:p').toString('base64') } } }));
    const c = new DockerConfig(dir);
    assert.equal(await c.store('127.0.0.1:5050', { username: 'truser', password: 'secretpw', serveraddress: '127.0.0.1:5050' }), true);
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.equal(file.psFormat, '{{.ID}}');
    assert.deepEqual(file.auths['127.0.0.1:5050'], { auth: Buffer.from('truser:secretpw').toString('base64') });
    assert.equal(fs.statSync(path.join(dir, 'config.json')).mode & 0o777, 0o600);
    const again = new DockerConfig(dir);
    assert.deepEqual(again.get('127.0.0.1:5050'), { username: 'truser', password: 'secretpw', serveraddress: '127.0.0.1:5050' });
    assert.equal(again.get('other.example').username, 'o', 'a URL key matches its host');
    assert.deepEqual(again.get('127.0.0.1:5051'), {});
    // the header docker sends for these credentials (registry.md)
    assert.equal(encodeAuthHeader(again.get('127.0.0.1:5050')), 'eyJ1c2VybmFtZSI6InRydXNlciIsInBhc3N3b3JkIjoic2VjcmV0cHciLCJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAuMC4xOjUwNTAifQ==');
    assert.equal(encodeAuthHeader({}), 'e30=');
    assert.equal(await again.erase('127.0.0.1:5050'), true);
    assert.equal(await again.erase('127.0.0.1:5050'), false);
    assert.deepEqual(new DockerConfig(dir).get('127.0.0.1:5050'), {});
    assert.equal(registryKey('docker.io'), INDEX_SERVER);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('credHelpers / credsStore: the docker-credential-<name> program keeps the secret', async () => {
  const dir = tmp();
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const db = path.join(dir, 'helper-db');
  fs.mkdirSync(db);
  // A helper in the protocol's shape: store reads {ServerURL,Username,Secret}; get/erase read the URL.
  fs.writeFileSync(path.join(bin, 'docker-credential-berthtest'), `#!/bin/sh
set -e
DB=${db}
case "$1" in
store) in=$(cat); url=$(printf '%s' "$in" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/'); printf '%s' "$in" > "$DB/$(printf '%s' "$url" | tr '/:' '__')";;
get) url=$(cat); f="$DB/$(printf '%s' "$url" | tr '/:' '__')"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi;;
erase) url=$(cat); f="$DB/$(printf '%s' "$url" | tr '/:' '__')"; [ -f "$f" ] || { echo "credentials not found in native keychain"; exit 1; }; rm "$f";;
esac
`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  try {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { '127.0.0.1:5050': 'berthtest' } }));
    const c = new DockerConfig(dir, env);
    assert.equal(await c.store('127.0.0.1:5050', { username: 'u', password: 'pw' }), false, 'not stored in the file');
    const file = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    assert.ok(!file.includes('pw') && !file.includes(Buffer.from('u:pw').toString('base64')), file);
    assert.equal(fs.readdirSync(db).length, 1);
    assert.deepEqual(new DockerConfig(dir, env).get('127.0.0.1:5050'), { username: 'u', password: 'pw', serveraddress: '127.0.0.1:5050' });
    assert.deepEqual(new DockerConfig(dir, env).get('127.0.0.1:6000'), {}, 'no helper for this host, no auths entry');
    assert.equal(await new DockerConfig(dir, env).erase('127.0.0.1:5050'), true);
    assert.deepEqual(new DockerConfig(dir, env).get('127.0.0.1:5050'), {}, 'the helper says not found: no credentials');
    // a helper that is not installed is an error naming the program, as docker's
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'absent' }));
    assert.throws(() => new DockerConfig(dir, env).get('127.0.0.1:5050'), /docker-credential-absent.*not found/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
