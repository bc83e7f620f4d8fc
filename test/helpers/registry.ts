// A real registry for pull/push tests: Debian's docker-registry (distribution 2.8) on a free
// loopback port with its own storage root, plain, with htpasswd basic auth, or with a token
// server (below, signed with node's crypto), plus what the tests need around it: seeding images
// with plain HTTP (no berth involved), a counting / throttling proxy, blob paths on disk.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
const REPO_ROOT = path.resolve(__dirname, '../../..');

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface RegistryOptions {
  auth?: RegistryAuth;
  /** user -> password (htpasswd and token modes). */
  users?: Record<string, string>;
  /** Token mode: repositories an anonymous client may pull ('*' for all). */
  anonymousPull?: string[];
  /** Accept signed schema1 manifests (distribution's compatibility.schema1). */
  schema1?: boolean;
  /** Serve HTTPS with a self-signed certificate for `address` (then `url` is https://). */
  tls?: boolean;
  /** The address to listen on (127.0.0.1); another of the machine's addresses shows what is not loopback. */
  address?: string;
}

export interface RequestRecord { method: string; path: string; range?: string; status?: number; bytes: number; authorization?: string }

export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** A token server for distribution's `auth: token:`: ES256 JWTs whose x5c is a self-signed cert listed in rootcertbundle. */
export class TokenServer {
  server?: http.Server;
  port = 0;
  readonly requests: { scope: string[]; account?: string; user?: string; status: number }[] = [];
  readonly service = 'berth-test-registry';
  readonly issuer = 'berth-test-issuer';
  private key!: crypto.KeyObject;
  private certDer!: Buffer;

  constructor(readonly dir: string, readonly users: Record<string, string>, readonly anonymousPull: string[]) {}

  get certFile(): string { return path.join(this.dir, 'token.crt'); }
  get realm(): string { return `http://127.0.0.1:${this.port}/token`; }

  async start(): Promise<void> {
    const keyFile = path.join(this.dir, 'token.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', this.certFile, '-days', '2', '-subj', '/CN=berth-test-token'], { stdio: 'ignore' });
    this.key = crypto.createPrivateKey(fs.readFileSync(keyFile));
    this.certDer = new crypto.X509Certificate(fs.readFileSync(this.certFile)).raw;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.port = await listenLoopback(this.server);
  }

  stop(): Promise<void> { return closeServer(this.server); }

  /** A token for `access` as the registry checks it (iss, aud, exp/nbf, access list). */
  sign(sub: string, access: { type: string; name: string; actions: string[] }[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [this.certDer.toString('base64')] };
    const claims = { iss: this.issuer, sub, aud: this.service, exp: now + 600, nbf: now - 60, iat: now, jti: crypto.randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url!, 'http://x');
    const scopes = u.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (this.users[name] === undefined || this.users[name] !== rest.join(':')) {
        this.requests.push({ scope: scopes, account: u.searchParams.get('account') ?? undefined, status: 401 });
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = name;
    }
    const access = scopes.map((s) => {
      const [type, name, actions = ''] = s.split(':');
      const wanted = actions.split(',').filter(Boolean);
      const granted = user ? wanted : wanted.filter((a) => a === 'pull' && (this.anonymousPull.includes('*') || this.anonymousPull.includes(name)));
      return { type, name, actions: granted };
    });
    this.requests.push({ scope: scopes, account: u.searchParams.get('account') ?? undefined, user, status: 200 });
    const token = this.sign(user ?? '', access);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 600, issued_at: new Date().toISOString() }));
  }
}

export class TestRegistry {
  proc?: ChildProcess;
  port = 0;
  log = '';
  token?: TokenServer;
  readonly auth: RegistryAuth;
  readonly users: Record<string, string>;

  constructor(readonly root: string, readonly opts: RegistryOptions = {}) {
    this.auth = opts.auth ?? 'none';
    this.users = opts.users ?? (this.auth === 'none' ? {} : { admin: 'admin-secret' });
  }

  get address(): string { return this.opts.address ?? '127.0.0.1'; }
  get host(): string { return `${this.address}:${this.port}`; }
  get url(): string { return `${this.opts.tls ? 'https' : 'http'}://${this.host}`; }
  get storage(): string { return path.join(this.root, 'data'); }
  /** Where the registry keeps a blob's bytes (filesystem driver layout). */
  blobPath(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return path.join(this.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.storage, { recursive: true });
    const authCfg: string[] = [];
    if (this.auth === 'htpasswd') {
      const lines = Object.entries(this.users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p]).toString().trim());
      fs.writeFileSync(path.join(this.root, 'htpasswd'), lines.join('\n') + '\n');
      authCfg.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${path.join(this.root, 'htpasswd')}`);
    } else if (this.auth === 'token') {
      this.token = new TokenServer(this.root, this.users, this.opts.anonymousPull ?? []);
      await this.token.start();
      authCfg.push('auth:', '  token:', `    realm: ${this.token.realm}`, `    service: ${this.token.service}`,
        `    issuer: ${this.token.issuer}`, `    rootcertbundle: ${this.token.certFile}`);
    }
    const tlsCfg: string[] = [];
    if (this.opts.tls) {
      const key = path.join(this.root, 'tls.key');
      const cert = path.join(this.root, 'tls.crt');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
        '-days', '2', '-subj', `/CN=${this.address}`, '-addext', `subjectAltName=IP:${this.address}`], { stdio: 'ignore' });
      tlsCfg.push('  tls:', `    certificate: ${cert}`, `    key: ${key}`);
    }
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort(this.address);
      const cfg = [
        'version: 0.1',
        'log:', '  level: info', '  accesslog:', '    disabled: false',
        'storage:', '  filesystem:', `    rootdirectory: ${this.storage}`, '  delete:', '    enabled: true',
        '  maintenance:', '    uploadpurging:', '      enabled: false',
        'http:', `  addr: ${this.host}`, `  secret: ${crypto.randomBytes(8).toString('hex')}`, ...tlsCfg,
        ...authCfg,
        ...(this.opts.schema1 ? ['compatibility:', '  schema1:', '    enabled: true'] : []),
      ].join('\n') + '\n';
      fs.writeFileSync(path.join(this.root, 'config.yml'), cfg);
      this.log = '';
      this.proc = spawn(REGISTRY_BIN, ['serve', path.join(this.root, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc.stdout!.on('data', (b) => { this.log += b; });
      this.proc.stderr!.on('data', (b) => { this.log += b; });
      if (await this.waitUp()) return;
      await this.stopProcess();
      if (attempt >= 3) throw new Error(`docker-registry did not start: ${this.log}`);
    }
  }

  private async waitUp(): Promise<boolean> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.proc!.exitCode !== null || this.proc!.signalCode !== null) return false;
      try {
        const r = await httpRequest('GET', `${this.url}/v2/`);
        if (r.status === 200 || r.status === 401) return true;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  private async stopProcess(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    await this.token?.stop();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** An Authorization header for the helper's own requests (admin rights). */
  async authorization(repo: string): Promise<Record<string, string>> {
    const [user, pass] = Object.entries(this.users)[0] ?? [];
    if (this.auth === 'htpasswd') return { Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') };
    if (this.auth === 'token') return { Authorization: 'Bearer ' + this.token!.sign(user, [{ type: 'repository', name: repo, actions: ['pull', 'push', 'delete'] }]) };
    return {};
  }

  /** Uploads a blob (POST then PUT ?digest=) unless the registry has it. */
  async putBlob(repo: string, data: Buffer): Promise<string> {
    const digest = `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
    const auth = await this.authorization(repo);
    const head = await httpRequest('HEAD', `${this.url}/v2/${repo}/blobs/${digest}`, undefined, auth);
    if (head.status === 200) return digest;
    const post = await httpRequest('POST', `${this.url}/v2/${repo}/blobs/uploads/`, undefined, auth);
    if (post.status !== 202) throw new Error(`blob upload start: ${post.status} ${post.body}`);
    const loc = new URL(String(post.headers.location), this.url);
    loc.searchParams.set('digest', digest);
    const put = await httpRequest('PUT', loc.toString(), data, { ...auth, 'Content-Type': 'application/octet-stream' });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${put.body}`);
    return digest;
  }

  async putManifest(repo: string, ref: string, body: Buffer | string, mediaType: string): Promise<string> {
    const data = Buffer.from(body);
    const auth = await this.authorization(repo);
    const r = await httpRequest('PUT', `${this.url}/v2/${repo}/manifests/${ref}`, data, { ...auth, 'Content-Type': mediaType });
    if (r.status !== 201) throw new Error(`manifest put ${repo}:${ref}: ${r.status} ${r.body}`);
    return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
  }

  /** Pushes an image's blobs and manifest under `tag`; returns the manifest digest. */
  async seedImage(repo: string, tag: string, image: BuiltImage): Promise<string> {
    for (const l of image.layers) await this.putBlob(repo, l.data);
    await this.putBlob(repo, image.config);
    return this.putManifest(repo, tag, image.manifest, image.manifestMediaType);
  }

  /** Pushes every image then a manifest list (docker) or index (oci) naming them under `tag`. */
  async seedIndex(repo: string, tag: string, images: BuiltImage[], kind: 'docker' | 'oci' = 'docker'): Promise<{ digest: string; body: Buffer }> {
    for (const im of images) await this.seedImage(repo, im.digest, im);
    const body = buildIndex(images, kind);
    const digest = await this.putManifest(repo, tag, body, kind === 'docker' ? MT.dockerList : MT.ociIndex);
    return { digest, body };
  }

  /** A signed schema1 manifest (needs schema1: true) for `repo:tag` with one layer. */
  async seedSchema1(repo: string, tag: string, layer: Layer): Promise<string> {
    await this.putBlob(repo, layer.data);
    const body = signedSchema1(repo, tag, layer.digest);
    return this.putManifest(repo, tag, body, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
  }
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const r = new TestRegistry(fs.mkdtempSync(path.join(os.tmpdir(), 'breg-')), opts);
  try {
    await r.start();
  } catch (e) {
    await r.stop();
    throw e;
  }
  return r;
}

// ---- images built by hand

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export type Compression = 'gzip' | 'zstd' | 'none';

export interface Layer { data: Buffer; digest: string; size: number; diffId: string; compression: Compression }

export interface BuiltImage {
  layers: Layer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestMediaType: string;
  /** The manifest's digest. */
  digest: string;
  platform: { os: string; architecture: string; variant?: string };
}

const sha = (b: Buffer): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

export function compress(tar: Buffer, c: Compression): Buffer {
  if (c === 'gzip') return zlib.gzipSync(tar);
  if (c === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
  return tar;
}

export function makeLayer(tar: Buffer, compression: Compression = 'gzip'): Layer {
  const data = compress(tar, compression);
  return { data, digest: sha(data), size: data.length, diffId: sha(tar), compression };
}

/** A tar of regular files (path -> content), owned by root. */
export function tarOf(files: Record<string, string | Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

let busyboxTarCache: Buffer | undefined;
/** The busybox root (scripts/busybox-rootfs.sh) as an uncompressed tar. */
export function busyboxTar(): Buffer {
  if (!busyboxTarCache) {
    const f = path.join(os.tmpdir(), `breg-busybox-${process.pid}.tar`);
    try {
      execFileSync('sh', [path.join(REPO_ROOT, 'scripts/busybox-rootfs.sh'), f], { stdio: 'ignore' });
      busyboxTarCache = fs.readFileSync(f);
    } finally {
      fs.rmSync(f, { force: true });
    }
  }
  return busyboxTarCache;
}

export interface ImageSpec {
  layers: Layer[];
  format?: 'docker' | 'oci';
  platform?: { os: string; architecture: string; variant?: string };
  cmd?: string[];
  env?: string[];
  labels?: Record<string, string>;
}

function layerMediaType(l: Layer, format: 'docker' | 'oci'): string {
  if (l.compression === 'zstd') return MT.ociLayerZstd;
  if (l.compression === 'none') return MT.ociLayer;
  return format === 'docker' ? MT.dockerLayerGzip : MT.ociLayerGzip;
}

export function makeImage(spec: ImageSpec): BuiltImage {
  const format = spec.format ?? 'docker';
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}),
    created: '2026-01-01T00:00:00Z',
    config: { Cmd: spec.cmd ?? ['sh'], Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: spec.labels ?? null },
    rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => l.diffId) },
    history: spec.layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `layer ${i}` })),
  }));
  const manifestMediaType = format === 'docker' ? MT.dockerManifest : MT.ociManifest;
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: format === 'docker' ? MT.dockerConfig : MT.ociConfig, size: config.length, digest: sha(config) },
    layers: spec.layers.map((l) => ({ mediaType: layerMediaType(l, format), size: l.size, digest: l.digest })),
  }, null, 3));
  return { layers: spec.layers, config, configDigest: sha(config), manifest, manifestMediaType, digest: sha(manifest), platform };
}

export function buildIndex(images: BuiltImage[], kind: 'docker' | 'oci'): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: kind === 'docker' ? MT.dockerList : MT.ociIndex,
    manifests: images.map((im) => ({ mediaType: im.manifestMediaType, size: im.manifest.length, digest: im.digest, platform: im.platform })),
  }, null, 3));
}

// ---- schema1 (libtrust "pretty" JWS), only to show that berth refuses it

function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = crypto.createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out.match(/.{1,4}/g)!.join(':');
}

export function signedSchema1(repo: string, tag: string, blobSum: string): Buffer {
  const payload = JSON.stringify({
    schemaVersion: 1, name: repo, tag, architecture: 'amd64',
    fsLayers: [{ blobSum }],
    history: [{ v1Compatibility: JSON.stringify({ id: crypto.randomBytes(32).toString('hex'), created: '2026-01-01T00:00:00Z', os: 'linux', architecture: 'amd64' }) }],
  }, null, 3);
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = libtrustKeyId(publicKey.export({ format: 'der', type: 'spki' }));
  const tail = payload.slice(payload.lastIndexOf('}'));
  const formatLength = payload.length - tail.length;
  const protectedHdr = b64url(JSON.stringify({ formatLength, formatTail: b64url(tail), time: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }));
  const sig = crypto.sign('sha256', Buffer.from(`${protectedHdr}.${b64url(payload)}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const signatures = [{ header: { jwk: { crv: 'P-256', kid, kty: 'EC', x: jwk.x, y: jwk.y }, alg: 'ES256' }, signature: b64url(sig), protected: protectedHdr }];
  const sigJson = JSON.stringify(signatures, null, 3).split('\n').map((l, i) => (i === 0 ? l : '   ' + l)).join('\n');
  return Buffer.from(payload.slice(0, formatLength) + `,\n   "signatures": ${sigJson}` + tail);
}

// ---- plain HTTP

export function httpRequest(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // the helper's own requests trust the test registries' self-signed certificates
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method, rejectUnauthorized: false, headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---- a proxy in front of a registry: counts requests, can throttle blob bodies

class Throttle extends Transform {
  constructor(private readonly proxy: RegistryProxy, private readonly rec: RequestRecord) { super(); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const rate = this.proxy.bytesPerSecond;
    if (!rate) {
      this.rec.bytes += chunk.length;
      cb(null, chunk);
      return;
    }
    // in slices, so a kill mid-transfer leaves a partial body, as a slow network would
    const step = Math.max(1024, Math.floor(rate / 20));
    let off = 0;
    const next = (): void => {
      if (off >= chunk.length) { cb(); return; }
      const part = chunk.subarray(off, off + step);
      off += part.length;
      this.rec.bytes += part.length;
      this.push(part);
      setTimeout(next, (part.length / rate) * 1000);
    };
    next();
  }
}

export class RegistryProxy {
  server?: http.Server;
  port = 0;
  readonly requests: RequestRecord[] = [];
  /** Throttles blob response bodies to this rate when set. */
  bytesPerSecond = 0;
  /** Cuts the next response for blob `digest` after `bytes` body bytes (a dropped connection), once. */
  dropBlob?: { digest: string; bytes: number };
  /** Blob GETs being answered now, and the most seen at once. */
  blobsInFlight = 0;
  maxBlobsInFlight = 0;

  constructor(readonly target: string) {}

  get host(): string { return `127.0.0.1:${this.port}`; }
  get url(): string { return `http://${this.host}`; }

  /** GETs of blob `digest` seen so far. */
  blobGets(digest: string): RequestRecord[] {
    return this.requests.filter((r) => r.method === 'GET' && r.path.includes(`/blobs/${digest}`));
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const rec: RequestRecord = { method: req.method!, path: req.url!, range: req.headers.range, bytes: 0, authorization: req.headers.authorization };
      this.requests.push(rec);
      const t = new URL(this.target);
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        rec.status = ur.statusCode;
        res.writeHead(ur.statusCode!, ur.headers);
        if (/\/blobs\/sha256:/.test(req.url!) && req.method === 'GET') {
          const drop = this.dropBlob && req.url!.includes(this.dropBlob.digest) ? this.dropBlob.bytes : 0;
          if (drop) this.dropBlob = undefined;
          const t = new Throttle(this, rec);
          this.blobsInFlight++;
          this.maxBlobsInFlight = Math.max(this.maxBlobsInFlight, this.blobsInFlight);
          // Counted out when the last byte of the body is handed over: 'finish' and 'close' can
          // come after the client, which has every byte, has already started its next download.
          let out = false;
          const done = () => { if (!out) { out = true; this.blobsInFlight--; } };
          const total = Number(ur.headers['content-length'] ?? -1);
          t.on('data', () => { if (total >= 0 && rec.bytes >= total) done(); });
          res.once('close', done);
          if (drop > 0) {
            t.on('data', () => {
              if (rec.bytes >= drop) { ur.destroy(); res.destroy(); }
            });
          }
          ur.pipe(t).pipe(res);
        }
        else ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    this.port = await listenLoopback(this.server);
  }

  stop(): Promise<void> { return closeServer(this.server); }
}

/** Listens on a loopback port the kernel picks; returns it. */
async function listenLoopback(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

export async function startProxy(target: string): Promise<RegistryProxy> {
  const p = new RegistryProxy(target);
  await p.start();
  return p;
}
