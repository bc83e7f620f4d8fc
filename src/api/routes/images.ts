// Image routes (Docker Engine API: /images/...). Errors are thrown; api/ maps them to statuses.
import { Router, RequestContext, queryBool } from '../router';
import { sendEmpty, sendJson, startJsonStream, streamError } from '../respond';
import { parseFilters } from '../../lib/filters';
import { errorMessage, InvalidParameterError } from '../../lib/errors';
import type { ImageService } from '../../engine/images/ImageService';
import { imageInspectFor, imageSummaryFor } from '../views/images';
import { decodeRegistryAuth } from '../../distribution/auth';
import { pullRoute } from './distribution';

export function registerImageRoutes(r: Router, images: ImageService): void {
  r.get('/images/json', (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    // Old clients send `filter=<reference>`.
    const legacy = ctx.query.get('filter');
    if (legacy) filters.set('reference', [...(filters.get('reference') ?? []), legacy]);
    const list = images.list({ all: queryBool(ctx.query, 'all'), filters, sharedSize: queryBool(ctx.query, 'shared-size') });
    sendJson(ctx.res, 200, list.map((s) => imageSummaryFor(ctx.apiVersion, s)));
  });

  r.post('/images/create', async (ctx) => {
    const q = ctx.query;
    const fromImage = q.get('fromImage');
    const fromSrc = q.get('fromSrc');
    if (fromImage) return pullRoute(ctx, images);
    if (fromSrc === null) throw new InvalidParameterError('either fromImage or fromSrc must be specified');
    if (fromSrc !== '-') throw new InvalidParameterError(`importing from a URL is not supported: ${fromSrc}`);
    const platform = q.get('platform');
    let plat: { os?: string; architecture?: string; variant?: string } | undefined;
    if (platform) {
      const [os, architecture, variant] = platform.split('/');
      plat = { os, architecture, variant };
    }
    const img = await images.importImage(ctx.req, {
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      changes: q.getAll('changes'),
      message: q.get('message') || undefined,
      source: '-',
      platform: plat,
    });
    const s = startJsonStream(ctx.res, '\r\n');
    s.write({ status: img.id });
    s.end();
  });

  r.get('/images/get', (ctx) => sendArchive(ctx, images, ctx.query.getAll('names')));

  r.post('/images/load', async (ctx) => {
    const quiet = queryBool(ctx.query, 'quiet');
    const s = startJsonStream(ctx.res, '\r\n');
    try {
      await images.load(ctx.req, { quiet, onMessage: (m) => s.write(m) });
    } catch (e) {
      s.write(streamError(errorMessage(e)));
      ctx.req.resume();
    }
    s.end();
  });

  r.post('/images/prune', async (ctx) => {
    sendJson(ctx.res, 200, await images.prune(parseFilters(ctx.query.get('filters'))));
  });

  r.get('/images/:name*/json', (ctx) => {
    sendJson(ctx.res, 200, imageInspectFor(ctx.apiVersion, images.inspect(ctx.params.name)));
  });

  r.get('/images/:name*/history', (ctx) => {
    sendJson(ctx.res, 200, images.history(ctx.params.name));
  });

  r.get('/images/:name*/get', (ctx) => sendArchive(ctx, images, [ctx.params.name]));

  r.post('/images/:name*/push', async (ctx) => {
    // The stream starts with the first message: a failure before it (no such tag) is a plain error.
    let s: ReturnType<typeof startJsonStream> | undefined;
    const aborted = new AbortController();
    ctx.res.on('close', () => { if (!ctx.res.writableEnded) aborted.abort(); });
    try {
      await images.push(ctx.params.name, ctx.query.get('tag') || undefined, {
        creds: decodeRegistryAuth(ctx.req.headers['x-registry-auth'] as string | undefined),
        signal: aborted.signal,
        onMessage: (m) => { s ??= startJsonStream(ctx.res, '\r\n'); s.write(m); },
      });
    } catch (e) {
      if (!s) throw e;
      s.write(streamError(errorMessage(e)));
    }
    s?.end();
  });

  r.post('/images/:name*/tag', async (ctx) => {
    const repo = ctx.query.get('repo');
    if (!repo) throw new InvalidParameterError('repository name (repo) is required');
    await images.tag(ctx.params.name, repo, ctx.query.get('tag') || undefined);
    sendEmpty(ctx.res, 201);
  });

  r.delete('/images/:name*', async (ctx) => {
    sendJson(ctx.res, 200, await images.remove(ctx.params.name, {
      force: queryBool(ctx.query, 'force'),
      noprune: queryBool(ctx.query, 'noprune'),
    }));
  });
}

function sendArchive(ctx: RequestContext, images: ImageService, names: string[]): Promise<void> {
  const stream = images.save(names); // throws (NotFound) before the headers
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  return new Promise<void>((resolve) => {
    stream.on('error', () => { ctx.res.destroy(); resolve(); });
    ctx.res.on('close', () => { stream.destroy(); resolve(); });
    stream.on('end', () => resolve());
    stream.pipe(ctx.res);
  });
}
