// A private dockerd (Debian's docker.io, 20.10) for side-by-side figures: its own data root,
// exec root, socket and pid file under one temp dir, no bridge and no iptables rules, so it
// touches nothing of the host's or of other daemons. Only when /usr/sbin/dockerd is installed.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inNetns } from '../test/helpers/daemon';

const DOCKERD = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => fs.existsSync(p));

export interface PeerDockerd {
  root: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export function dockerdInstalled(): boolean {
  return !!DOCKERD;
}

/**
 * `netns` (made by `ip netns add`): dockerd runs in that network namespace with its default
 * bridge and its iptables rules, which then stay there, out of the host's and berth's way.
 */
export async function startDockerd(opts: { netns?: string } = {}): Promise<PeerDockerd> {
  if (!DOCKERD) throw new Error('dockerd is not installed');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dockerd-'));
  const sock = path.join(root, 'docker.sock');
  const networking = opts.netns ? [] : ['--bridge', 'none', '--iptables=false', '--ip6tables=false'];
  const argv = [DOCKERD, '--data-root', path.join(root, 'd'), '--exec-root', path.join(root, 'e'),
    '-H', `unix://${sock}`, '--pidfile', path.join(root, 'pid'), ...networking, '--storage-driver', 'overlay2'];
  if (opts.netns) argv.unshift(...inNetns(opts.netns, path.join(root, 'cgroup-keep')));
  const proc: ChildProcess = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(root, 'cfg') };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env, stdio: 'ignore' });
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error('dockerd did not come up');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    root, env,
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(root));
      for (const m of mounts.sort().reverse()) { try { execFileSync('umount', ['-l', m]); } catch { /* gone */ } }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
