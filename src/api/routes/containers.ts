// Container routes: one handler per endpoint, thin: parse, call the engine, shape the reply.
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../../lib/errors';
import { parseFilters } from '../../lib/filters';
import type { ContainerService, WaitCondition } from '../../engine/containers/ContainerService';
import type { CreateRequest } from '../../engine/containers/createConfig';
import type { UpdateRequest } from '../../engine/containers/update';
import type { AttachSession } from '../../engine/containers/attach';
import { listContainers, pruneContainers } from '../../engine/containers/list';
import type { LogQuery, LogRecord } from '../../engine/logs/reader';
import type { StatsSample } from '../../engine/containers/stats';
import { containerDetails } from '../../engine/containers/details';
import { readBody, readJson } from '../body';
import { checkCreateBody } from '../goTypes';
import { sendEmpty, sendJson, startJsonStream, untilDrained } from '../respond';
import { queryBool, queryInt, type RequestContext, type Router } from '../router';
import { hijack } from '../server';
import { pipeStdin } from '../stdin';
import { attachDetachKeys } from '../../engine/containers/detachKeys';
import { MULTIPLEXED_STREAM, RAW_STREAM, frame } from '../stdcopy';
import { versionAtLeast } from '../version';
import { containerInspectView, containerPruneView, containerSummaryView } from '../views/containers';
import { statsView } from '../views/stats';

export interface ContainerRouteDeps {
  containers: ContainerService;
  imageId: (ref: string) => Promise<string | undefined>;
  /** Throws unless the image is of the platform (`create?platform=`). */
  checkPlatform: (ref: string, platform: string) => Promise<void>;
}

function streamContentType(ctx: RequestContext, tty: boolean): string {
  return !tty && versionAtLeast(ctx.apiVersion, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
}

function timeoutParam(ctx: RequestContext): number | undefined {
  return queryInt(ctx.query, 't') ?? queryInt(ctx.query, 'timeout');
}

/** Since/until as Unix seconds with optional fraction ("1795547618.123456789"). */
function unixToNs(v: string | null): bigint | undefined {
  if (!v) return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (!m) throw new InvalidParameterError(`invalid time value: ${v}`);
  const ns = BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  return ns === 0n ? undefined : ns;
}

export function registerContainerRoutes(r: Router, deps: ContainerRouteDeps): void {
  const svc = deps.containers;

  r.post('/containers/create', async (ctx) => {
    const body = await readJson<CreateRequest>(ctx.req, { allowEmpty: false });
    checkCreateBody(body);
    const name = ctx.query.get('name') ?? undefined;
    const platform = ctx.query.get('platform');
    if (platform && body && typeof body.Image === 'string' && body.Image) await deps.checkPlatform(body.Image, platform);
    sendJson(ctx.res, 201, await svc.create(name || undefined, body));
  });

  r.get('/containers/json', async (ctx) => {
    const list = await listContainers(svc, {
      all: queryBool(ctx.query, 'all'),
      limit: queryInt(ctx.query, 'limit'),
      size: queryBool(ctx.query, 'size'),
      filters: parseFilters(ctx.query.get('filters')),
      imageId: deps.imageId,
    });
    sendJson(ctx.res, 200, list.map(containerSummaryView));
  });

  r.post('/containers/prune', async (ctx) => {
    sendJson(ctx.res, 200, containerPruneView(await pruneContainers(svc, parseFilters(ctx.query.get('filters')))));
  });

  r.get('/containers/:id/json', async (ctx) => {
    const c = svc.store.get(ctx.params.id);
    sendJson(ctx.res, 200, containerInspectView(await containerDetails(svc, c, queryBool(ctx.query, 'size'))));
  });

  r.post('/containers/:id/start', async (ctx) => {
    attachDetachKeys(ctx.query.get('detachKeys'));
    // A HostConfig on start was dropped in 1.24; Docker refuses any body longer than `{}` padding.
    if ((await readBody(ctx.req)).length > 7) {
      throw new InvalidParameterError('starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24');
    }
    await svc.start(ctx.params.id);
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/stop', async (ctx) => {
    await svc.stop(ctx.params.id, { signal: ctx.query.get('signal') ?? undefined, timeout: timeoutParam(ctx) });
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/restart', async (ctx) => {
    await svc.restart(ctx.params.id, { signal: ctx.query.get('signal') ?? undefined, timeout: timeoutParam(ctx) });
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/kill', async (ctx) => {
    await svc.kill(ctx.params.id, ctx.query.get('signal') || undefined);
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/pause', async (ctx) => {
    await svc.pause(ctx.params.id);
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/unpause', async (ctx) => {
    await svc.unpause(ctx.params.id);
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/rename', async (ctx) => {
    await svc.rename(ctx.params.id, ctx.query.get('name') ?? '');
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/update', async (ctx) => {
    const body = await readJson<UpdateRequest>(ctx.req, { allowEmpty: false });
    sendJson(ctx.res, 200, await svc.update(ctx.params.id, body));
  });

  r.delete('/containers/:id', async (ctx) => {
    await svc.remove(ctx.params.id, { force: queryBool(ctx.query, 'force'), volumes: queryBool(ctx.query, 'v') });
    sendEmpty(ctx.res, 204);
  });

  r.post('/containers/:id/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidParameterError(`invalid condition: "${cond}"`);
    const done = svc.wait(ctx.params.id, cond);
    // Headers now: `docker run` sends start only after it has them.
    const stream = startJsonStream(ctx.res, '\n');
    const info = await done;
    stream.write({ Error: info.error ? { Message: info.error } : null, StatusCode: info.exitCode });
    stream.end();
  });

  r.post('/containers/:id/resize', async (ctx) => {
    const h = queryInt(ctx.query, 'h') ?? 0;
    const w = queryInt(ctx.query, 'w') ?? 0;
    if (h < 0 || w < 0) throw new InvalidParameterError('invalid resize dimensions');
    await svc.resize(ctx.params.id, h, w);
    sendEmpty(ctx.res, 200);
  });

  r.post('/containers/:id/attach', async (ctx) => {
    const q = ctx.query;
    const detachKeys = attachDetachKeys(q.get('detachKeys'));
    const c = svc.store.get(ctx.params.id);
    const stream = queryBool(q, 'stream');
    const logs = queryBool(q, 'logs');
    const opts = { stdin: queryBool(q, 'stdin'), stdout: queryBool(q, 'stdout'), stderr: queryBool(q, 'stderr') };
    const tty = c.Config.Tty;
    const write = (sock: Duplex, s: 'stdout' | 'stderr', b: Buffer): boolean =>
      sock.writableEnded || sock.destroyed ? true : sock.write(tty ? b : frame(s, b));
    /** Output flows at the client's pace: a full socket pauses the container's output. */
    const pipeOutput = (session: AttachSession, sock: Duplex) => {
      let waiting = false; // one drain listener however many chunks were already in flight
      session.on('data', (s: 'stdout' | 'stderr', b: Buffer) => {
        if (!write(sock, s, b) && !waiting) {
          waiting = true;
          session.pause();
          sock.once('drain', () => { waiting = false; session.resume(); });
        }
      });
    };
    if (!ctx.upgrade) {
      // Without an upgrade: output only, as the body of a plain response.
      ctx.res.writeHead(200, { 'Content-Type': streamContentType(ctx, tty) });
      ctx.res.flushHeaders();
      const sock = ctx.res as unknown as Duplex;
      if (logs) await svc.logSnapshot(c.Id, { stdout: opts.stdout, stderr: opts.stderr }, (rec) => write(sock, rec.stream, rec.message));
      if (!stream) return void ctx.res.end();
      const session = await svc.attach(c.Id, { ...opts, stdin: false });
      pipeOutput(session, sock);
      session.on('end', () => ctx.res.end());
      ctx.res.on('close', () => session.close());
      return;
    }
    const sock = hijack(ctx, streamContentType(ctx, tty));
    if (logs) await svc.logSnapshot(c.Id, { stdout: opts.stdout, stderr: opts.stderr }, (rec) => write(sock, rec.stream, rec.message));
    if (!stream) return void sock.end();
    const session = await svc.attach(c.Id, opts);
    pipeOutput(session, sock);
    session.on('end', () => sock.end());
    // On a TTY the detach keys end this client's attach; the container runs on (Docker: TTY only).
    const detach = tty && opts.stdin ? { keys: detachKeys, onDetach: () => { session.close(); svc.publish(c, 'detach'); } } : undefined;
    pipeStdin(sock, session, detach, ctx.upgrade!.head);
    sock.on('close', () => session.close());
    sock.on('error', () => session.close());
  });

  r.get('/containers/:id/logs', async (ctx) => {
    const c = svc.store.get(ctx.params.id);
    const q = ctx.query;
    const query: LogQuery = {
      stdout: queryBool(q, 'stdout'),
      stderr: queryBool(q, 'stderr'),
      sinceNs: unixToNs(q.get('since')),
      untilNs: unixToNs(q.get('until')),
    };
    if (!query.stdout && !query.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const tail = q.get('tail');
    if (tail && tail !== 'all') {
      if (!/^-?\d+$/.test(tail)) throw new InvalidParameterError(`invalid value for tail: ${tail}`);
      if (Number(tail) >= 0) query.tail = Number(tail);
    }
    const read = svc.logReader(c.Id, query);
    const timestamps = queryBool(q, 'timestamps');
    const tty = c.Config.Tty;
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': streamContentType(ctx, tty) });
    res.flushHeaders();
    const emit = (rec: LogRecord) => {
      if (res.writableEnded || res.destroyed) return;
      const payload = timestamps ? Buffer.concat([Buffer.from(rec.time + ' '), rec.message]) : rec.message;
      res.write(tty ? payload : frame(rec.stream, payload));
    };
    // Resolves once the client has taken what was written (or went away).
    const pace = () => untilDrained(res);
    const follow = queryBool(q, 'follow') && c.State.Running && query.untilNs === undefined;
    if (!follow) {
      await read(emit, { pace });
      return void res.end();
    }
    let cancelled = false;
    const cancelHooks: (() => void)[] = [];
    res.on('close', () => { cancelled = true; cancelHooks.forEach((fn) => fn()); });
    await read(emit, {
      follow: { stopped: svc.wait(c.Id, 'not-running'), cancelled: () => cancelled, onCancel: (fn) => cancelHooks.push(fn) },
      pace,
    });
    res.end();
  });

  r.get('/containers/:id/top', async (ctx) => {
    sendJson(ctx.res, 200, await svc.top(ctx.params.id, ctx.query.get('ps_args') ?? '-ef'));
  });

  r.get('/containers/:id/stats', async (ctx) => {
    const c = svc.store.get(ctx.params.id);
    const streaming = queryBool(ctx.query, 'stream', true);
    const oneShot = queryBool(ctx.query, 'one-shot');
    if (!streaming) {
      const first = await svc.stats(c.Id);
      if (oneShot || !c.State.Running) return sendJson(ctx.res, 200, statsView(first));
      await sleep(1000);
      return sendJson(ctx.res, 200, statsView(await svc.stats(c.Id), first));
    }
    const stream = startJsonStream(ctx.res, '\n');
    let prev: StatsSample | undefined;
    while (!stream.closed) {
      const cur = await svc.stats(c.Id).catch(() => undefined);
      if (!cur) break;
      stream.write(statsView(cur, prev));
      prev = cur;
      if (!c.State.Running) break;
      // A client that does not read gets no more samples until it does.
      await Promise.all([sleep(1000), stream.drained()]);
    }
    stream.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
