// berthd: parse options, take the PID file, listen, then open the engine (load the records,
// re-adopt what runs, reconcile) behind the listeners: /_ping answers from the first moment,
// every other request waits until the engine is ready (startup.ts).
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { createApiServer } from '../api/server';
import type { Engine } from '../engine/Engine';
import { log, setLogLevel } from '../lib/log';
import { spanChannel, type SpanMessage } from '../lib/trace';
import { listenTcp, listenUnix } from './listen';
import { parseDaemonOptions, type DaemonOptions } from './options';
import { claimPidfile, releasePidfile } from './pidfile';
import { openDataRootForRemap, resolveRemap } from '../engine/usernsRemap';
import { DAEMON_READY } from './readyChannel';
import { StartupRoutes } from './startup';

/**
 * The engine and the API's routes, required only once the listeners are up: most of berthd's
 * code is theirs, and loading it is most of a start.
 */
async function openEngine(opts: DaemonOptions): Promise<{ engine: Engine; router: import('../api/router').Router }> {
  const { Engine } = require('../engine/Engine') as typeof import('../engine/Engine');
  const { buildRouter } = require('../api/app') as typeof import('../api/app');
  const engine = await Engine.open(opts);
  return { engine, router: buildRouter(engine) };
}

/** Since the process started: wall and CPU milliseconds (a start's cost, in the log). */
function processClock(): { uptime_ms: number; cpu_ms: number } {
  const cpu = process.cpuUsage();
  return { uptime_ms: Math.round(process.uptime() * 1000), cpu_ms: Math.round((cpu.user + cpu.system) / 1000) };
}

function unixSocketPaths(opts: DaemonOptions): string[] {
  return opts.hosts.filter((h) => h.startsWith('unix://')).map((h) => h.slice('unix://'.length));
}

async function main(): Promise<void> {
  let opts: DaemonOptions;
  try {
    opts = parseDaemonOptions(process.argv.slice(2));
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    if (!err.code?.startsWith('commander.')) process.stderr.write(`berthd: ${err.message}\n`);
    process.exit(err.exitCode ?? 1);
  }
  setLogLevel(opts.logLevel);
  if (opts.logLevel === 'debug') {
    spanChannel.subscribe((m) => { const s = m as SpanMessage; log.debug('span', { name: s.name, id: s.id?.slice(0, 12), ms: Number(s.ms.toFixed(2)) }); });
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('berthd needs to be started with root privileges\n');
    process.exit(1);
  }
  fs.mkdirSync(opts.dataRoot, { recursive: true, mode: 0o711 });
  fs.mkdirSync(opts.execRoot, { recursive: true, mode: 0o700 });
  claimPidfile(opts.pidfile);
  process.on('exit', () => releasePidfile(opts.pidfile));
  const started = Date.now();
  try {
    opts.remap = await resolveRemap(opts.usernsRemap);
    if (opts.remap) openDataRootForRemap(opts.dataRoot, opts.remap);
  } catch (e) {
    process.stderr.write(`berthd: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const routes = new StartupRoutes();
  const servers: http.Server[] = [];
  for (const host of opts.hosts) {
    if (host.startsWith('unix://')) {
      const server = createApiServer(routes);
      await listenUnix(server, host.slice('unix://'.length), opts.socketGroup);
      servers.push(server);
    } else {
      const tls = opts.tls!;
      const server = createApiServer(routes, { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) });
      await listenTcp(server, host);
      servers.push(server);
    }
    log.info('API listen on ' + host);
  }
  log.debug('listening', processClock());
  const opened = openEngine(opts);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`processing signal '${signal}'`);
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
    // A signal during the start: the engine finishes opening (what reconcile repairs is never
    // left half done), then stops as usual.
    const engine = await opened.then((o) => o.engine, () => undefined);
    await engine?.shutdown().catch((e) => log.error('shutdown failed', { error: String(e) }));
    for (const file of unixSocketPaths(opts)) fs.rmSync(file, { force: true });
    releasePidfile(opts.pidfile);
    log.info('daemon shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => log.info('SIGHUP received: configuration reload is not supported yet'));

  let engine: Engine;
  try {
    const o = await opened;
    engine = o.engine;
    routes.ready(o.router);
  } catch (e) {
    routes.failed(e);
    for (const file of unixSocketPaths(opts)) fs.rmSync(file, { force: true });
    throw e;
  }
  log.info('daemon has completed initialization', { ms: Date.now() - started, containers: engine.containers.store.all().length, ...processClock() });
  dc.channel(DAEMON_READY).publish(undefined);
}

process.on('unhandledRejection', (e) => log.error('unhandled rejection', { error: String((e as Error)?.stack ?? e) }));
main().catch((e) => {
  process.stderr.write(`berthd: ${(e as Error).message}\n`);
  process.exit(1);
});
