// The docker CLI's own share of a command: a socket that answers `/_ping` and one captured
// daemon answer from memory, so a `docker ps` against it costs the CLI's start, its decoding
// and its table, and no daemon work at all.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** GETs `p` from the daemon at `socket`: the body's bytes. */
export function captureAnswer(socket: string, p: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: p }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve(Buffer.concat(parts)));
    }).on('error', reject);
  });
}

/** The CPU time the whole machine has spent so far (user, nice, system, irq, softirq), in ms. */
export function machineBusyMs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return ((f[0] + f[1] + f[2] + f[5] + f[6]) * 1000) / TICKS_PER_S;
}

const TICKS_PER_S = 100; // USER_HZ, 100 on every Linux architecture berth runs on

/**
 * `docker ps`'s answer with `n` rows holding only what its table prints (ID, image, command,
 * created, status, ports, names): no daemon can answer with less, so the CLI's time on it is
 * the floor of `docker ps` with `n` containers.
 */
export function minimalListAnswer(n: number): Buffer {
  return Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => ({
    Id: i.toString(16).padStart(64, '0'), Names: [`/s${i}`], Image: 'busybox', Command: 'sleep 3600',
    Created: 1_700_000_000, Ports: [], State: 'running', Status: 'Up 5 minutes',
  }))));
}

/** Median wall time of `docker args`, and the machine's CPU per run, against a socket that answers every request with `body`. */
export async function cliAlone(args: string[], body: Buffer, runs = 11): Promise<{ ms: number; cpuMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-replay-'));
  const socket = path.join(dir, 'replay.sock');
  const server = http.createServer((req, res) => {
    const ping = req.url?.endsWith('/_ping');
    res.writeHead(200, { 'Api-Version': '1.44', 'Content-Type': ping ? 'text/plain' : 'application/json' });
    res.end(ping ? 'OK' : body);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    const times: number[] = [];
    const busy0 = machineBusyMs();
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await run('docker', args, { env, maxBuffer: 64 << 20 });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const cpuMs = Number(((machineBusyMs() - busy0) / runs).toFixed(1));
    times.sort((a, b) => a - b);
    return { ms: Number(times[Math.floor(times.length / 2)].toFixed(1)), cpuMs };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** cliAlone's median wall time alone. */
export async function cliAloneMs(args: string[], body: Buffer, runs = 11): Promise<number> {
  return (await cliAlone(args, body, runs)).ms;
}
