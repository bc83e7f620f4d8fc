// Pull time of a multi-layer image of about 100 MB compressed (debian minbase + nginx layers from
// test/helpers/images.ts, plus a layer of random data) from a loopback docker-registry, cold
// (nothing present) and with the base layers present (a second image sharing them); through
// berthd, and through Debian's dockerd in the same run when it is installed (the ratio).
// Prints JSON; run alone with `node dist/bench/pull.js` or as part of bench/run.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { debianLayers } from '../test/helpers/images';
import { makeImage, makeLayer, startRegistry, tarOf, type BuiltImage, type TestRegistry } from '../test/helpers/registry';
import { printBench } from './alone';

const RUNS = Number(process.env.BENCH_PULL_RUNS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(0));
}

function timed(env: NodeJS.ProcessEnv, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function quiet(env: NodeJS.ProcessEnv, args: string[]): void {
  spawnSync('docker', args, { env, stdio: 'ignore' });
}

interface Client { name: string; env: NodeJS.ProcessEnv }

/** cold: nothing of the image present; warm: the image's base layers present (another image on them). */
function measure(c: Client, reg: TestRegistry): { cold_ms: number[]; with_base_layers_ms: number[] } {
  const full = `${reg.host}/bench/app:v1`;
  const sibling = `${reg.host}/bench/app2:v1`;
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    quiet(c.env, ['rmi', '-f', full, sibling]);
    quiet(c.env, ['image', 'prune', '-af']);
    cold.push(timed(c.env, ['pull', '-q', full]));
    warm.push(timed(c.env, ['pull', '-q', sibling]));
  }
  quiet(c.env, ['rmi', '-f', full, sibling]);
  return { cold_ms: cold, with_base_layers_ms: warm };
}

async function startDockerd(root: string): Promise<{ proc: ChildProcess; env: NodeJS.ProcessEnv } | undefined> {
  if (!fs.existsSync('/usr/sbin/dockerd')) return undefined;
  const sock = path.join(root, 'docker.sock');
  const proc = spawn('/usr/sbin/dockerd', ['--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'),
    '--pidfile', path.join(root, 'dockerd.pid'), '-H', `unix://${sock}`, '--bridge=none', '--iptables=false', '--ip-masq=false',
    '--storage-driver=overlay2', '--config-file', path.join(root, 'daemon.json')], { stdio: 'ignore' });
  fs.writeFileSync(path.join(root, 'daemon.json'), '{}');
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(root, 'cfg') };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (spawnSync('docker', ['version'], { env, stdio: 'ignore' }).status === 0) return { proc, env };
    await new Promise((r) => setTimeout(r, 200));
  }
  proc.kill('SIGKILL');
  return undefined;
}

async function stopDockerd(d: { proc: ChildProcess }, root: string): Promise<void> {
  const gone = new Promise((r) => d.proc.once('exit', r));
  d.proc.kill('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
  for (const m of fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m?.startsWith(root)).reverse()) {
    spawnSync('umount', ['-l', m]);
  }
  fs.rmSync(root, { recursive: true, force: true });
}

export async function benchPull(): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const { base, nginx } = await debianLayers();
  const lBase = makeLayer(fs.readFileSync(base.path), 'gzip');
  const lNginx = makeLayer(fs.readFileSync(nginx.path), 'gzip');
  // random bytes: gzip keeps their size, so the image reaches ~100 MB compressed
  const lRandom = makeLayer(tarOf({ 'opt/data.bin': randomBytes(40 << 20) }), 'gzip');
  const app: BuiltImage = makeImage({ layers: [lBase, lNginx, lRandom, makeLayer(tarOf({ 'app.txt': 'app 1\n' }))] });
  const app2: BuiltImage = makeImage({ layers: [lBase, lNginx, lRandom, makeLayer(tarOf({ 'app.txt': 'app 2\n' }))] });
  const reg = await startRegistry();
  let d: TestDaemon | undefined;
  const dockerRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dockerd-'));
  let dockerd: { proc: ChildProcess; env: NodeJS.ProcessEnv } | undefined;
  try {
    await reg.seedImage('bench/app', 'v1', app);
    await reg.seedImage('bench/app2', 'v1', app2);
    const prepared_s = (Date.now() - t0) / 1000;
    d = await startDaemon();
    const berth = measure({ name: 'berth', env: d.env }, reg);
    dockerd = await startDockerd(dockerRoot);
    const docker = dockerd ? measure({ name: 'dockerd', env: dockerd.env }, reg) : undefined;
    const compressed = app.layers.reduce((n, l) => n + l.size, 0);
    const out: Record<string, unknown> = {
      image: { layers: app.layers.length, compressed_mb: Number((compressed / 1e6).toFixed(1)), uncompressed_mb: Number(((base.size + nginx.size + (40 << 20)) / 1e6).toFixed(1)) },
      runs: RUNS,
      prepare_s: Number(prepared_s.toFixed(1)),
      berth: { cold_p50_ms: median(berth.cold_ms), with_base_layers_p50_ms: median(berth.with_base_layers_ms), ...berth,
        cold_mb_per_s: Number((compressed / 1e6 / (median(berth.cold_ms) / 1000)).toFixed(1)) },
    };
    if (docker) {
      out.dockerd = { cold_p50_ms: median(docker.cold_ms), with_base_layers_p50_ms: median(docker.with_base_layers_ms), ...docker };
      out.ratio_dockerd_over_berth = {
        cold: Number((median(docker.cold_ms) / median(berth.cold_ms)).toFixed(2)),
        with_base_layers: Number((median(docker.with_base_layers_ms) / median(berth.with_base_layers_ms)).toFixed(2)),
      };
    } else out.dockerd = 'not installed or did not start';
    out.goal = 'berth at least 2.5x as fast as dockerd (ratio_dockerd_over_berth >= 2.5)';
    return out;
  } finally {
    await d?.stop();
    if (dockerd) await stopDockerd(dockerd, dockerRoot); else fs.rmSync(dockerRoot, { recursive: true, force: true });
    await reg.stop();
  }
}

if (require.main === module) printBench(benchPull().then((r) => ({ pull: r })));
