// Network figures for `npm run bench`: `run --rm` on the default bridge with a published port,
// network create + rm, and the embedded DNS's answer time (a name query to a user network's
// gateway, sent from the host: the server's own latency, without an exec around it); and beside
// a dockerd 20.10 in a network namespace of its own, the default-bridge figures measured alike.
import { execFileSync, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import type { TestDaemon } from '../test/helpers/daemon';
import { networkNames, REPO } from '../test/helpers/daemon';
import { dockerdInstalled, startDockerd } from './dockerd';
import { benchAlone } from './alone';

function timeCmd(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)].toFixed(2));
}

async function query(server: string, name: string): Promise<number> {
  const sock = dgram.createSocket('udp4');
  const msg = dnsPacket.encode({ id: 1, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('dns timeout')), 2000);
    sock.once('message', () => { clearTimeout(t); resolve(); });
    sock.send(msg, 53, server);
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  sock.close();
  return ms;
}

export async function networkBench(d: TestDaemon, runs: number): Promise<Record<string, unknown>> {
  const env = d.env;
  const published = ['run', '--rm', '-p', '0:80', 'busybox', 'true'];
  timeCmd('docker', published, env);
  const pub: number[] = [];
  for (let i = 0; i < runs; i++) pub.push(timeCmd('docker', published, env));
  const createRm: number[] = [];
  const base = networkNames(d.root).pool.split('.').slice(0, 2).join('.');
  for (let i = 0; i < Math.min(runs, 20); i++) {
    const t0 = process.hrtime.bigint();
    timeCmd('docker', ['network', 'create', '--subnet', `${base}.250.0/24`, 'bench-net'], env);
    timeCmd('docker', ['network', 'rm', 'bench-net'], env);
    createRm.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  timeCmd('docker', ['network', 'create', '--subnet', `${base}.251.0/24`, 'bench-dns'], env);
  timeCmd('docker', ['run', '-d', '--name', 'bench-dns-target', '--network', 'bench-dns', 'busybox', 'sleep', '300'], env);
  const dns: number[] = [];
  try {
    for (let i = 0; i < 200; i++) dns.push(await query(`${base}.251.1`, 'bench-dns-target'));
  } finally {
    spawnSync('docker', ['rm', '-f', 'bench-dns-target'], { env, stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', 'bench-dns'], { env, stdio: 'ignore' });
  }
  return {
    docker_run_rm_publish_port_true_p50_ms: p50(pub),
    network_create_plus_rm_p50_ms: p50(createRm),
    embedded_dns_answer_p50_ms: p50(dns),
    budget_bridge_run_p50_ms: 150,
  };
}

/**
 * The same three figures through one daemon's CLI env, measured alike for berthd and dockerd:
 * `run --rm` on the default bridge, network create + rm, and a name lookup between two
 * containers of a user network (busybox's nslookup, its own resolver, 50 in a loop inside one
 * container: the per-lookup time, process start included).
 */
function bridgeFigures(env: NodeJS.ProcessEnv, runs: number, subnet: string): Record<string, number> {
  const run = ['run', '--rm', 'busybox', 'true'];
  timeCmd('docker', run, env);
  const runTimes = Array.from({ length: runs }, () => timeCmd('docker', run, env));
  const createRm = Array.from({ length: Math.min(runs, 20) }, () => {
    const t0 = process.hrtime.bigint();
    timeCmd('docker', ['network', 'create', 'bench-net'], env);
    timeCmd('docker', ['network', 'rm', 'bench-net'], env);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  });
  timeCmd('docker', ['network', 'create', '--subnet', subnet, 'bench-dns'], env);
  try {
    timeCmd('docker', ['run', '-d', '--name', 'bench-dns-target', '--network', 'bench-dns', 'busybox', 'sleep', '300'], env);
    const loop = (n: number) => ['run', '--rm', '--network', 'bench-dns', 'busybox', 'sh', '-c', `for i in $(seq ${n}); do nslookup bench-dns-target >/dev/null || exit 1; done`];
    const one = p50(Array.from({ length: 5 }, () => timeCmd('docker', loop(1), env)));
    const fifty = p50(Array.from({ length: 5 }, () => timeCmd('docker', loop(51), env)));
    return { run_rm_default_bridge_p50_ms: p50(runTimes), network_create_plus_rm_p50_ms: p50(createRm), dns_lookup_between_containers_ms: Number(((fifty - one) / 50).toFixed(2)) };
  } finally {
    spawnSync('docker', ['rm', '-f', 'bench-dns-target'], { env, stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', 'bench-dns'], { env, stdio: 'ignore' });
  }
}

/**
 * berthd beside dockerd 20.10 on the default bridge (where docker.io is installed): dockerd runs
 * in a network namespace of its own, with its bridge and iptables there, so that its FORWARD
 * DROP and chains touch neither the host nor berth.
 */
export async function networkBesideDockerd(d: TestDaemon, runs: number): Promise<Record<string, unknown>> {
  const base = networkNames(d.root).pool.split('.').slice(0, 2).join('.');
  const out: Record<string, unknown> = { berthd: bridgeFigures(d.env, runs, `${base}.252.0/24`) };
  if (!dockerdInstalled()) return { ...out, dockerd: 'not installed' };
  const ns = `bnd${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const peer = await startDockerd({ netns: ns });
    try {
      execFileSync('sh', [`${REPO}/scripts/busybox-rootfs.sh`, `${peer.root}/busybox.tar`], { stdio: 'ignore' });
      execFileSync('docker', ['import', '-c', 'CMD ["sh"]', `${peer.root}/busybox.tar`, 'busybox'], { env: peer.env, stdio: 'ignore' });
      const k = bridgeFigures(peer.env, runs, '10.250.252.0/24');
      const b = out.berthd as Record<string, number>;
      out.dockerd = k;
      out.ratio_berth_over_dockerd = Object.fromEntries(Object.keys(k).map((key) => [key, Number((b[key] / k[key]).toFixed(2))]));
    } finally {
      await peer.stop();
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
  return out;
}

if (require.main === module) {
  const runs = Number(process.env.BENCH_RUNS ?? 21);
  benchAlone(async (d) => ({ network: await networkBench(d, runs), beside_dockerd: await networkBesideDockerd(d, runs) }));
}
