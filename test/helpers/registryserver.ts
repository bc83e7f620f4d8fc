// Starts `bin/berth registry serve` on a private root and a port the kernel picks, for one
// test file; stop() ends the process (by its pid) and removes the root.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { BERTH, REPO } from './daemon';

export const run = promisify(execFile);

export class TestRegistry {
  proc?: ChildProcess;
  stderr = '';
  url = '';
  /** host:port, for image references and skopeo. */
  hostPort = '';

  constructor(readonly root: string, readonly extraArgs: string[] = [], readonly ownsRoot = true) {}

  get storage(): string { return path.join(this.root, 'storage'); }

  async start(port = 0): Promise<void> {
    this.stderr = '';
    const proc = spawn(BERTH, ['registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', this.storage, ...this.extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`berth registry did not come up: ${this.stderr}`)), 20_000);
      proc.stderr!.on('data', (b: Buffer) => {
        this.stderr += b.toString();
        const m = /listening on (https?):\/\/([^ ]+)/.exec(this.stderr);
        if (m && !this.url) {
          clearTimeout(timer);
          this.url = `${m[1]}://${m[2]}`;
          this.hostPort = m[2];
          resolve();
        }
      });
      proc.once('exit', (code) => { clearTimeout(timer); if (!this.url) reject(new Error(`berth registry exited ${code}: ${this.stderr}`)); });
    });
  }

  get port(): number { return Number(this.hostPort.split(':').pop()); }

  /** Ends the server with `signal` (SIGKILL: a crash) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    this.url = '';
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill(signal); });
  }

  /** Same root and port, a new process. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const port = this.port;
    await this.kill(signal);
    await this.start(port);
  }

  async stop(): Promise<void> {
    await this.kill();
    if (this.ownsRoot) fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export async function startRegistry(extraArgs: string[] = []): Promise<TestRegistry> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
  const r = new TestRegistry(root, extraArgs);
  try {
    await r.start();
  } catch (e) {
    await r.stop();
    throw e;
  }
  return r;
}

/**
 * An OCI image layout of busybox (scripts/busybox-rootfs.sh's tar, gzipped, as its one layer), tagged
 * `latest`, for skopeo's `oci:` transport. Returns the layout's directory and its digests.
 */
export async function busyboxLayout(dir: string): Promise<{ dir: string; manifest: string; layer: string; config: string }> {
  const { createHash } = await import('node:crypto');
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const tar = path.join(dir, 'rootfs.tar');
  await run('sh', [path.join(REPO, 'scripts/busybox-rootfs.sh'), tar]);
  const put = (data: Buffer): { digest: string; size: number } => {
    const hex = createHash('sha256').update(data).digest('hex');
    fs.writeFileSync(path.join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  // gzipped, as registries hold layers: skopeo would compress a plain tar on its way in
  const raw = fs.readFileSync(tar);
  const diffId = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const { gzipSync } = await import('node:zlib');
  const layer = put(gzipSync(raw));
  fs.rmSync(tar);
  const config = put(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created_by: 'busybox-rootfs.sh' }],
  })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  })));
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }));
  return { dir, manifest: manifest.digest, layer: layer.digest, config: config.digest };
}
