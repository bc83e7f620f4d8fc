// Starts a real berthd on private roots and a private socket, for one test file.
// Everything it makes (containers, mounts, processes, files) is removed by stop().
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { claimPool, releasePool } from './poolClaims';
import { crunRefusal } from '../../src/runtime/crun';
import { killCliSpares } from './spares';

const run = promisify(execFile);
export const REPO = path.resolve(__dirname, '../../..');
export const BERTHD = path.join(REPO, 'bin/berthd');
export const BERTH = path.join(REPO, 'bin/berth');
// bin/berth's spare CLI processes: on (unless BERTH_CLI_SPARE=0) for runs with a test daemon's
// env, each daemon's in a directory of its own that stop() empties; off for every other run of
// the tests' processes, whose spares nothing would end.
const TEST_SPARES = process.env.BERTH_CLI_SPARE ?? '1';
process.env.BERTH_CLI_SPARE = '0';

export interface ApiResponse { status: number; headers: http.IncomingHttpHeaders; body: Buffer; json<T = any>(): T }

export class TestDaemon {
  proc?: ChildProcess;
  stderr = '';
  /** A network namespace (`ip netns add`) to run berthd in: its bridges, rules and ports stay there. */
  netns?: string;
  /** How often start() asks /_ping (the bench of the daemon's start asks more often). */
  pingPollMs = 20;
  /** When the last start() saw its first 200 on /_ping (process.hrtime), before the engine was ready. */
  pingAt?: bigint;
  constructor(readonly root: string, readonly extraArgs: string[] = []) {}

  get socket(): string { return path.join(this.root, 'e', 'berth.sock'); }
  get host(): string { return `unix://${this.socket}`; }
  get dataRoot(): string { return path.join(this.root, 'd'); }
  get execRoot(): string { return path.join(this.root, 'e'); }
  /** Environment for the docker CLI and bin/berth aimed at this daemon. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.host, DOCKER_CONFIG: path.join(this.root, 'dockercfg'), BERTH_HOST: this.host, BERTH_CLI_SPARE: TEST_SPARES, BERTH_CLI_SPARE_DIR: this.spareDir };
  }
  /** Where bin/berth's spare CLI processes for this daemon's tests wait (stop() ends them). */
  get spareDir(): string { return path.join(this.root, 'cli'); }

  /** A process killed by a signal has a signalCode and no exitCode: both mean it is gone. */
  get exited(): boolean { return !this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null; }

  async start(): Promise<void> {
    this.stderr = '';
    const argv = [BERTHD, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '-H', this.host,
      '--config-file', path.join(this.root, 'daemon.json'), ...networkArgsUnlessConfigured(this.root), ...this.extraArgs];
    if (this.netns) argv.unshift(...inNetns(this.netns, path.join(this.root, 'cgroup-keep')));
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (b: Buffer) => { this.stderr += b.toString(); });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.exited) throw new Error(`berthd exited: ${this.stderr}`);
      try {
        const r = await this.request('GET', '/_ping');
        if (r.status === 200) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`berthd did not come up: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, this.pingPollMs));
    }
    this.pingAt = process.hrtime.bigint();
    // berthd answers /_ping while its engine still opens (re-adopting, reconciling); any other
    // request waits until it is ready. Tests look at the data root after a start: wait for it
    // (with a request that costs berthd little: /version would run runc, conmon and tini).
    const r = await this.request('GET', '/containers/json?limit=1');
    if (r.status !== 200) throw new Error(`berthd is up but its engine did not open: ${r.status} ${r.body} ${this.stderr}`);
  }

  request(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const req = http.request({
        socketPath: this.socket, method, path: p,
        headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Runs the real docker CLI against this daemon. */
  docker(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return runCmd('docker', args, this.env, opts);
  }

  /** Runs the real docker CLI; fails the test unless it exits 0. Returns stdout. */
  async dockerOk(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<string> {
    const r = await this.docker(args, opts);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  berth(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return runCmd(BERTH, args, this.env, opts);
  }

  /**
   * Asserts that `berth args` prints what `docker args` prints. Relative times ("1 second ago")
   * may tick between two runs, so docker runs between two berth runs and must match one of them.
   */
  async assertSameRendering(args: string[]): Promise<void> {
    const before = await this.berth(args);
    const want = await this.docker(args);
    const after = await this.berth(args);
    assert.equal(want.code, 0, want.stderr);
    assert.equal(want.stdout === before.stdout ? before.stdout : after.stdout, want.stdout, `berth ${args.join(' ')}`);
  }

  /** Imports the busybox image (from Debian's busybox-static) through the API. */
  async ensureBusybox(tag = 'busybox:latest'): Promise<void> {
    const tar = path.join(this.root, 'busybox.tar');
    if (!fs.existsSync(tar)) await run('sh', [path.join(REPO, 'scripts/busybox-rootfs.sh'), tar]);
    const [repo, t] = tag.split(':');
    const q = new URLSearchParams({ fromSrc: '-', repo, tag: t ?? 'latest', changes: 'CMD ["sh"]' });
    const r = await this.request('POST', `/v1.44/images/create?${q}`, fs.readFileSync(tar), { 'Content-Type': 'application/x-tar' });
    if (r.status !== 200 || r.body.toString().includes('"error"')) throw new Error(`import failed: ${r.status} ${r.body}`);
  }

  /**
   * Imports busybox (ensureBusybox's archive) with `edit` applied to its unpacked root, as
   * image `tag`; `tarArgs` go to the tar that packs it (e.g. --xattrs).
   */
  async importBusyboxVariant(tag: string, edit: (root: string) => void, tarArgs: string[] = []): Promise<void> {
    const root = fs.mkdtempSync(path.join(this.root, 'variant-'));
    const tar = root + '.tar';
    try {
      await run('tar', ['-C', root, '-xf', path.join(this.root, 'busybox.tar')]);
      edit(root);
      await run('tar', [...tarArgs, '--numeric-owner', '-C', root, '-cf', tar, '.']);
      const r = await this.docker(['import', tar, tag]);
      if (r.code !== 0) throw new Error(`import of ${tag} failed: ${r.stderr}`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(tar, { force: true });
    }
  }

  /** Kills berthd (if it runs) and starts it again, with `env` added to its environment. */
  async restart(env: Record<string, string> = {}): Promise<void> {
    await this.kill9();
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      await this.start();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }

  async kill9(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc!.kill('SIGKILL');
    await exited;
  }

  async stopDaemon(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc!.kill('SIGTERM');
    // unref: a pending timer would hold the test process (and node --test) for 20 s after the last test
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
    if (!this.exited) await this.kill9();
  }

  /** Removes every container (force), stops the daemon and deletes its roots. */
  async stop(): Promise<void> {
    if (!this.exited) {
      const list = await this.request('GET', '/containers/json?all=1').then((r) => r.json<{ Id: string }[]>()).catch(() => []);
      await Promise.all(list.map((c) => this.request('DELETE', `/containers/${c.Id}?force=1`).catch(() => undefined)));
      await this.stopDaemon();
    }
    await killCliSpares(this.spareDir);
    this.leaks = await networkLeaks(this.root);
    await cleanupRoot(this.root);
  }

  /** What stop() found of the daemon's network devices, namespaces and port rules before cleaning up (networkLeaks). */
  leaks: string[] = [];
}

/**
 * The command prefix that runs a program in the network namespace `ns` (made by `ip netns
 * add`) with a sysfs of that namespace, which berthd reads for its devices, and the host's
 * cgroup mounts kept under it (which `ip netns exec` would hide from runc). Its mount
 * namespace is a slave of the host's: what it mounts stays in it. Every step execs, so the
 * pid is berthd's.
 */
export function inNetns(ns: string, keep: string): string[] {
  const script = `mkdir -p ${keep} && mount --rbind /sys/fs/cgroup ${keep} && mount -t sysfs sysfs /sys && mount --rbind ${keep} /sys/fs/cgroup && umount -l ${keep} && exec "$@"`;
  return ['nsenter', `--net=/run/netns/${ns}`, 'unshare', '--mount', '--propagation', 'slave', 'sh', '-c', script, 'sh'];
}

/**
 * Host-global network names of the daemon on `root` (parallel test daemons must not share
 * them): its default bridge, its nftables tables, derived from the root's name; a /16 pool for
 * its networks that no other running test daemon has (poolClaims.ts, given back by
 * removeNetworkLeftovers) and a /24 of it for the default bridge.
 */
export function networkNames(root: string): { bridge: string; table: string; bip: string; pool: string } {
  const tag = path.basename(root).replace(/[^a-zA-Z0-9]/g, '').slice(-10);
  const h = createHash('sha256').update(path.basename(root)).digest();
  const a = claimPool(root, 64 + (h[0] % 128));
  // The default bridge keeps below x.200: the /24s from 200 up are left to the tests that create
  // networks with a fixed --subnet (docker-network-user's subnet()).
  return { bridge: `b${tag}`.slice(0, 15), table: `bt_${tag}`, bip: `10.${a}.${h[1] % 200}.1/24`, pool: `10.${a}.0.0/16` };
}

export function networkArgs(root: string): string[] {
  const n = networkNames(root);
  return ['--bridge', n.bridge, '--bip', n.bip, '--nftables-table', n.table, '--default-address-pool', `base=${n.pool},size=24`];
}

function networkArgsUnlessConfigured(root: string): string[] {
  let conf: Record<string, unknown> = {};
  try { conf = JSON.parse(fs.readFileSync(path.join(root, 'daemon.json'), 'utf8')); } catch { /* none */ }
  return ['bridge', 'bip', 'nftables-table', 'default-address-pools'].some((k) => k in conf) ? [] : networkArgs(root);
}

/**
 * What a stopped daemon left of its networking: veths and bridges (other than its default
 * bridge, which outlives the daemon as docker0 does), namespace files under its exec root,
 * published-port elements in its nftables maps. Empty when nothing leaked.
 */
export async function networkLeaks(root: string): Promise<string[]> {
  const { bridge, table } = networkNames(root);
  const out: string[] = [];
  const devices = () => fs.readdirSync('/sys/class/net').flatMap((dev) => {
    let alias = '';
    try { alias = fs.readFileSync(`/sys/class/net/${dev}/ifalias`, 'utf8').trim(); } catch { return []; }
    return alias.startsWith(`berth:${table}:`) && dev !== bridge ? [`device ${dev} (${alias})`] : [];
  });
  // The kernel frees a namespace (and the veths in it) asynchronously once its last user is
  // gone: a veth of a container removed just now may still be there for a moment.
  let left = devices();
  for (let i = 0; i < 30 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = devices();
  }
  out.push(...left);
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(path.join(root, 'e', 'netns')));
  out.push(...mounts.map((m) => `netns mount ${m}`));
  const nft = await run('nft', ['list', 'table', 'ip', table]).then((r) => r.stdout, () => '');
  for (const map of ['pub_any', 'pub_ip']) {
    const m = new RegExp(`map ${map} \\{[^}]*elements = \\{([^}]*)\\}`).exec(nft);
    if (m) out.push(`nft ${table} ${map}: ${m[1].trim()}`);
  }
  return out;
}

/** Deletes the devices and nftables tables of the daemon named by `root` (networkNames). */
export async function removeNetworkLeftovers(root: string): Promise<void> {
  const { table } = networkNames(root);
  for (const dev of fs.readdirSync('/sys/class/net')) {
    let alias = '';
    try { alias = fs.readFileSync(`/sys/class/net/${dev}/ifalias`, 'utf8').trim(); } catch { continue; }
    if (alias.startsWith(`berth:${table}:`)) await run('ip', ['link', 'del', 'dev', dev]).catch(() => undefined);
  }
  await run('nft', ['delete', 'table', 'ip', table]).catch(() => undefined);
  await run('nft', ['delete', 'table', 'bridge', table]).catch(() => undefined);
  await run('nft', ['delete', 'table', 'ip6', table]).catch(() => undefined);
  releasePool(root);
}

export async function cleanupRoot(root: string): Promise<void> {
  // Leftover conmon/container processes whose state lives under this root.
  await run('sh', ['-c', `for p in $(pgrep -f -- "${root}" || true); do kill -9 $p 2>/dev/null; done`]).catch(() => undefined);
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(root));
  for (const m of mounts.sort().reverse()) await run('umount', ['-l', m]).catch(() => undefined);
  await removeNetworkLeftovers(root);
  await run('sh', ['-c', `for d in /sys/fs/cgroup/*/berth-test-${path.basename(root)} /sys/fs/cgroup/berth-test-${path.basename(root)}; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \\; 2>/dev/null; done; true`]).catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
}

export function runCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => { stdout += b; });
    p.stderr.on('data', (b) => { stderr += b; });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
  });
}

/**
 * BERTH_TEST_RUNTIME=runc|crun: the default runtime of the daemons startDaemon makes (scripts/test.js
 * runs the lifecycle files under runc this way); unset, berthd's own choice (crun where usable).
 */
export const TEST_RUNTIME = process.env.BERTH_TEST_RUNTIME || undefined;

/** The default runtime a test daemon has: BERTH_TEST_RUNTIME, else crun where it is installed and usable, else runc. */
export function expectedDefaultRuntime(): string {
  if (TEST_RUNTIME) return TEST_RUNTIME;
  const onPath = (process.env.PATH ?? '').split(':').some((dir) => dir && fs.existsSync(path.join(dir, 'crun')));
  return onPath && crunRefusal() === undefined ? 'crun' : 'runc';
}

export async function startDaemon(extraArgs: string[] = [], opts: { netns?: string } = {}): Promise<TestDaemon> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  const d = new TestDaemon(root, extraArgs);
  d.netns = opts.netns;
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({
    'cgroup-parent': `/berth-test-${path.basename(root)}`, ...(TEST_RUNTIME ? { 'default-runtime': TEST_RUNTIME } : {}),
  }));
  try {
    await d.start();
  } catch (e) {
    // a daemon that did not come up leaves nothing either: its root, its pool claim
    await d.stop().catch(() => undefined);
    throw e;
  }
  return d;
}

/** A daemon with the busybox image for the whole test file: started before, removed after. */
export function useDaemon(set: (d: TestDaemon) => void): void {
  let d: TestDaemon | undefined;
  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
    set(d);
  });
  after(async () => { await d?.stop(); });
}
