// The berth CLI and the docker CLI as registry clients of one berthd, sharing the Docker config
// file: login/logout (auths with base64 credentials, a credential helper program), X-Registry-Auth
// on push and pull, berth pull's output, run of a missing image, push then pull back into a
// fresh daemon and run it, and a pulled image pushed unchanged to another repository (mounted,
// with the same manifest digest).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { httpRequest, makeImage, makeLayer, startProxy, startRegistry, tarOf, type RegistryProxy, type TestRegistry } from '../helpers/registry';

describe('registry clients: berth and docker CLI', () => {
  let d: TestDaemon;
  let fresh: TestDaemon;
  let plain: TestRegistry;
  let proxy: RegistryProxy;
  let basic: TestRegistry;
  let token: TestRegistry;
  before(async () => {
    [d, fresh, plain, basic, token] = await Promise.all([
      startDaemon(), startDaemon(), startRegistry(),
      startRegistry({ auth: 'htpasswd', users: { alice: 'pw-alice' } }),
      startRegistry({ auth: 'token', users: { bob: 'pw-bob' } }),
    ]);
    await d.ensureBusybox();
    proxy = await startProxy(plain.url);
  });
  after(async () => { await proxy?.stop(); await Promise.all([d?.stop(), fresh?.stop(), plain?.stop(), basic?.stop(), token?.stop()]); });
  const cfgFile = () => path.join(d.env.DOCKER_CONFIG!, 'config.json');
  const readCfg = () => JSON.parse(fs.readFileSync(cfgFile(), 'utf8'));

  it('docker login writes the config, berth push uses it, berth logout removes it', async () => {
    await d.docker(['tag', 'busybox', `${basic.host}/team/bb:1`]);
    const denied = await d.berth(['push', `${basic.host}/team/bb:1`]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized|authentication required/i);
    const login = await d.docker(['login', '-u', 'alice', '--password-stdin', basic.host], { input: 'pw-alice\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(readCfg().auths[basic.host].auth, Buffer.from('alice:pw-alice').toString('base64'));
    const p = await d.berth(['push', `${basic.host}/team/bb:1`]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    const out = await d.berth(['logout', basic.host]);
    assert.equal(out.stdout, `Removing login credentials for ${basic.host}\n`);
    assert.equal(readCfg().auths[basic.host], undefined);
    assert.equal((await d.berth(['logout', basic.host])).stdout, `Not logged in to ${basic.host}\n`);
    assert.equal((await d.docker(['push', `${basic.host}/team/bb:1`])).code, 1, 'logged out: refused again');
  });

  it('berth login (token server) stores what docker reads; wrong password and flag misuse refused', async () => {
    const bad = await d.berth(['login', '-u', 'bob', '--password-stdin', token.host], { input: 'nope\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: .*unauthorized/m);
    assert.equal((await d.berth(['login', '--password-stdin', token.host], { input: 'x' })).stderr, 'Must provide --username with --password-stdin\n');
    assert.equal((await d.berth(['login', '-u', 'bob', token.host])).stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
    const ok = await d.berth(['login', '-u', 'bob', '-p', 'pw-bob', token.host]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    assert.match(ok.stderr, /WARNING! Using --password via the CLI is insecure/);
    assert.match(ok.stderr, new RegExp(`WARNING! Your credentials are stored unencrypted in '${cfgFile().replace(/[/.]/g, '\\$&')}'`));
    assert.equal(readCfg().auths[token.host].auth, Buffer.from('bob:pw-bob').toString('base64'));
    await d.docker(['tag', 'busybox', `${token.host}/bob/bb:1`]);
    const p = await d.docker(['push', `${token.host}/bob/bb:1`]);
    assert.equal(p.code, 0, p.stderr);
    assert.ok(token.token!.requests.some((t) => t.account === 'bob' && t.scope.some((s) => s === 'repository:bob/bb:pull,push')));
    // berth login again without credentials: the stored ones are checked
    const again = await d.berth(['login', token.host]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Authenticating with existing credentials\.\.\. \[Username: bob\]\n\nLogin Succeeded/);
    await d.berth(['logout', token.host]);
  });

  it('credHelpers: berth login hands the secret to docker-credential-<name>; docker push finds it there', async () => {
    const bin = path.join(d.root, 'credbin');
    const db = path.join(d.root, 'creddb');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(db, { recursive: true });
    fs.writeFileSync(path.join(bin, 'docker-credential-berthtest'), `#!/bin/sh
key() { printf '%s' "$1" | tr '/:' '__'; }
case "$1" in
store) in=$(cat); url=$(printf '%s' "$in" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/'); printf '%s' "$in" > "${db}/$(key "$url")";;
get) url=$(cat); f="${db}/$(key "$url")"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi;;
erase) url=$(cat); rm -f "${db}/$(key "$url")";;
list) echo '{}';;
esac
`, { mode: 0o755 });
    fs.writeFileSync(cfgFile(), JSON.stringify({ credHelpers: { [basic.host]: 'berthtest' } }));
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const run = (cmd: 'docker' | 'berth', args: string[], input?: string) => {
      const saved = process.env.PATH;
      process.env.PATH = env.PATH;
      try {
        return cmd === 'docker' ? d.docker(args, { input }) : d.berth(args, { input });
      } finally {
        process.env.PATH = saved;
      }
    };
    const login = await run('berth', ['login', '-u', 'alice', '--password-stdin', basic.host], 'pw-alice\n');
    assert.equal(login.code, 0, login.stderr);
    assert.doesNotMatch(login.stderr, /unencrypted/);
    assert.ok(!fs.readFileSync(cfgFile(), 'utf8').includes(Buffer.from('alice:pw-alice').toString('base64')), 'no secret in the file');
    assert.equal(fs.readdirSync(db).length, 1);
    await d.docker(['tag', 'busybox', `${basic.host}/team/helper:1`]);
    const p = await run('docker', ['push', `${basic.host}/team/helper:1`]);
    assert.equal(p.code, 0, p.stderr);
    const b = await run('berth', ['push', `${basic.host}/team/helper:1`]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Layer already exists/);
    fs.rmSync(cfgFile());
  });

  it('push, then pull back into a fresh daemon with berth pull, and run it; run of a missing image pulls it', async () => {
    const name = `${proxy.host}/round/trip`;
    await d.docker(['tag', 'busybox', `${name}:1`]);
    const p = await d.berth(['push', `${name}:1`]);
    assert.equal(p.code, 0, p.stderr);
    const digest = /1: digest: (sha256:[a-f0-9]{64})/.exec(p.stdout)![1];
    const pulled = await fresh.berth(['pull', `${name}:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^1: Pulling from round\/trip$/m);
    assert.match(pulled.stdout, /^\w{12}: Pull complete$/m);
    assert.match(pulled.stdout, new RegExp(`^Digest: ${digest}$`, 'm'));
    assert.match(pulled.stdout, new RegExp(`^Status: Downloaded newer image for ${name}:1\\n${name}:1\\n$`, 'm'));
    const same = JSON.parse((await d.docker(['image', 'inspect', `${name}:1`])).stdout)[0].Id;
    assert.equal(JSON.parse((await fresh.docker(['image', 'inspect', `${name}:1`])).stdout)[0].Id, same, 'the same image ID after the round trip');
    const r = await fresh.docker(['run', '--rm', `${name}:1`, 'echo', 'round trip']);
    assert.equal(r.stdout, 'round trip\n', r.stderr);
    // run of an image that is not here: berth says so, pulls, runs
    await d.docker(['tag', 'busybox', `${name}:2`]);
    assert.equal((await d.docker(['push', `${name}:2`])).code, 0);
    const run = await fresh.berth(['run', '--rm', `${name}:2`, 'echo', 'pulled and ran']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'pulled and ran\n');
    assert.match(run.stderr, new RegExp(`^Unable to find image '${name}:2' locally\\n2: Pulling from round/trip\\n`));
    const q = await fresh.berth(['pull', '-q', `${name}:1`]);
    assert.equal(q.stdout, `${name}:1\n`);
    const dflt = await fresh.berth(['pull', `${name}`]);
    assert.equal(dflt.code, 1, 'no :latest there');
    assert.match(dflt.stdout, /^Using default tag: latest$/m);
    assert.match(dflt.stderr, /manifest unknown|not found/);
    // sent as docker sends it (no tag); berthd refuses what it does not do
    const all = await fresh.berth(['pull', '-a', name]);
    assert.equal(all.code, 1);
    assert.equal(all.stderr, 'Error response from daemon: berth does not support pulling all tags of a repository (docker pull --all-tags) yet\n');
  });

  it('a pulled image pushed unchanged to another repository: mounted, the same manifest digest', async () => {
    const im = makeImage({ layers: [makeLayer(tarOf({ 'a.txt': 'a\n' })), makeLayer(tarOf({ 'b.txt': 'b\n' }))], format: 'oci' });
    const seeded = await plain.seedImage('orig/img', 'v1', im);
    assert.equal((await fresh.docker(['pull', `${proxy.host}/orig/img:v1`])).code, 0);
    await fresh.docker(['tag', `${proxy.host}/orig/img:v1`, `${proxy.host}/copy/img:v1`]);
    const n0 = proxy.requests.length;
    const p = await fresh.docker(['push', `${proxy.host}/copy/img:v1`]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal((p.stdout.match(/Mounted from orig\/img/g) ?? []).length, 2, p.stdout);
    assert.match(p.stdout, new RegExp(`v1: digest: ${seeded} size: ${im.manifest.length}`), 'the original manifest bytes');
    assert.equal(proxy.requests.slice(n0).filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/'))).length, 0);
    const m = await httpRequest('GET', `${plain.url}/v2/copy/img/manifests/v1`, undefined, { Accept: im.manifestMediaType });
    assert.equal(m.headers['docker-content-digest'], seeded);
    const dg = await fresh.docker(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}']);
    assert.match(dg.stdout, new RegExp(`^${proxy.host}/copy/img ${seeded}$`, 'm'));
  });

  it('on a terminal berth pull draws one line per layer, redrawn in place', async () => {
    const im = makeImage({ layers: [makeLayer(tarOf({ 'x.bin': Buffer.alloc(300_000, 7) }), 'none'), makeLayer(tarOf({ 'y.bin': Buffer.alloc(200_000, 9) }), 'none')] });
    await plain.seedImage('tty/img', 'v1', im);
    // script(1) gives the CLI a pseudo-terminal as stdout
    const tty = (cmd: string) => runScript(cmd, fresh.env);
    const out = await tty(`${BERTH_BIN} pull ${plain.host}/tty/img:v1`);
    for (const l of im.layers) assert.ok(out.includes(`\x1b[2K\r${l.digest.slice(7, 19)}: Pull complete \r`), JSON.stringify(out));
    assert.match(out, /\x1b\[[12]A/, 'the cursor moves up to a layer\'s line');
    assert.match(out, /Downloading \[[=>\s]+\]|Extracting \[[=>\s]+\]|Downloading +\d/, 'a bar drawn from progressDetail');
    assert.match(out, new RegExp(`Status: Downloaded newer image for ${plain.host}/tty/img:v1`));
  });
});

const BERTH_BIN = path.resolve(__dirname, '../../../bin/berth');

function runScript(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], { env: { ...env, COLUMNS: '150', LINES: '40' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => { out += b; });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
    p.stdin.end();
  });
}

