// The client's own HTTP/1.1 (src/client/transport.ts) against Node's HTTP server and against raw
// servers that send what Node's server never does (split heads, trailers, early closes).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { readBody as readAll, Transport } from '../../src/client/transport';

let dir: string;
let server: http.Server;
let sock: string;
/** connections the HTTP server accepted */
let accepted = 0;
/** hijacked sockets: the server no longer tracks them, so close() would wait on them forever */
const upgraded = new Set<import('node:stream').Duplex>();


const get = (path: string, extra: Partial<Parameters<Transport['send']>[0]> = {}) =>
  ({ method: 'GET', path, headers: { Host: 'api.moby.localhost' }, ...extra });

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-transport-'));
  sock = path.join(dir, 'http.sock');
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/length') { res.setHeader('Content-Length', '5'); res.end('hello'); return; }
    if (url === '/chunked') { res.write('a'.repeat(10)); setTimeout(() => res.end('b'.repeat(20)), 5); return; }
    if (url === '/empty') { res.statusCode = 204; res.end(); return; }
    if (url === '/error') { res.statusCode = 404; res.statusMessage = 'Not Found'; res.setHeader('Content-Type', 'application/json'); res.end('{"message":"No such container: x"}\n'); return; }
    if (url === '/headers') { res.setHeader('Set-Cookie', ['a=1', 'b=2']); res.setHeader('Api-Version', '1.44'); res.end(JSON.stringify(req.headers)); return; }
    if (url === '/echo') { const c: Buffer[] = []; req.on('data', (d) => c.push(d)); req.on('end', () => res.end(JSON.stringify({ te: req.headers['transfer-encoding'] ?? null, n: Buffer.concat(c).length, sum: Buffer.concat(c).reduce((a, b) => (a + b) % 65521, 0) }))); return; }
    if (url === '/big') { res.end(Buffer.alloc(4 * 1024 * 1024, 7)); return; }
    if (url === '/abort') { res.write('partial'); setTimeout(() => res.socket?.destroy(), 5); return; }
    res.statusCode = 500;
    res.end();
  });
  server.on('connection', () => { accepted++; });
  // attach's 101: the raw stream follows the head on the same connection
  server.on('upgrade', (_req, socket, head) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly');
    socket.on('data', (d: Buffer) => socket.write(`echo:${d}`));
    if (head.length) socket.write(`head:${head}`);
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  for (const s of upgraded) s.destroy();
  await closed;
});

test('Content-Length, chunked and empty bodies; sequential requests share one connection', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const before = accepted;
  const a = await t.send(get('/length'));
  assert.equal(a.statusCode, 200);
  assert.equal((await readAll(a)).toString(), 'hello');
  const b = await t.send(get('/chunked'));
  assert.equal(b.headers['transfer-encoding'], 'chunked');
  assert.equal((await readAll(b)).toString(), 'a'.repeat(10) + 'b'.repeat(20));
  const c = await t.send(get('/empty'));
  assert.equal(c.statusCode, 204);
  assert.equal((await readAll(c)).length, 0);
  const h = await t.send({ ...get('/length'), method: 'HEAD' });
  assert.equal(h.headers['content-length'], '5');
  assert.equal((await readAll(h)).length, 0);
  assert.equal(accepted - before, 1, 'one keep-alive connection for all four');
  t.destroy();
});

test('dedicated requests get connections of their own; concurrent requests do not share one', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const before = accepted;
  const [x, y] = await Promise.all([t.send(get('/length')), t.send(get('/length', { dedicated: true }))]);
  assert.deepEqual([(await readAll(x)).toString(), (await readAll(y)).toString()], ['hello', 'hello']);
  assert.equal(accepted - before, 2);
  t.destroy();
});

test('status line, error body and headers as Node gives them', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const e = await t.send(get('/error'));
  assert.equal(e.statusCode, 404);
  assert.equal(e.statusMessage, 'Not Found');
  assert.equal(e.headers['content-type'], 'application/json');
  assert.match((await readAll(e)).toString(), /No such container/);
  const h = await t.send(get('/headers', { headers: { Host: 'api.moby.localhost', 'User-Agent': 'Berth-Client/test', 'X-Registry-Auth': 'e30=' } }));
  assert.deepEqual(h.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(h.headers['api-version'], '1.44');
  const sent = JSON.parse((await readAll(h)).toString());
  assert.equal(sent.host, 'api.moby.localhost');
  assert.equal(sent['user-agent'], 'Berth-Client/test');
  assert.equal(sent['x-registry-auth'], 'e30=');
  t.destroy();
});

test('request bodies: a Buffer with Content-Length, a stream chunked', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const body = Buffer.from('{"Image":"busybox"}\n');
  const a = await t.send({ method: 'POST', path: '/echo', headers: { Host: 'api.moby.localhost', 'Content-Length': String(body.length), 'Content-Type': 'application/json' }, body });
  assert.deepEqual(JSON.parse((await readAll(a)).toString()), { te: null, n: body.length, sum: body.reduce((s, v) => (s + v) % 65521, 0) });
  const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
  const all = Buffer.concat(parts);
  const b = await t.send({ method: 'POST', path: '/echo', headers: { Host: 'api.moby.localhost', 'Transfer-Encoding': 'chunked' }, body: Readable.from(parts) });
  assert.deepEqual(JSON.parse((await readAll(b)).toString()), { te: 'chunked', n: all.length, sum: all.reduce((s, v) => (s + v) % 65521, 0) });
  t.destroy();
});

test('a large body arrives whole, read slowly (backpressure), and the connection is reused after it', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const res = await t.send(get('/big'));
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n < 1024 * 1024) await new Promise((r) => setImmediate(r));
  }
  assert.equal(n, 4 * 1024 * 1024);
  const before = accepted;
  assert.equal((await readAll(await t.send(get('/length')))).toString(), 'hello');
  assert.equal(accepted, before, 'the pooled connection served the next request');
  t.destroy();
});

test('upgrade: the 101 hands over the raw connection with the bytes behind the head', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const res = await t.send({ method: 'POST', path: '/containers/x/attach?stream=1', headers: { Host: 'api.moby.localhost', 'Content-Length': '0', Connection: 'Upgrade', Upgrade: 'tcp' } });
  assert.equal(res.statusCode, 101);
  assert.equal(res.headers['content-type'], 'application/vnd.docker.raw-stream');
  assert.equal(res.head?.toString(), 'early');
  const socket = res.socket!;
  const got = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
  socket.write('ping');
  assert.equal(await got, 'echo:ping');
  t.destroy();
  assert.ok(!socket.destroyed, 'a hijacked stream is the caller\'s, not closed with the transport');
  socket.destroy();
});

test('errors: no socket, a reset before the response, a body cut short', async () => {
  const missing = new Transport({ kind: 'unix', socketPath: path.join(dir, 'nothing.sock'), url: 'unix:///nothing' });
  await assert.rejects(missing.send(get('/')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  const rawSock = path.join(dir, 'raw.sock');
  const raw = net.createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => raw.listen(rawSock, r));
  const t = new Transport({ kind: 'unix', socketPath: rawSock, url: `unix://${rawSock}` });
  await assert.rejects(t.send(get('/')), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
  await new Promise<void>((r) => raw.close(() => r()));
  const u = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const res = await u.send(get('/abort'));
  await assert.rejects(readAll(res), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' && e.message === 'aborted');
  u.destroy();
});

test('a head split across reads, chunk extensions and trailers, a body to EOF', async () => {
  const rawSock = path.join(dir, 'raw2.sock');
  const raw = net.createServer((s) => {
    s.once('data', (d: Buffer) => {
      const wanted = d.toString().split(' ')[1];
      const pieces = wanted === '/eof'
        ? ['HTTP/1.1 200 OK\r\nConn', 'ection: close\r\n\r\nuntil ', 'the end']
        : ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r', '\n\r\n3;ext=1\r\nabc\r', '\n0\r\nX-Trailer: 1\r\n\r\n'];
      let i = 0;
      const next = () => { if (i < pieces.length) { s.write(pieces[i++]); setTimeout(next, 5); } else if (wanted === '/eof') s.end(); };
      next();
    });
  });
  await new Promise<void>((r) => raw.listen(rawSock, r));
  const t = new Transport({ kind: 'unix', socketPath: rawSock, url: `unix://${rawSock}` });
  assert.equal((await readAll(await t.send(get('/chunk')))).toString(), 'abc');
  assert.equal((await readAll(await t.send(get('/eof', { dedicated: true })))).toString(), 'until the end');
  t.destroy();
  await new Promise<void>((r) => raw.close(() => r()));
});

test('idle pooled connections do not hold the process open; destroy closes the busy ones', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const a = await t.send(get('/length'));
  await readAll(a);
  assert.equal((a.socket as net.Socket & { _handle?: { hasRef(): boolean } })._handle?.hasRef(), false);
  const busy = await t.send(get('/chunked', { dedicated: true }));
  const ended = readAll(busy).then(() => 'ended', () => 'aborted');
  t.destroy();
  assert.ok(['ended', 'aborted'].includes(await ended));
  assert.ok(busy.socket?.destroyed);
});

test('preconnect: spare connections, unref\'d while spare, taken by the next requests (dedicated, pooled, upgrade) before any new one', async () => {
  const t = new Transport({ kind: 'unix', socketPath: sock, url: `unix://${sock}` });
  const before = accepted;
  t.preconnect(2);
  t.preconnect(2); // already two spare: none more
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(accepted - before, 2);
  const opened = accepted;
  const up = await t.send({ method: 'POST', path: '/attach', headers: { Host: 'api.moby.localhost', Connection: 'Upgrade', Upgrade: 'tcp' } });
  assert.equal(up.statusCode, 101);
  const [x, y] = await Promise.all([t.send(get('/length', { dedicated: true })), t.send(get('/length'))]);
  assert.deepEqual([(await readAll(x)).toString(), (await readAll(y)).toString()], ['hello', 'hello']);
  assert.equal(accepted - opened, 1, 'the upgrade and the dedicated request took the spare ones; only the third connected');
  up.socket?.destroy();
  // a spare connection does not hold the process open, and destroy closes it
  t.preconnect(1);
  const spare = [...(t as unknown as { live: Set<net.Socket> }).live].find((s) => !s.destroyed && s !== x.socket && s !== y.socket);
  assert.equal((spare as net.Socket & { _handle?: { hasRef(): boolean } } | undefined)?._handle?.hasRef(), false);
  t.destroy();
  assert.ok(spare?.destroyed);
});
