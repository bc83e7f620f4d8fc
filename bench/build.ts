// Build figures: a 10-step Dockerfile built cold (--no-cache), fully cached, and with the last
// COPY's file changed, through `DOCKER_BUILDKIT=0 docker build` against berthd; when Debian's
// dockerd is installed, the same three against a private dockerd in the same run, as ratios.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestDaemon } from '../test/helpers/daemon';

const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 5);

const DOCKERFILE = [
  'FROM busybox',
  'ENV A=1',
  'COPY a.txt /a.txt',
  'RUN echo one > /one',
  'WORKDIR /work',
  'COPY b.txt /work/b.txt',
  'RUN cat /work/b.txt > /work/b.copy',
  'LABEL bench=build',
  'ENV B=2',
  'COPY last.txt /last.txt',
  '',
].join('\n');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(1));
}

function timedBuild(env: NodeJS.ProcessEnv, dir: string, extra: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', ['build', '-q', ...extra, dir], { env: { ...env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`docker build failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** The three figures for one daemon (its docker CLI environment). */
function measure(env: NodeJS.ProcessEnv, work: string): Record<string, number> {
  const dir = fs.mkdtempSync(path.join(work, 'ctx-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'b\n'.repeat(1000));
  fs.writeFileSync(path.join(dir, 'last.txt'), 'last 0\n');
  timedBuild(env, dir, []); // warm-up: the base and the CLI's caches
  const cold: number[] = []; const cached: number[] = []; const lastCopy: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    cold.push(timedBuild(env, dir, ['--no-cache']));
    cached.push(timedBuild(env, dir, []));
    fs.writeFileSync(path.join(dir, 'last.txt'), `last ${i + 1}\n`);
    lastCopy.push(timedBuild(env, dir, []));
  }
  return { cold_p50_ms: median(cold), cached_p50_ms: median(cached), last_copy_changed_p50_ms: median(lastCopy), runs: RUNS };
}

/** A private dockerd (no bridge, no iptables) on its own roots, with busybox imported; undefined if it cannot start. */
async function startDockerd(busyboxTar: string): Promise<{ env: NodeJS.ProcessEnv; stop: () => Promise<void> } | undefined> {
  const bin = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => fs.existsSync(p));
  if (!bin || process.env.BENCH_NO_DOCKERD === '1') return undefined;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dockerd-'));
  const sock = path.join(root, 'docker.sock');
  const proc = spawn(bin, ['--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'), '-H', `unix://${sock}`,
    '--pidfile', path.join(root, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip6tables=false', '--storage-driver=overlay2'],
  { stdio: 'ignore' });
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(root, 'cfg') };
  const stop = async (): Promise<void> => {
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000).unref())]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    spawnSync('umount', ['-R', path.join(root, 'data')], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    if (spawnSync('docker', ['version'], { env, stdio: 'ignore' }).status === 0) {
      const imp = spawnSync('docker', ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest'], { env, stdio: 'ignore' });
      if (imp.status !== 0) { await stop(); return undefined; }
      return { env, stop };
    }
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  return undefined;
}

export async function benchBuild(d: TestDaemon): Promise<Record<string, unknown>> {
  const work = fs.mkdtempSync(path.join(d.root, 'bench-build-'));
  try {
    const berth = measure(d.env, work);
    const out: Record<string, unknown> = { dockerfile_steps: 10, berth };
    const dockerd = await startDockerd(path.join(d.root, 'busybox.tar'));
    if (dockerd) {
      try {
        const theirs = measure(dockerd.env, work);
        out.dockerd = theirs;
        out.ratio_berth_over_dockerd = {
          cold: Number((berth.cold_p50_ms / theirs.cold_p50_ms).toFixed(2)),
          cached: Number((berth.cached_p50_ms / theirs.cached_p50_ms).toFixed(2)),
          last_copy_changed: Number((berth.last_copy_changed_p50_ms / theirs.last_copy_changed_p50_ms).toFixed(2)),
        };
      } finally {
        await dockerd.stop();
      }
    } else {
      out.dockerd = 'not measured (no dockerd, or it did not start)';
    }
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
