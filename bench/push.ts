// Push time to a loopback registry (Debian's docker-registry): a multi-layer image of about
// 100 MB compressed (busybox plus three 30 MB layers of random bytes, which gzip cannot shrink),
// loaded from one archive into berthd and, where it is installed, into dockerd 20.10; each
// pushes it to its own repository of the same registry. Figures: the cold push (every blob
// compressed and uploaded), the same push again (nothing to upload), and a push to a second
// repository (the blobs mounted). Never asserts. `node dist/bench/push.js` alone.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon';
import { startRegistry } from '../test/helpers/registry';
import { packTar, saveArchive } from '../test/helpers/archive';
import { dockerdInstalled, startDockerd } from './dockerd';
import { benchAlone } from './alone';

const RUNS = Number(process.env.BENCH_PUSH_RUNS ?? 1);

function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  // a bound on each command: dockerd 20.10 was seen stalling on a push under load; the bench
  // reports that instead of hanging (and still removes what it made)
  const r = spawnSync('docker', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.error ? r.error.message : r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs: number[]) => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1));

interface PushPeer {
  name: string;
  /** A fresh state for one round (no layer compressed yet); returns its CLI environment. */
  fresh(): Promise<NodeJS.ProcessEnv>;
  done(): Promise<void>;
}

/**
 * Cold, again and mounted push times, medians of BENCH_PUSH_RUNS rounds (default 1). Each round
 * is cold for real: a fresh registry, and a daemon that has just loaded the image (berthd: a new
 * one; dockerd: the image removed and loaded again), so every layer is compressed and uploaded.
 */
async function pushRounds(peer: PushPeer, archive: string): Promise<Record<string, number>> {
  const cold: number[] = [];
  const again: number[] = [];
  const mount: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const env = await peer.fresh();
    const reg = await startRegistry();
    try {
      timed(['load', '-i', archive], env);
      const a = `${reg.host}/${peer.name}-a${i}:1`;
      const b = `${reg.host}/${peer.name}-b${i}:1`;
      timed(['tag', 'bench-push:1', a], env);
      timed(['tag', 'bench-push:1', b], env);
      cold.push(timed(['push', a], env));
      again.push(timed(['push', a], env));
      mount.push(timed(['push', b], env));
      for (const t of [a, b, 'bench-push:1']) spawnSync('docker', ['rmi', t], { env, stdio: 'ignore' });
    } finally {
      await reg.stop();
    }
  }
  await peer.done();
  return { cold_push_ms: median(cold), second_push_ms: median(again), cross_repo_mount_push_ms: median(mount), runs: RUNS };
}

export async function pushBench(d: TestDaemon): Promise<Record<string, unknown>> {
  const archive = path.join(d.root, 'bench-push.tar');
  try {
    const base = fs.readFileSync(path.join(d.root, 'busybox.tar'));
    const layers: Buffer[] = [base];
    for (let i = 0; i < 3; i++) layers.push(await packTar([{ name: `data${i}.bin`, data: randomBytes(30 << 20) }]));
    const { tar } = await saveArchive([{ tag: 'bench-push:1', layers, created: '2026-01-01T00:00:00Z', history: layers.map((_, i) => ({ created_by: `layer ${i}` })) }]);
    fs.writeFileSync(archive, tar);
    const compressedMb = Number((tar.length / 1e6).toFixed(1));
    let berthd: TestDaemon | undefined;
    const berth = await pushRounds({
      name: 'berth',
      fresh: async () => { await berthd?.stop(); berthd = await startDaemon(); return berthd.env; },
      done: async () => { await berthd?.stop(); },
    }, archive);
    const out: Record<string, unknown> = { image_mb: compressedMb, layers: layers.length, berth };
    if (dockerdInstalled()) {
      const peer = await startDockerd();
      try {
        const dockerd = await pushRounds({ name: 'dockerd', fresh: async () => peer.env, done: async () => undefined }, archive);
        out.dockerd = dockerd;
        out.ratio_cold_dockerd_over_berth = Number((dockerd.cold_push_ms / berth.cold_push_ms).toFixed(2));
        out.ratio_second_dockerd_over_berth = Number((dockerd.second_push_ms / berth.second_push_ms).toFixed(2));
      } catch (e) {
        out.dockerd = `failed: ${(e as Error).message.slice(0, 300)}`;
      } finally {
        await peer.stop();
      }
    } else {
      out.dockerd = 'not installed';
    }
    out.budget_ratio = 2.5;
    return out;
  } finally {
    fs.rmSync(archive, { force: true });
  }
}

if (require.main === module) benchAlone(pushBench);
