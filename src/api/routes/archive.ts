// docker cp and docker export: a container's files as tar streams, both ways.
import { PassThrough, type Readable } from 'node:stream';
import type { ContainerService } from '../../engine/containers/ContainerService';
import type { PathStat } from '../../engine/containers/archive';
import { sendEmpty } from '../respond';
import { queryBool, type RequestContext, type Router } from '../router';

/** X-Docker-Container-Path-Stat: base64 (standard, padded) of the stat's JSON. */
export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';
export function pathStatHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget })).toString('base64');
}

function sendTar(ctx: RequestContext, stream: Readable, headers: Record<string, string> = {}): Promise<void> {
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  return new Promise<void>((resolve) => {
    stream.on('error', () => { ctx.res.destroy(); resolve(); });
    ctx.res.on('close', () => { stream.destroy(); resolve(); });
    stream.on('end', () => resolve());
    stream.pipe(ctx.res);
  });
}

export function registerArchiveRoutes(r: Router, svc: ContainerService): void {
  r.head('/containers/:id/archive', async (ctx) => {
    const stat = await svc.statPath(ctx.params.id, ctx.query.get('path'));
    ctx.res.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Length': '0' });
    ctx.res.end();
  });

  r.get('/containers/:id/archive', async (ctx) => {
    const { stat, stream } = await svc.getArchive(ctx.params.id, ctx.query.get('path'));
    await sendTar(ctx, stream, { [PATH_STAT_HEADER]: pathStatHeader(stat) });
  });

  r.put('/containers/:id/archive', async (ctx) => {
    // The reader may stop early (a refused entry): the rest of the body is drained, so that
    // the error still reaches the client on this connection.
    const body = new PassThrough();
    ctx.req.pipe(body);
    try {
      await svc.putArchive(ctx.params.id, ctx.query.get('path'), body, {
        noOverwriteDirNonDir: queryBool(ctx.query, 'noOverwriteDirNonDir'),
        copyUIDGID: queryBool(ctx.query, 'copyUIDGID'),
      });
    } catch (e) {
      ctx.req.unpipe(body);
      ctx.req.resume();
      throw e;
    }
    sendEmpty(ctx.res, 200);
  });

  r.get('/containers/:id/export', async (ctx) => {
    await sendTar(ctx, await svc.export(ctx.params.id));
  });
}
