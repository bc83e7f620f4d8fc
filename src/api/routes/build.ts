// Build, commit and diff routes: POST /build (the classic builder's JSON stream), POST /commit,
// GET /containers/{id}/changes.
import { parseJson, readBody } from '../body';
import { sendJson } from '../respond';
import { queryBool, type Router } from '../router';
import { commitContainer, containerChanges, type CommitDeps } from '../../engine/build/commit';
import { InvalidParameterError } from '../../lib/errors';

export interface BuildRouteDeps extends CommitDeps {}

export function registerBuildRoutes(r: Router, deps: BuildRouteDeps): void {
  r.post('/commit', async (ctx) => {
    const q = ctx.query;
    const container = q.get('container');
    if (!container) throw new InvalidParameterError('container is required');
    // The CLI sends no body (or `null`) unless it has a config to base the image on.
    const raw = await readBody(ctx.req);
    const body = ['', 'null'].includes(raw.toString('utf8').trim()) ? null : parseJson<Record<string, unknown>>(raw);
    const img = await commitContainer(deps, container, {
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      comment: q.get('comment') || undefined,
      author: q.get('author') || undefined,
      changes: q.getAll('changes'),
      pause: q.has('pause') ? queryBool(q, 'pause') : true,
      config: body,
    });
    sendJson(ctx.res, 201, { Id: img.id });
  });

  r.get('/containers/:id/changes', async (ctx) => {
    const changes = await containerChanges(deps, ctx.params.id);
    sendJson(ctx.res, 200, changes.map((c) => ({ Path: c.path, Kind: c.kind })));
  });
}
