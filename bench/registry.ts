// berth registry beside distribution's docker-registry 2.8 (Debian's), in the same run: manifest
// GETs per second and blob GET throughput with 50 concurrent connections (wrk), and each
// server's RSS after the load. Prints JSON; `node dist/bench/registry.js` runs it alone.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startRegistry } from '../test/helpers/registryserver';
import { printBench } from './alone';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_REGISTRY_SECONDS ?? 10);
const BLOB_MB = Number(process.env.BENCH_REGISTRY_BLOB_MB ?? 93);
const CONNECTIONS = 50;
const ROUNDS = Number(process.env.BENCH_REGISTRY_ROUNDS ?? 2);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number((Number(m[1]) / 1024).toFixed(1)) : 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

async function waitUp(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try { if ((await fetch(`${url}/v2/`)).status === 200) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** docker-registry (distribution 2.8) on a private root and port, plain HTTP, no auth. */
async function startDistribution(dir: string): Promise<{ url: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, [
    'version: 0.1', 'log: {level: error, accesslog: {disabled: true}}',
    'storage:', '  cache: {blobdescriptor: inmemory}', `  filesystem: {rootdirectory: ${path.join(dir, 'data')}}`, '  delete: {enabled: true}',
    'http:', `  addr: 127.0.0.1:${port}`, '',
  ].join('\n'));
  const proc = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url);
  return {
    url, proc,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}

/** Pushes a config, a layer of `blob` and a manifest over them; POST then PUT, which both registries take. */
async function pushImage(url: string, repo: string, blob: Buffer): Promise<{ manifest: string; layer: string }> {
  const put = async (data: Buffer) => {
    const d = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location')!, url);
    loc.searchParams.set('digest', d);
    const r = await fetch(loc, { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    if (r.status !== 201) throw new Error(`${url}: blob PUT ${r.status} ${await r.text()}`);
    return { digest: d, size: data.length };
  };
  const cfg = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = await put(blob);
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] }));
  const r = await fetch(`${url}/v2/${repo}/manifests/latest`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
  if (r.status !== 201) throw new Error(`${url}: manifest PUT ${r.status} ${await r.text()}`);
  return { manifest: `sha256:${createHash('sha256').update(body).digest('hex')}`, layer: layer.digest };
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

async function wrk(url: string, headers: string[] = []): Promise<{ requests_per_s: number; mb_per_s: number; non_2xx: number }> {
  const { stdout } = await run('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--timeout', '30s', ...headers.flatMap((h) => ['-H', h]), url], { maxBuffer: 1 << 20 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const tr = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  return {
    requests_per_s: rps ? Number(Number(rps[1]).toFixed(0)) : 0,
    mb_per_s: tr ? Number(((Number(tr[1]) * (UNITS[tr[2]] ?? 1)) / 1024 ** 2).toFixed(0)) : 0,
    non_2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

const best = (xs: number[]) => Math.max(...xs);

export async function registryBench(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-registry-'));
  const berth = await startRegistry();
  let dist: Awaited<ReturnType<typeof startDistribution>> | undefined;
  try {
    dist = await startDistribution(dir);
    const blob = randomBytes(BLOB_MB * 1024 * 1024);
    const targets = { berth: berth.url, distribution: dist.url };
    const pids = { berth: berth.proc!.pid!, distribution: dist.proc.pid! };
    const pushed = { berth: await pushImage(berth.url, 'bench/image', blob), distribution: await pushImage(dist.url, 'bench/image', blob) };
    const rssIdle = { berth: rssMb(pids.berth), distribution: rssMb(pids.distribution) };
    const manifest: Record<string, number[]> = { berth: [], distribution: [] };
    const blobs: Record<string, number[]> = { berth: [], distribution: [] };
    const errors: Record<string, number> = { berth: 0, distribution: 0 };
    const rssRight: Record<string, number> = { berth: 0, distribution: 0 };
    // Rounds alternate between the two, so that drift on a shared machine falls on both alike.
    for (let i = 0; i < ROUNDS; i++) {
      for (const k of ['berth', 'distribution'] as const) {
        const m = await wrk(`${targets[k]}/v2/bench/image/manifests/latest`, [`Accept: ${OCI_MANIFEST}`]);
        manifest[k].push(m.requests_per_s);
        const b = await wrk(`${targets[k]}/v2/bench/image/blobs/${pushed[k].layer}`);
        blobs[k].push(b.mb_per_s);
        errors[k] += m.non_2xx + b.non_2xx;
        // right after its own load too: V8's memory reducer frees node's idle garbage seconds later
        rssRight[k] = rssMb(pids[k]);
      }
    }
    const rssAfter = { berth: rssMb(pids.berth), distribution: rssMb(pids.distribution) };
    return {
      tool: `wrk -t2 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} alternating rounds, best of each`,
      blob_mb: BLOB_MB,
      manifest_get_per_s: { berth: best(manifest.berth), distribution: best(manifest.distribution), rounds: manifest },
      blob_get_mb_per_s: { berth: best(blobs.berth), distribution: best(blobs.distribution), rounds: blobs },
      rss_mb_idle_after_push: rssIdle,
      rss_mb_after_load: rssAfter,
      rss_mb_right_after_own_load: rssRight,
      non_2xx_responses: errors,
      ratio_manifest_berth_over_distribution: Number((best(manifest.berth) / Math.max(1, best(manifest.distribution))).toFixed(2)),
      ratio_rss_berth_over_distribution: Number((rssAfter.berth / Math.max(1, rssAfter.distribution)).toFixed(2)),
      ratio_rss_right_after_load: Number((rssRight.berth / Math.max(1, rssRight.distribution)).toFixed(2)),
      goal: { manifest_ratio_at_least: 2, rss_ratio_at_most: 0.25 },
    };
  } finally {
    await berth.stop();
    await dist?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) printBench(registryBench());
