// What the engine keeps per container is dropped when the container goes: after create / start /
// exec / logs / restart policy / health / remove cycles driven by the real docker CLI, no string
// reachable from the Engine names a removed container (Map and Set entries, object keys and
// values, arrays), and no EventEmitter has gained listeners. berthd runs in this test's process
// (the daemon's own main wiring: options, Engine.open, router, server) so that its objects can be
// walked; the only thing allowed to remember a container is the event history, a bounded ring.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { buildRouter } from '../../src/api/app';
import { createApiServer } from '../../src/api/server';
import { listenUnix } from '../../src/daemon/listen';
import { parseDaemonOptions } from '../../src/daemon/options';
import { Engine } from '../../src/engine/Engine';
import { setLogLevel } from '../../src/lib/log';
import { cleanupRoot, networkArgs, runCmd, TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
let engine: Engine;
let server: http.Server;

before(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-'));
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({ 'cgroup-parent': `/berth-test-${path.basename(root)}` }));
  d = new TestDaemon(root); // not started: used for its paths, request() and ensureBusybox()
  const opts = parseDaemonOptions(['--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', d.host, '--config-file', path.join(root, 'daemon.json'), ...networkArgs(root)]);
  setLogLevel('error');
  fs.mkdirSync(opts.dataRoot, { recursive: true, mode: 0o711 });
  engine = await Engine.open(opts);
  server = createApiServer(buildRouter(engine));
  await listenUnix(server, d.socket);
  await d.ensureBusybox();
});

after(async () => {
  server?.close();
  server?.closeAllConnections();
  await engine?.shutdown();
  await cleanupRoot(d.root);
});

async function docker(...args: string[]): Promise<string> {
  const r = await runCmd('docker', args, d.env, { timeout: 120_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Every place under the engine where a string contains one of `needles` (paths like engine.containers.locks<key>). */
function mentions(needles: string[]): string[] {
  const found: string[] = [];
  // The bounded ring behind `docker events --since` remembers containers by design.
  const seen = new Set<object>([Reflect.get(engine.events, 'history') as object]);
  const stack: [unknown, string][] = [[engine, 'engine']];
  const check = (s: string, where: string) => { if (needles.some((n) => s.includes(n))) found.push(where); };
  while (stack.length > 0) {
    const [v, where] = stack.pop()!;
    if (typeof v === 'string') { check(v, where); continue; }
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) continue;
    if (v instanceof Map) {
      for (const [k, x] of v) {
        if (typeof k === 'string') check(k, `${where}<${k}>`);
        else stack.push([k, `${where}<key>`]);
        stack.push([x, `${where}<${String(k)}>`]);
      }
      continue;
    }
    if (v instanceof Set) { for (const x of v) stack.push([x, `${where}{}`]); continue; }
    // Own data properties only: a getter may do work (or throw).
    for (const key of Reflect.ownKeys(v)) {
      const name = String(key);
      check(name, `${where}.${name}`);
      const desc = Object.getOwnPropertyDescriptor(v, key);
      if (desc && 'value' in desc) stack.push([desc.value, `${where}.${name}`]);
    }
  }
  return found;
}

/** Listeners on every EventEmitter under the engine, by where it is. */
function listeners(): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[engine, 'engine']];
  while (stack.length > 0) {
    const [v, where] = stack.pop()!;
    if (typeof v !== 'object' || v === null || seen.has(v) || ArrayBuffer.isView(v)) continue;
    seen.add(v);
    if (v instanceof EventEmitter) out.set(where, v.eventNames().reduce((n, e) => n + v.listenerCount(e), 0));
    const entries: [string, unknown][] = v instanceof Map ? [...v].map(([k, x]) => [`<${String(k)}>`, x])
      : v instanceof Set ? [...v].map((x) => ['{}', x])
      : Reflect.ownKeys(v).flatMap((k) => { const p = Object.getOwnPropertyDescriptor(v, k); return p && 'value' in p ? [[`.${String(k)}`, p.value]] : []; });
    for (const [k, x] of entries) stack.push([x, where + k]);
  }
  return out;
}

/** One of each way a container comes and goes; returns the ids and names it used. */
async function cycle(n: number): Promise<string[]> {
  const used: string[] = [];
  const name = (s: string) => { const x = `state-${s}-${n}-${process.pid}`; used.push(x); return x; };
  // run --rm, attached: attach session, wait, auto-remove through the supervisor.
  const cidfile = path.join(d.root, `cid-${n}`);
  await docker('run', '--rm', '--cidfile', cidfile, '--name', name('rm'), '--network', 'none', 'busybox', 'true');
  used.push(fs.readFileSync(cidfile, 'utf8').trim());
  fs.rmSync(cidfile);
  // create + rm, never started.
  used.push(await docker('create', '--name', name('created'), '--network', 'none', 'busybox', 'true'));
  await docker('rm', used.at(-1)!);
  // detached, with exec, logs and a health check; stop, then rm.
  const id = await docker('run', '-d', '--name', name('exec'), '--network', 'none', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sh', '-c', 'echo hi; sleep 100');
  used.push(id);
  assert.equal(await docker('exec', id, 'echo', 'in'), 'in');
  assert.equal(await docker('logs', id), 'hi');
  await docker('stop', '-t', '1', id);
  await docker('rm', id);
  // restart policy: exits twice, restarted with back-off, then given up; removed.
  const r = await docker('run', '-d', '--name', name('restart'), '--network', 'none', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'exit 3');
  used.push(r);
  for (let i = 0; (await docker('inspect', '-f', '{{.RestartCount}} {{.State.Status}}', r)) !== '1 exited'; i++) {
    assert.ok(i < 600, 'the restart policy never gave up');
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await docker('rm', r);
  // restart policy always: force-removed while it runs or waits out its back-off.
  used.push(await docker('run', '-d', '--name', name('always'), '--network', 'none', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 3'));
  await new Promise((ok) => setTimeout(ok, 300));
  await docker('rm', '-f', used.at(-1)!);
  // force-removed while running.
  used.push(await docker('run', '-d', '--name', name('forced'), '--network', 'none', 'busybox', 'sleep', '100'));
  await docker('rm', '-f', used.at(-1)!);
  return used;
}

test('after containers come and go, nothing under the engine names them', async () => {
  await cycle(0); // warm-up: whatever is made once per daemon is made now
  const before = listeners();
  const gone: string[] = [];
  for (let n = 1; n <= 3; n++) gone.push(...await cycle(n));
  assert.equal(await docker('ps', '-aq'), '');
  assert.deepEqual(mentions(gone), []);
  const grown = [...listeners()].filter(([where, count]) => count > (before.get(where) ?? 0));
  assert.deepEqual(grown, []);
});
