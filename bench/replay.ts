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

/** Median wall time of `docker args` against a socket that answers every GET with `body`. */
export async function cliAloneMs(args: string[], body: Buffer, runs = 11): Promise<number> {
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
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await run('docker', args, { env, maxBuffer: 64 << 20 });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    return Number(times[Math.floor(times.length / 2)].toFixed(1));
  } finally {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
