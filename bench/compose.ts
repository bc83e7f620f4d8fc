// `up -d` and `down` of a 5-service project (busybox and debian, images present; one network,
// one named volume, one health check that another service waits on with service_healthy),
// medians of several rounds, through (a) `berth compose`, (b) Debian's docker-compose 1.29
// against the same berthd and (c) docker-compose 1.29 against a private dockerd 20.10 where it
// is installed. The tools take turns within each round, so drift on a shared machine falls on
// all alike. The goal: `berth compose up -d` in at most half of docker-compose's time. Never asserts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, type TestDaemon } from '../test/helpers/daemon';
import { debianArchive, loadDebianImages } from '../test/helpers/images';
import { dockerdInstalled, startDockerd } from './dockerd';
import { benchAlone } from './alone';

const RUNS = Number(process.env.BENCH_COMPOSE_RUNS ?? 5);
const PROJECT = 'benchcompose';

// init: true on every service: tini passes SIGTERM on, so `down` measures the tools and the
// daemon rather than ten-second stop timeouts of a shell that ignores the signal as PID 1.
// Two projects: web waiting on db's health check (a fixed 500 ms interval both tools wait out
// alike), and the same without a health check (what the tools and the daemon themselves cost).
const composeFile = (health: boolean) => `version: "2.4"
services:
  db:
    image: busybox
    init: true
    command: sh -c 'echo up >> /data/log; touch /data/ready; exec sleep 3600'
    volumes: [data:/data]
    networks: [appnet]
${health ? `    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 500ms
      timeout: 5s
      retries: 20
` : ''}  web:
    image: busybox
    init: true
    command: httpd -f -p 8080
    networks: [appnet]
    depends_on:
      db:
        condition: ${health ? 'service_healthy' : 'service_started'}
  cache:
    image: busybox
    init: true
    command: sleep 3600
    networks: [appnet]
  worker:
    image: debian:bookworm
    init: true
    command: sleep 3600
    networks: [appnet]
  client:
    image: debian:bookworm
    init: true
    command: sleep 3600
    networks: [appnet]
volumes:
  data:
networks:
  appnet:
`;

interface Tool { name: string; cmd: string; args: string[]; env: NodeJS.ProcessEnv }

interface Sample { wall: number; cpu: number }

// GNU time reports the tool's user + system CPU (its children too: docker-compose's builds, none here)
const CPU_FILE = path.join(os.tmpdir(), `bench-compose-${process.pid}.time`);

function timed(t: Tool, args: string[]): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-q', '-f', '%U %S', '-o', CPU_FILE, t.cmd, ...t.args, ...args], { env: t.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${t.name} ${args.join(' ')}: ${r.error ? r.error.message : r.stderr}`);
  const [user, sys] = fs.readFileSync(CPU_FILE, 'utf8').trim().split(/\s+/).map(Number);
  return { wall, cpu: (user + sys) * 1000 };
}

const median = (xs: number[]) => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1));
const ratio = (a: number, b: number) => Number((a / b).toFixed(2));

/** Whether this berth has the compose commands the bench runs (another branch brings them). */
function berthComposeAvailable(env: NodeJS.ProcessEnv): boolean {
  const r = spawnSync(BERTH, ['compose', 'up', '--help'], { env, stdio: 'ignore' });
  return r.status === 0;
}

/** Imports busybox (the archive TestDaemon.ensureBusybox built) and loads debian into a dockerd. */
async function loadImages(env: NodeJS.ProcessEnv, busyboxTar: string): Promise<void> {
  const run = (args: string[]) => {
    const r = spawnSync('docker', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  };
  run(['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest']);
  run(['load', '-i', await debianArchive()]);
}

export async function composeBench(d: TestDaemon): Promise<Record<string, unknown>> {
  await loadDebianImages(d);
  const dir = path.join(d.root, 'bench-compose');
  fs.mkdirSync(dir, { recursive: true });
  const peer = dockerdInstalled() ? await startDockerd() : undefined;
  try {
    if (peer) await loadImages(peer.env, path.join(d.root, 'busybox.tar'));
    return {
      without_health_check: measureProject(d, peer?.env, dir, false),
      with_health_check: measureProject(d, peer?.env, dir, true),
    };
  } finally {
    fs.rmSync(CPU_FILE, { force: true });
    await peer?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `up -d` and `down` of one project through each tool, the tools alternating round by round. */
function measureProject(d: TestDaemon, peerEnv: NodeJS.ProcessEnv | undefined, dir: string, health: boolean): Record<string, unknown> {
  const file = path.join(dir, 'docker-compose.yml');
  fs.writeFileSync(file, composeFile(health));
  const common = ['-f', file, '-p', PROJECT];
  const tools: Tool[] = [];
  const notes: Record<string, string> = {};
  if (berthComposeAvailable(d.env)) tools.push({ name: 'berth_compose', cmd: BERTH, args: ['compose', ...common], env: d.env });
  else notes.berth_compose = 'skipped: this berth has no `compose up`';
  tools.push({ name: 'docker_compose_on_berthd', cmd: 'docker-compose', args: common, env: d.env });
  if (peerEnv) tools.push({ name: 'docker_compose_on_dockerd', cmd: 'docker-compose', args: common, env: peerEnv });
  else notes.docker_compose_on_dockerd = 'not installed';
  try {
    const up: Record<string, number[]> = Object.fromEntries(tools.map((t) => [t.name, []]));
    const down: Record<string, number[]> = Object.fromEntries(tools.map((t) => [t.name, []]));
    const upCpu: Record<string, number[]> = Object.fromEntries(tools.map((t) => [t.name, []]));
    const loadStart = Number(os.loadavg()[0].toFixed(1));
    // Round 0 warms each path up (page cache, the first health check, python's imports).
    for (let i = 0; i <= RUNS; i++) {
      for (const t of tools) {
        const u = timed(t, ['up', '-d']);
        const dn = timed(t, ['down']);
        if (i > 0) { up[t.name].push(u.wall); down[t.name].push(dn.wall); upCpu[t.name].push(u.cpu); }
      }
    }
    for (const t of tools) timed(t, ['down', '-v']);
    const out: Record<string, unknown> = { services: 5, web_waits_on_db_health: health, runs: RUNS, load_average_1m: { start: loadStart, end: Number(os.loadavg()[0].toFixed(1)) } };
    for (const t of tools) out[t.name] = { up_d_p50_ms: median(up[t.name]), up_d_cpu_p50_ms: median(upCpu[t.name]), down_p50_ms: median(down[t.name]) };
    Object.assign(out, notes);
    const p50 = (name: string, xs: Record<string, number[]>) => (xs[name]?.length ? median(xs[name]) : undefined);
    const pairs: [string, string, string][] = [
      ['berth_compose_over_docker_compose_on_berthd', 'berth_compose', 'docker_compose_on_berthd'],
      ['berth_compose_over_docker_compose_on_dockerd', 'berth_compose', 'docker_compose_on_dockerd'],
      ['docker_compose_on_berthd_over_on_dockerd', 'docker_compose_on_berthd', 'docker_compose_on_dockerd'],
    ];
    for (const [key, a, b] of pairs) {
      const [ua, ub, da, db] = [p50(a, up), p50(b, up), p50(a, down), p50(b, down)];
      if (ua !== undefined && ub !== undefined) out[`ratio_up_d_${key}`] = ratio(ua, ub);
      if (da !== undefined && db !== undefined) out[`ratio_down_${key}`] = ratio(da, db);
    }
    out.goal_ratio_up_d_berth_compose_over_docker_compose = 0.5;
    return out;
  } finally {
    for (const t of tools) spawnSync(t.cmd, [...t.args, 'down', '-v'], { env: t.env, stdio: 'ignore', timeout: 120_000 });
  }
}

// `node dist/bench/compose.js` runs this part alone.
// `node dist/bench/compose.js` runs this part alone.
if (require.main === module) benchAlone(async (d) => ({ compose: await composeBench(d) }));
