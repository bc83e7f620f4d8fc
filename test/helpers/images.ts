// Debian-based test images, built once per machine and cached (debootstrap takes ~30 s):
// `debian:bookworm` (one layer: a minbase root) and `nginx:latest` (that layer plus the files
// `apt-get install nginx-light` adds), in one `docker save` archive whose two images share the
// base layer. Tests load the archive; pull and bench tests can push the layer tars into a
// registry themselves (debianLayers()).
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO, type TestDaemon } from './daemon';

const exec = promisify(execFile);
export const IMAGE_CACHE = process.env.BERTH_TEST_IMAGE_CACHE || '/var/cache/berth-test';

export interface LayerTar { path: string; diffId: string; size: number }

async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(p)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** The uncompressed layer tars: base (debian minbase) and nginx (on top of base). */
export async function debianLayers(): Promise<{ base: LayerTar; nginx: LayerTar }> {
  await exec('sh', [path.join(REPO, 'scripts/debian-rootfs.sh'), IMAGE_CACHE], { maxBuffer: 1 << 24 });
  const layer = async (name: string): Promise<LayerTar> => {
    const p = path.join(IMAGE_CACHE, name);
    return { path: p, diffId: await sha256File(p), size: fs.statSync(p).size };
  };
  return { base: await layer('debian-base.tar'), nginx: await layer('nginx-diff.tar') };
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function imageConfig(layers: LayerTar[], cfg: Record<string, unknown>, created: string): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created,
    config: { Env: [PATH_ENV], ...cfg },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_l, i) => ({ created, created_by: i === 0 ? 'debootstrap --variant=minbase bookworm' : 'apt-get install nginx-light' })),
  }));
}

/**
 * The `docker save` archive with debian:bookworm and nginx:latest (shared base layer), built
 * once into the cache. Returns its path.
 */
export async function debianArchive(): Promise<string> {
  const out = path.join(IMAGE_CACHE, 'debian-images.tar');
  const { base, nginx } = await debianLayers();
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(nginx.path).mtimeMs) return out;
  const stage = fs.mkdtempSync(path.join(IMAGE_CACHE, 'archive-'));
  try {
    const created = '2026-01-01T00:00:00Z';
    const images = [
      { tag: 'debian:bookworm', layers: [base], cfg: { Cmd: ['bash'] } },
      { tag: 'nginx:latest', layers: [base, nginx], cfg: { Cmd: ['nginx', '-g', 'daemon off;'], ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT' } },
    ];
    const manifest = [];
    for (const l of [base, nginx]) {
      const dir = path.join(stage, l.diffId.slice(7));
      fs.mkdirSync(dir);
      // a symlink that tar follows (-h), not a hard link: a link made by another test file
      // building its own archive at the same moment changes the layer's ctime, and tar then
      // fails with "file changed as we read it" (a fresh machine, two such files at once)
      fs.symlinkSync(l.path, path.join(dir, 'layer.tar'));
    }
    for (const img of images) {
      const config = imageConfig(img.layers, img.cfg, created);
      const name = `${createHash('sha256').update(config).digest('hex')}.json`;
      fs.writeFileSync(path.join(stage, name), config);
      manifest.push({ Config: name, RepoTags: [img.tag], Layers: img.layers.map((l) => `${l.diffId.slice(7)}/layer.tar`) });
    }
    fs.writeFileSync(path.join(stage, 'manifest.json'), JSON.stringify(manifest));
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      await exec('tar', ['-C', stage, '-h', '-cf', tmp, '.']);
      fs.renameSync(tmp, out);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    return out;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** Loads debian:bookworm and nginx:latest into the daemon. */
export async function loadDebianImages(d: TestDaemon): Promise<void> {
  const archive = await debianArchive();
  const r = await d.docker(['load', '-i', archive], { timeout: 300_000 });
  if (r.code !== 0) throw new Error(`docker load of ${archive} failed: ${r.stderr}`);
}
