// Network figures for `npm run bench`: `run --rm` on the default bridge with a published port,
// network create + rm, and the embedded DNS's answer time (a name query to a user network's
// gateway, sent from the host: the server's own latency, without an exec around it).
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import type { TestDaemon } from '../test/helpers/daemon';
import { networkNames } from '../test/helpers/daemon';

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
