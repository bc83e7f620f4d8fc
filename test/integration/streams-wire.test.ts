// Hijacked streams at the wire level, as clients other than the docker CLI drive them: exec
// start framing follows the start request's Tty; detach keys (default, custom, bad) on attach
// and exec; LogConfig with an empty Type.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { startDaemon, useDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
useDaemon((x) => { d = x; });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}\n--- berthd stderr (tail):\n${d.stderr.slice(-1500)}`);
    await sleep(100);
  }
}

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await d.request('POST', '/v1.44/containers/create', { Image: 'busybox', ...body });
  assert.equal(r.status, 201, r.body.toString());
  return r.json().Id;
}

async function startRunning(body: Record<string, unknown>): Promise<string> {
  const id = await create(body);
  const r = await d.request('POST', `/v1.44/containers/${id}/start`);
  assert.equal(r.status, 204, r.body.toString());
  return id;
}

async function running(id: string): Promise<boolean> {
  return (await d.request('GET', `/v1.44/containers/${id}/json`)).json().State.Running;
}

/** A raw hijacked connection: the response head, then the bytes as they come; `closed` once the daemon ended it. */
class Hijack {
  readonly sock: net.Socket;
  head = '';
  body = Buffer.alloc(0);
  ended = false;
  private raw = Buffer.alloc(0);

  constructor(reqPath: string, json?: unknown) {
    const data = json === undefined ? '' : JSON.stringify(json);
    this.sock = net.connect(d.socket);
    this.sock.on('connect', () => {
      this.sock.write(`POST ${reqPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(data)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${data}`);
    });
    this.sock.on('data', (c: Buffer) => {
      if (this.head) { this.body = Buffer.concat([this.body, c]); return; }
      this.raw = Buffer.concat([this.raw, c]);
      const i = this.raw.indexOf('\r\n\r\n');
      if (i >= 0) {
        this.head = this.raw.subarray(0, i).toString();
        this.body = this.raw.subarray(i + 4);
      }
    });
    this.sock.on('end', () => { this.ended = true; });
    this.sock.on('close', () => { this.ended = true; });
    this.sock.on('error', () => { this.ended = true; });
  }

  async upgraded(): Promise<void> {
    await until('101 from the daemon', () => this.head !== '' || this.ended);
    assert.match(this.head, /^HTTP\/1\.1 101/, this.head || this.raw.toString());
  }

  text(): string { return this.body.toString('latin1'); }
  close(): void { this.sock.destroy(); }
}

/** Docker's stdcopy frames -> [stream, payload] pairs; throws on anything that is not a frame. */
function demux(b: Buffer): { stream: number; data: string }[] {
  const out: { stream: number; data: string }[] = [];
  let i = 0;
  while (i < b.length) {
    assert.ok(i + 8 <= b.length && [1, 2].includes(b[i]) && b[i + 1] === 0 && b[i + 2] === 0 && b[i + 3] === 0, `not a frame at ${i}: ${b.subarray(i, i + 16).toString('hex')}`);
    const n = b.readUInt32BE(i + 4);
    out.push({ stream: b[i], data: b.subarray(i + 8, i + 8 + n).toString() });
    i += 8 + n;
  }
  return out;
}

test('exec start framing follows the start request\'s Tty, not the exec\'s', async () => {
  const id = await startRunning({ Cmd: ['sleep', '300'] });
  try {
    // A TTY exec started without Tty: multiplexed, nothing lost (the TTY turns \n into \r\n).
    const e1 = (await d.request('POST', `/v1.44/containers/${id}/exec`, { Cmd: ['echo', 'hello-tty'], Tty: true, AttachStdout: true, AttachStderr: true })).json().Id;
    const h1 = new Hijack(`/v1.44/exec/${e1}/start`, { Detach: false });
    await h1.upgraded();
    assert.match(h1.head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/i);
    await until('end of the exec stream', () => h1.ended);
    assert.deepEqual(demux(h1.body), [{ stream: 1, data: 'hello-tty\r\n' }]);

    // A non-TTY exec started with Tty: raw, both streams in one.
    const e2 = (await d.request('POST', `/v1.44/containers/${id}/exec`, { Cmd: ['sh', '-c', 'echo out; echo err >&2'], AttachStdout: true, AttachStderr: true })).json().Id;
    const h2 = new Hijack(`/v1.44/exec/${e2}/start`, { Detach: false, Tty: true });
    await h2.upgraded();
    assert.match(h2.head, /Content-Type: application\/vnd\.docker\.raw-stream/i);
    await until('end of the exec stream', () => h2.ended);
    assert.deepEqual(h2.text().split('\n').filter(Boolean).sort(), ['err', 'out']);
  } finally {
    await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
  }
});

test('attach on a TTY: the default keys and detachKeys=… detach the client; the container runs on', async () => {
  // Output keeps coming from a background loop; stdin goes to cat (echoed by the TTY too).
  const id = await startRunning({ Tty: true, OpenStdin: true, Cmd: ['sh', '-c', 'i=0; (while :; do i=$((i+1)); echo tick$i; sleep 0.2; done) & exec cat'] });
  try {
    for (const [query, keys] of [['', '\x10\x11'], ['&detachKeys=ctrl-x,x', '\x18x'], ['&detachKeys=ctrl-%5C,z', '\x1cz']] as const) {
      const h = new Hijack(`/v1.44/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1${query}`);
      await h.upgraded();
      const mark = `mark${Math.floor(Math.random() * 1e6)}`;
      h.sock.write(`${mark}\r`);
      await until(`${mark} comes back`, () => h.text().includes(mark));
      // the first key alone is held, then the rest of the sequence detaches
      h.sock.write(keys.slice(0, 1));
      await sleep(300);
      assert.equal(h.ended, false, 'a prefix of the sequence does not detach');
      h.sock.write(keys.slice(1));
      await until(`the daemon closes the connection (${query || 'default keys'})`, () => h.ended);
      h.close();
      assert.equal(await running(id), true, 'still running after detach');
    }
    // Its output goes on in the logs after the last detach.
    const ticks = async () => Math.max(0, ...[...(await d.request('GET', `/v1.44/containers/${id}/logs?stdout=1`)).body.toString().matchAll(/tick(\d+)/g)].map((m) => Number(m[1])));
    const before = await ticks();
    await until('more ticks in the logs', async () => (await ticks()) >= before + 3);
    // A broken prefix is forwarded as typed and does not detach.
    const h = new Hijack(`/v1.44/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
    await h.upgraded();
    h.sock.write('\x10zz-after-prefix\r');
    await until('the typed bytes come back', () => h.text().includes('zz-after-prefix'));
    assert.equal(h.ended, false);
    h.close();
  } finally {
    await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
  }
});

test('attach without a TTY passes the key bytes through (Docker watches only TTYs)', async () => {
  const id = await startRunning({ OpenStdin: true, StdinOnce: true, Cmd: ['sh', '-c', 'od -An -c'] });
  try {
    const h = new Hijack(`/v1.44/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
    await h.upgraded();
    h.sock.write('\x10\x11ok\n');
    h.sock.end(); // stdin EOF: od prints what it read
    await until('od output', () => h.ended);
    const out = demux(h.body).map((f) => f.data).join('');
    assert.match(out, /020\s+021\s+o\s+k\s+\\n/);
  } finally {
    await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
  }
});

test('exec on a TTY: DetachKeys of the exec detach the client; the process runs on', async () => {
  const id = await startRunning({ Cmd: ['sleep', '300'] });
  try {
    for (const keys of [undefined, 'ctrl-e,e']) {
      const r = await d.request('POST', `/v1.44/containers/${id}/exec`, {
        Cmd: ['sh'], Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, ...(keys ? { DetachKeys: keys } : {}),
      });
      assert.equal(r.status, 201, r.body.toString());
      const e = r.json().Id;
      const h = new Hijack(`/v1.44/exec/${e}/start`, { Detach: false, Tty: true });
      await h.upgraded();
      h.sock.write('echo in-$((6*7))\r');
      await until('the shell answers', () => h.text().includes('in-42'));
      h.sock.write(keys ? '\x05e' : '\x10\x11');
      await until('the daemon closes the exec stream', () => h.ended);
      h.close();
      await sleep(300);
      const ins = (await d.request('GET', `/v1.44/exec/${e}/json`)).json();
      assert.equal(ins.Running, true, 'the exec process runs on');
      assert.equal(ins.DetachKeys, keys ?? '');
    }
  } finally {
    await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
  }
});

test('bad detach keys: 400 with Docker\'s messages', async () => {
  const id = await startRunning({ Tty: true, OpenStdin: true, Cmd: ['cat'] });
  try {
    const a = await d.request('POST', `/v1.44/containers/${id}/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-P`);
    assert.equal(a.status, 400);
    assert.deepEqual(a.json(), { message: 'Invalid detach keys (ctrl-P) provided' });
    const e = await d.request('POST', `/v1.44/containers/${id}/exec`, { Cmd: ['true'], DetachKeys: 'foo' });
    assert.equal(e.status, 400);
    assert.deepEqual(e.json(), { message: 'Invalid escape keys (foo) provided' });
  } finally {
    await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
  }
});

test('LogConfig with an empty Type is the daemon\'s default driver, with its options', async () => {
  const d2 = await startDaemon();
  try {
    await d2.stopDaemon();
    fs.writeFileSync(path.join(d2.root, 'daemon.json'), JSON.stringify({
      'cgroup-parent': `/berth-test-${path.basename(d2.root)}`, 'log-driver': 'local', 'log-opts': { 'max-file': '3' },
    }));
    await d2.start();
    await d2.ensureBusybox();
    const cases: [unknown, { Type: string; Config: Record<string, string> }][] = [
      [{ Type: '', Config: { 'max-size': '2m' } }, { Type: 'local', Config: { 'max-file': '3', 'max-size': '2m' } }],
      [{ Type: '', Config: null }, { Type: 'local', Config: { 'max-file': '3' } }],
      [{ Type: 'local', Config: { 'max-file': '4' } }, { Type: 'local', Config: { 'max-file': '4' } }],
      // another driver than the default: the daemon's options are not its options
      [{ Type: 'json-file', Config: {} }, { Type: 'json-file', Config: {} }],
    ];
    for (const [given, want] of cases) {
      const r = await d2.request('POST', '/v1.44/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { LogConfig: given } });
      assert.equal(r.status, 201, `${JSON.stringify(given)}: ${r.body}`);
      const ins = (await d2.request('GET', `/v1.44/containers/${r.json().Id}/json`)).json();
      assert.deepEqual(ins.HostConfig.LogConfig, want, JSON.stringify(given));
    }
    const bad = await d2.request('POST', '/v1.44/containers/create', { Image: 'busybox', HostConfig: { LogConfig: { Type: '', Config: { labels: 'x' } } } });
    assert.equal(bad.status, 400);
    assert.match(bad.json().message, /unknown log opt 'labels' for local log driver/);
  } finally {
    await d2.stop();
  }
});
