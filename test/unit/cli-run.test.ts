// The run flow against a fake daemon on a unix socket: call order, half-close, framing, exit codes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { Cli, StatusError } from '../../src/cli/cli';
import { buildProgram } from '../../src/cli/main';
import { encodeFrame } from '../../src/client/stream';

const ID = 'a'.repeat(64);

interface Fake {
  sock: string;
  log: string[];
  bodies: unknown[];
  close(): Promise<void>;
}

function fakeDaemon(opts: { exitCode?: number; startError?: string; createStatus?: number; maxVersion?: string } = {}): Promise<Fake> {
  const log: string[] = [];
  const bodies: unknown[] = [];
  let attachSock: net.Socket | undefined;
  let waitRes: http.ServerResponse | undefined;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const p = u.pathname.replace(/^\/v1\.\d+/, '');
    const version = /^\/v(1\.\d+)\//.exec(u.pathname)?.[1];
    log.push(`${req.method} ${p}${u.search}`);
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      if (p === '/_ping') {
        res.writeHead(200, { 'Api-Version': opts.maxVersion ?? '1.45', 'Content-Length': '0' });
        return res.end();
      }
      // as dockerd's version middleware: before the handler, for every versioned path
      if (opts.maxVersion && version && Number(version.split('.')[1]) > Number(opts.maxVersion.split('.')[1])) {
        log.push(`TOO-NEW ${version}`);
        res.writeHead(400, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ message: `client version ${version} is too new. Maximum supported API version is ${opts.maxVersion}` }) + '\n');
      }
      if (version) log.push(`VERSION ${version}`);
      if (p === '/containers/create') {
        bodies.push(JSON.parse(data));
        if (opts.createStatus) {
          res.writeHead(opts.createStatus, { 'Content-Type': 'application/json' });
          return res.end(JSON.stringify({ message: 'No such image: nope:latest' }) + '\n');
        }
        res.writeHead(201, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ Id: ID, Warnings: [] }) + '\n');
      }
      if (p.endsWith('/wait')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        waitRes = res;
        return;
      }
      if (p.endsWith('/start')) {
        if (opts.startError) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: opts.startError }) + '\n');
          attachSock?.end();
          return;
        }
        res.writeHead(204);
        res.end();
        setTimeout(() => {
          attachSock?.write(Buffer.concat([encodeFrame(1, 'hi\n'), encodeFrame(2, 'oops\n')]));
          attachSock?.end();
          setTimeout(() => waitRes?.end(JSON.stringify({ Error: null, StatusCode: opts.exitCode ?? 0 }) + '\n'), 10);
        }, 10);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"page not found"}\n');
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    const u = new URL(req.url ?? '/', 'http://x');
    log.push(`UPGRADE ${u.pathname.replace(/^\/v1\.\d+/, '')}${u.search}`);
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    attachSock = socket;
    socket.on('end', () => log.push('HALF-CLOSE'));
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-'));
  const sock = path.join(dir, 'd.sock');
  return new Promise((resolve) => server.listen(sock, () => resolve({
    sock, log, bodies,
    close: () => new Promise((r) => {
      fs.rmSync(dir, { recursive: true, force: true });
      server.closeAllConnections();
      attachSock?.destroy();
      server.close(() => r());
    }),
  })));
}

function sink(): { w: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return { w: new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }), text: () => Buffer.concat(chunks).toString() };
}

async function runCli(sock: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const cli = new Cli();
  const out = sink(), err = sink();
  cli.out = out.w as unknown as NodeJS.WritableStream;
  cli.err = err.w as unknown as NodeJS.WritableStream;
  const program = buildProgram(cli);
  let code = 0;
  try {
    await program.parseAsync(['-H', `unix://${sock}`, ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof StatusError) {
      code = e.status;
      if (e.message) err.w.write(e.message + '\n');
    } else throw e;
  } finally {
    cli.close();
  }
  return { code, out: out.text(), err: err.text() };
}

test('foreground run: create → attach (101) and wait, together → half-close → start; exit code from wait', async () => {
  const d = await fakeDaemon({ exitCode: 3 });
  try {
    const r = await runCli(d.sock, ['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 3);
    assert.equal(r.out, 'hi\n');
    assert.equal(r.err, 'oops\n');
    const order = d.log.filter((l) => !l.startsWith('HEAD') && !l.startsWith('VERSION'));
    const iCreate = order.indexOf('POST /containers/create');
    const iAttach = order.findIndex((l) => l.startsWith('UPGRADE'));
    const iWait = order.findIndex((l) => l.includes('/wait?condition=removed'));
    const iStart = order.findIndex((l) => l.endsWith('/start'));
    // attach and wait go out together (not in docker's strict order); start only after both answered
    assert.ok(iCreate < iAttach && iCreate < iWait && iAttach < iStart && iWait < iStart, order.join('\n'));
    assert.ok(order.indexOf('HALF-CLOSE') >= 0 && order.indexOf('HALF-CLOSE') < iStart, 'stdin half-closed before start');
    // no ping first: the create goes out as 1.44, which the daemon takes
    assert.deepEqual(d.log.slice(0, 2), ['POST /containers/create', 'VERSION 1.44']);
    assert.ok(!d.log.some((l) => l.includes('/_ping')), d.log.join('\n'));
    assert.equal((d.bodies[0] as { HostConfig: { AutoRemove: boolean } }).HostConfig.AutoRemove, true);
  } finally {
    await d.close();
  }
});

test('detached run registers next-exit wait, starts, prints the ID', async () => {
  const d = await fakeDaemon();
  try {
    const r = await runCli(d.sock, ['run', '-d', '--name', 'web', 'busybox', 'sleep', '9']);
    assert.equal(r.code, 0);
    assert.equal(r.out, ID + '\n');
    const order = d.log.filter((l) => !l.startsWith('HEAD') && !l.startsWith('VERSION'));
    assert.deepEqual(order, ['POST /containers/create?name=web', `POST /containers/${ID}/wait?condition=next-exit`, `POST /containers/${ID}/start`]);
  } finally {
    await d.close();
  }
});

test('start errors map to 127/126/125', async () => {
  for (const [msg, code] of [
    ['exec: "nonexistentcmd": executable file not found in $PATH: unknown', 127],
    ['exec: "/etc": permission denied: unknown', 126],
    ['something else', 125],
  ] as const) {
    const d = await fakeDaemon({ startError: msg });
    try {
      const r = await runCli(d.sock, ['run', 'busybox', 'x']);
      assert.equal(r.code, code);
      assert.match(r.err, new RegExp(`berth: Error response from daemon: .*\\n\\nRun 'berth run --help' for more information`));
    } finally {
      await d.close();
    }
  }
});

test('create errors exit 125 with the daemon message', async () => {
  const d = await fakeDaemon({ createStatus: 500 });
  try {
    const r = await runCli(d.sock, ['run', 'busybox']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^berth: Error response from daemon: No such image: nope:latest/);
  } finally {
    await d.close();
  }
});

test('API version negotiation uses min(1.44, server)', async () => {
  const d = await fakeDaemon();
  try {
    await runCli(d.sock, ['run', '-d', 'busybox']);
    // the fake advertises 1.45: paths must use /v1.44
    const cli = new Cli();
    cli.global = { host: `unix://${d.sock}` };
    assert.equal(await cli.client.apiVersion(), '1.44');
    cli.close();
  } finally {
    await d.close();
  }
});

test('a daemon older than 1.44 refuses the first request as too new: the client pings, then sends it again at its version', async () => {
  const d = await fakeDaemon({ maxVersion: '1.41', exitCode: 0 });
  try {
    const r = await runCli(d.sock, ['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'hi\n');
    const creates = d.log.filter((l) => l === 'POST /containers/create');
    assert.equal(creates.length, 2, d.log.join('\n'));
    assert.deepEqual(d.log.slice(0, 4), ['POST /containers/create', 'TOO-NEW 1.44', 'HEAD /_ping', 'POST /containers/create']);
    // everything after speaks the daemon's version
    assert.deepEqual([...new Set(d.log.filter((l) => l.startsWith('VERSION')))], ['VERSION 1.41']);
    assert.equal(d.bodies.length, 1, 'the refused create made nothing');
  } finally {
    await d.close();
  }
});
