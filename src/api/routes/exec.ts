// Exec routes: create, start (hijacked, or detached), resize, inspect.
import type { Duplex } from 'node:stream';
import { InvalidParameterError, SystemError } from '../../lib/errors';
import type { ExecCreateRequest, ExecService } from '../../engine/exec/ExecService';
import { collect, parseJson, readJson, tooLarge } from '../body';
import { sendEmpty, sendJson } from '../respond';
import { queryInt, type RequestContext, type Router } from '../router';
import { hijack } from '../server';
import { pipeStdin } from '../stdin';
import { execDetachKeys } from '../../engine/containers/detachKeys';
import { MULTIPLEXED_STREAM, RAW_STREAM, frame } from '../stdcopy';
import { versionAtLeast } from '../version';
import { execInspectView } from '../views/exec';
import { spanSince } from '../../lib/trace';

interface ExecStartRequest { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }

const MAX_EXEC_START_BODY = 1024 * 1024;

/** On a hijacked request the JSON body arrived with the upgrade: Content-Length bytes of it. */
async function upgradeBody(ctx: RequestContext): Promise<{ body: Buffer; rest: Buffer }> {
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isInteger(len) || len < 0) throw new InvalidParameterError('invalid Content-Length');
  if (len > MAX_EXEC_START_BODY) throw tooLarge(MAX_EXEC_START_BODY);
  // Collection stops at the first chunk that completes the body: the limit is never the stop.
  const all = await collect(ctx.upgrade!.socket, { limit: Number.MAX_SAFE_INTEGER, want: len, initial: ctx.upgrade!.head });
  return { body: all.subarray(0, len), rest: all.subarray(len) };
}

export function registerExecRoutes(r: Router, svc: ExecService): void {
  r.post('/containers/:id/exec', async (ctx) => {
    const body = await readJson<ExecCreateRequest>(ctx.req, { allowEmpty: false });
    if (body && typeof body === 'object') execDetachKeys(body.DetachKeys);
    sendJson(ctx.res, 201, svc.create(ctx.params.id, body));
  });

  r.get('/exec/:id/json', (ctx) => {
    sendJson(ctx.res, 200, execInspectView(svc.get(ctx.params.id)));
  });

  r.post('/exec/:id/resize', async (ctx) => {
    const h = queryInt(ctx.query, 'h') ?? 0;
    const w = queryInt(ctx.query, 'w') ?? 0;
    if (h < 0 || w < 0) throw new InvalidParameterError('invalid resize dimensions');
    await svc.resize(ctx.params.id, h, w);
    sendEmpty(ctx.res, 200);
  });

  r.post('/exec/:id/start', async (ctx) => {
    let body: ExecStartRequest;
    let rest: Buffer = Buffer.alloc(0);
    if (ctx.upgrade) {
      const b = await upgradeBody(ctx);
      body = parseJson<ExecStartRequest>(b.body);
      rest = b.rest;
    } else {
      body = await readJson<ExecStartRequest>(ctx.req);
    }
    const rec = svc.get(ctx.params.id);
    // As Docker: the start request's Tty decides the framing (multiplexed or raw); the exec's
    // own Tty (from create) decides whether the process gets a terminal.
    const tty = !!body.Tty;
    if (body.Detach || !ctx.upgrade) {
      const run = svc.start(rec.ID, { attach: false, consoleSize: body.ConsoleSize });
      // Docker answers once the process runs (or could not start).
      const err = await run.started.then(() => undefined, (e: Error) => e);
      if (err) {
        const m = err.message;
        throw /executable file not found|no such file or directory|permission denied/.test(m) ? new InvalidParameterError(m) : new SystemError(m);
      }
      // A non-detached start without an upgrade: wait for the end, no stream to show it.
      if (!body.Detach) await run.done;
      sendEmpty(ctx.res, 200);
      return;
    }
    const t0 = process.hrtime.bigint();
    const run = svc.start(rec.ID, { attach: true, consoleSize: body.ConsoleSize });
    const sock: Duplex = hijack(ctx, !tty && versionAtLeast(ctx.apiVersion, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM);
    let waiting = false; // one drain listener however many chunks were already in flight
    const write = (s: 'stdout' | 'stderr', b: Buffer) => {
      if (sock.writableEnded || sock.destroyed) return;
      // A full socket pauses the process's output until the client catches up.
      if (!sock.write(tty ? b : frame(s, b)) && !waiting) {
        waiting = true;
        run.pause();
        sock.once('drain', () => { waiting = false; run.resume(); });
      }
    };
    if (rec.OpenStdout) run.on('stdout', (b: Buffer) => write('stdout', b));
    if (rec.OpenStderr) run.on('stderr', (b: Buffer) => write('stderr', b));
    run.once('end', () => {
      void (async () => {
        const err = await run.started.then(() => undefined, (e: Error) => e);
        if (err) write('stdout', Buffer.from(`${err.message}\r\n`));
        await run.done; // the exit code is recorded before the client sees EOF
        if (!sock.writableEnded && !sock.destroyed) sock.end();
        spanSince('exec.session', rec.ID, t0);
      })();
    });
    // Half-close from the client: no more stdin; the output keeps flowing. On the exec's TTY the
    // detach keys end this client's stream and the process runs on.
    const detach = rec.Config.Tty && rec.OpenStdin
      ? { keys: execDetachKeys(rec.DetachKeys), onDetach: () => {
        run.close();
        svc.detached(rec.ID);
      } }
      : undefined;
    pipeStdin(sock, run, detach, rest);
    sock.on('close', () => run.close());
    sock.on('error', () => run.close());
    sock.resume();
  });
}
