// berthd: parse options, take the PID file, build the engine, reconcile, serve the API.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { buildRouter } from '../api/app';
import { createApiServer } from '../api/server';
import { Engine } from '../engine/Engine';
import { log, setLogLevel } from '../lib/log';
import { spanChannel, type SpanMessage } from '../lib/trace';
import { listenTcp, listenUnix } from './listen';
import { parseDaemonOptions, type DaemonOptions } from './options';
import { claimPidfile, releasePidfile } from './pidfile';
import { openDataRootForRemap, resolveRemap } from '../engine/usernsRemap';

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
  const engine = await Engine.open(opts);
  const router = buildRouter(engine);
  const servers: http.Server[] = [];
  for (const host of opts.hosts) {
    if (host.startsWith('unix://')) {
      const server = createApiServer(router);
      await listenUnix(server, host.slice('unix://'.length), opts.socketGroup);
      servers.push(server);
    } else {
      const tls = opts.tls!;
      const server = createApiServer(router, { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) });
      await listenTcp(server, host);
      servers.push(server);
    }
    log.info('API listen on ' + host);
  }
  log.info('daemon has completed initialization', { ms: Date.now() - started, containers: engine.containers.store.all().length });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`processing signal '${signal}'`);
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
    await engine.shutdown().catch((e) => log.error('shutdown failed', { error: String(e) }));
    for (const h of opts.hosts) if (h.startsWith('unix://')) fs.rmSync(h.slice(7), { force: true });
    releasePidfile(opts.pidfile);
    log.info('daemon shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => log.info('SIGHUP received: configuration reload is not supported yet'));
}

process.on('unhandledRejection', (e) => log.error('unhandled rejection', { error: String((e as Error)?.stack ?? e) }));
main().catch((e) => {
  process.stderr.write(`berthd: ${(e as Error).message}\n`);
  process.exit(1);
});
