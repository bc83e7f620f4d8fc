// dockerd (Debian's docker.io, where installed) pushing to and pulling from berth registry,
// plain and through the token flow with `docker login`: a second real client beside skopeo.
// dockerd runs on private roots and socket, with no bridge and no iptables rules, and no
// container is started: nothing host-global is touched; stop() removes it all.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO } from '../helpers/daemon';
import { run, startRegistry, type TestRegistry } from '../helpers/registryserver';

const DOCKERD = '/usr/sbin/dockerd';
const skip = fs.existsSync(DOCKERD) ? false : 'Debian\'s docker.io (dockerd) is not installed';

let work: string;
let dockerd: ChildProcess | undefined;
const servers: TestRegistry[] = [];

function env(): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: `unix://${path.join(work, 'd.sock')}`, DOCKER_CONFIG: path.join(work, 'cfg') };
}

async function docker(args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('docker', args, { env: env() });
    let out = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { out += b; });
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
    p.stdin.end(input ?? '');
  });
}

describe('dockerd through berth registry', { skip }, () => {
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-dockerd-'));
    dockerd = spawn(DOCKERD, ['--data-root', path.join(work, 'data'), '--exec-root', path.join(work, 'exec'),
      '-H', `unix://${path.join(work, 'd.sock')}`, '--pidfile', path.join(work, 'd.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false', '--storage-driver=vfs'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && (await docker(['version'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    await run('sh', [path.join(REPO, 'scripts/busybox-rootfs.sh'), path.join(work, 'busybox.tar')]);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    const p = dockerd;
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
    }
    if (work) {
      // dockerd's own leftovers under its roots (none expected without containers)
      for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
        const mp = line.split(' ')[1];
        if (mp && mp.startsWith(work)) await run('umount', ['-l', mp]).catch(() => undefined);
      }
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('pushes and pulls back an image', async () => {
    const reg = await startRegistry();
    servers.push(reg);
    const ref = `${reg.hostPort}/tools/busybox:1`;
    assert.equal((await docker(['import', path.join(work, 'busybox.tar'), ref])).code, 0);
    const push = await docker(['push', ref]);
    assert.equal(push.code, 0, push.out);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.out)![1];
    assert.equal((await docker(['rmi', ref])).code, 0);
    const pull = await docker(['pull', ref]);
    assert.equal(pull.code, 0, pull.out);
    assert.match(pull.out, new RegExp(`Digest: ${digest}`));
    const m = await fetch(`${reg.url}/v2/tools/busybox/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(m.headers.get('content-type'), 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(m.headers.get('docker-content-digest'), digest);
    await docker(['rmi', ref]);
  });

  it('docker login through the token flow; denied without it', async () => {
    const hp = path.join(work, 'htpasswd');
    await run('htpasswd', ['-Bbc', hp, 'alice', 'pw']);
    fs.writeFileSync(path.join(work, 'access'), 'alice * pull,push\n');
    const reg = await startRegistry(['--htpasswd', hp, '--token-access', path.join(work, 'access')]);
    servers.push(reg);
    const ref = `${reg.hostPort}/team/busybox:1`;
    assert.equal((await docker(['import', path.join(work, 'busybox.tar'), ref])).code, 0);
    const denied = await docker(['push', ref]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.out, /denied|unauthorized|authentication required/i);
    const bad = await docker(['login', '-u', 'alice', '--password-stdin', reg.hostPort], 'wrong\n');
    assert.notEqual(bad.code, 0);
    const login = await docker(['login', '-u', 'alice', '--password-stdin', reg.hostPort], 'pw\n');
    assert.equal(login.code, 0, login.out);
    const push = await docker(['push', ref]);
    assert.equal(push.code, 0, push.out);
    assert.equal((await docker(['rmi', ref])).code, 0);
    assert.equal((await docker(['pull', ref])).code, 0);
    await docker(['logout', reg.hostPort]);
    await docker(['rmi', ref]);
    const anon = await docker(['pull', ref]);
    assert.notEqual(anon.code, 0, 'no pull without a login');
  });
});
