// Load and extraction figures: `docker load` of the debian-images archive (debian:bookworm and
// nginx on it, test/helpers/images.ts) through berthd, cold (no layers) and again with the
// layers present; the same through a private dockerd in the same run when Debian's docker.io
// is installed (rounds alternate, so drift on a shared machine falls on both alike); and the
// layer store's import speed of gzip and zstd layers (the path pulls share). Prints JSON.
// `node dist/bench/load.js` alone, or as part of bench/run.ts (BENCH_LOAD=0 skips it).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debianArchive, debianLayers } from '../test/helpers/images';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { LocalContentStore } from '../src/store/content/ContentStore';
import { LocalLayerStore } from '../src/store/layers/LayerStore';
import { printBench } from './alone';

const ROUNDS = Number(process.env.BENCH_LOAD_RUNS ?? 3);
const DOCKER_SOCK = '/run/docker-bench.sock';
const TICK = 100; // USER_HZ

/** utime+stime (+ reaped children) of `pid` in ms, and the stime part (the kernel's share). */
function cpuOf(pid: number): { cpu: number; sys: number } {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const v = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number);
    return { cpu: ((v[11] + v[12] + v[13] + v[14]) * 1000) / TICK, sys: ((v[12] + v[14]) * 1000) / TICK };
  } catch { return { cpu: 0, sys: 0 }; }
}

function cpuOfAll(pids: number[]): { cpu: number; sys: number } {
  return pids.map(cpuOf).reduce((a, b) => ({ cpu: a.cpu + b.cpu, sys: a.sys + b.sys }), { cpu: 0, sys: 0 });
}

interface Peer { name: string; env: NodeJS.ProcessEnv; pids(): number[]; reset(): void }

interface Timed { wall_ms: number; cpu_ms: number; sys_ms: number }

function timedLoad(p: Peer, archive: string): Timed {
  const c0 = cpuOfAll(p.pids());
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', ['load', '-q', '-i', archive], { env: p.env, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${p.name}: docker load failed: ${r.stderr}`);
  const c1 = cpuOfAll(p.pids());
  return { wall_ms: Number(wall.toFixed(0)), cpu_ms: Number((c1.cpu - c0.cpu).toFixed(0)), sys_ms: Number((c1.sys - c0.sys).toFixed(0)) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function startDockerd(): Promise<{ peer: Peer; stop(): Promise<void> } | undefined> {
  if (spawnSync('sh', ['-c', 'command -v dockerd']).status !== 0) return undefined;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-dockerd-'));
  // No bridge, no iptables: nothing that touches the host's networking.
  const proc: ChildProcess = spawn('dockerd', ['--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'),
    '--pidfile', path.join(root, 'pid'), '-H', `unix://${DOCKER_SOCK}`, '--bridge=none', '--iptables=false', '--ip-masq=false',
    '--containerd-namespace', 'berth-bench', '--containerd-plugins-namespace', 'berth-bench-plugins'], { stdio: 'ignore' });
  const env = { ...process.env, DOCKER_HOST: `unix://${DOCKER_SOCK}` };
  for (let i = 0; i < 150; i++) {
    if (spawnSync('docker', ['version'], { env, stdio: 'ignore' }).status === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const pids = () => {
    const out = [proc.pid!];
    const r = spawnSync('pgrep', ['-P', String(proc.pid)], { encoding: 'utf8' });
    for (const l of r.stdout.split('\n')) if (l.trim()) out.push(Number(l));
    return out;
  };
  return {
    peer: { name: 'dockerd', env, pids, reset: () => { spawnSync('docker', ['rmi', 'debian:bookworm', 'nginx:latest'], { env, stdio: 'ignore' }); } },
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      spawnSync('sh', ['-c', `grep -o " ${root}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function berthPeer(d: TestDaemon): Peer {
  return {
    name: 'berthd', env: d.env, pids: () => [d.proc!.pid!],
    reset: () => { spawnSync('docker', ['rmi', 'debian:bookworm', 'nginx:latest'], { env: d.env, stdio: 'ignore' }); },
  };
}

/** createLayerFromBlob of the debian base layer, compressed with `kind`: MB/s of blob and of tar. */
async function importSpeed(kind: 'gzip' | 'zstd', baseTar: string): Promise<Record<string, number>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-import-'));
  try {
    const blob = path.join(root, `base.tar.${kind}`);
    if (kind === 'gzip') execFileSync('sh', ['-c', `gzip -6 -c '${baseTar}' > '${blob}'`]);
    else execFileSync('zstd', ['-q', '-3', '-o', blob, baseTar]);
    const content = new LocalContentStore(root);
    await content.init();
    const layers = new LocalLayerStore(root, content);
    await layers.init();
    const info = await content.writeStream(fs.createReadStream(blob));
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage(); // the extractor's thread is this process's
    const meta = await layers.createLayerFromBlob(info.digest, null);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return {
      ms: Number((s * 1000).toFixed(0)), cpu_ms: Number(((c.user + c.system) / 1000).toFixed(0)),
      tar_mb_per_cpu_s: Number((meta.tarSize / 1e6 / ((c.user + c.system) / 1e6)).toFixed(1)), blob_mb: Number((info.size / 1e6).toFixed(1)), tar_mb: Number((meta.tarSize / 1e6).toFixed(1)),
      blob_mb_per_s: Number((info.size / 1e6 / s).toFixed(1)), tar_mb_per_s: Number((meta.tarSize / 1e6 / s).toFixed(1)),
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export async function loadBench(): Promise<Record<string, unknown>> {
  const archive = await debianArchive();
  const { base } = await debianLayers();
  const d = await startDaemon();
  const dockerd = await startDockerd();
  const loadAtStart = os.loadavg().map((x) => Number(x.toFixed(1)));
  try {
    const peers = [berthPeer(d), ...(dockerd ? [dockerd.peer] : [])];
    const res: Record<string, { cold: Timed[]; warm: Timed[] }> = {};
    for (const p of peers) res[p.name] = { cold: [], warm: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const p of peers) {
        p.reset();
        res[p.name].cold.push(timedLoad(p, archive));
        res[p.name].warm.push(timedLoad(p, archive));
      }
    }
    const sum = (xs: Timed[]) => ({
      wall_ms_median: median(xs.map((x) => x.wall_ms)), cpu_ms_median: median(xs.map((x) => x.cpu_ms)), sys_ms_median: median(xs.map((x) => x.sys_ms)), runs: xs,
    });
    const out: Record<string, unknown> = {
      archive: { path: archive, mb: Number((fs.statSync(archive).size / 1e6).toFixed(1)) },
      load_avg_at_start: loadAtStart,
    };
    for (const [name, r] of Object.entries(res)) out[`docker_load_${name}`] = { cold: sum(r.cold), layers_present: sum(r.warm) };
    if (res.dockerd) {
      const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
      out.dockerd_over_berthd = {
        cold_wall: ratio(median(res.dockerd.cold.map((x) => x.wall_ms)), median(res.berthd.cold.map((x) => x.wall_ms))),
        cold_cpu: ratio(median(res.dockerd.cold.map((x) => x.cpu_ms)), median(res.berthd.cold.map((x) => x.cpu_ms))),
        layers_present_wall: ratio(median(res.dockerd.warm.map((x) => x.wall_ms)), median(res.berthd.warm.map((x) => x.wall_ms))),
        goal: 2.5,
      };
    } else {
      out.dockerd = 'not installed (apt-get install docker.io to compare)';
    }
    out.load_avg_at_end = os.loadavg().map((x) => Number(x.toFixed(1)));
    out.layer_import_from_blob = { gzip: await importSpeed('gzip', base.path), zstd: await importSpeed('zstd', base.path) };
    return out;
  } finally {
    await dockerd?.stop();
    await d.stop();
  }
}

if (require.main === module) printBench(loadBench());
