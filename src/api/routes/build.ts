// Build, commit and diff routes: POST /build (the classic builder's JSON stream), POST /commit,
// GET /containers/{id}/changes.
import { parseJson, readBody } from '../body';
import { sendJson } from '../respond';
import { queryBool, type Router } from '../router';
import { commitContainer, containerChanges, type CommitDeps } from '../../engine/build/commit';
import { errorMessage, InvalidParameterError } from '../../lib/errors';
import { BuildStepError, type BuildOptions, type BuildService } from '../../engine/build/BuildService';
import { shortId } from '../../lib/ids';
import { hostArch, parsePlatform } from '../../engine/images/types';
import { startJsonStream } from '../respond';
import { familiarString } from '../../lib/reference';
import { parseTagTarget } from '../../engine/images/tag';
import { decodeRegistryConfig } from '../../distribution/auth';

export interface BuildRouteDeps extends CommitDeps {
  builds: BuildService;
}

/** Query parameters of POST /build that berth does not apply, with the value that means "not used". */
const REFUSED: Record<string, (v: string) => boolean> = {
  remote: (v) => v !== '',
  memory: (v) => v !== '' && v !== '0',
  memswap: (v) => v !== '' && v !== '0',
  cpushares: (v) => v !== '' && v !== '0',
  cpusetcpus: (v) => v !== '',
  cpusetmems: (v) => v !== '',
  cpuperiod: (v) => v !== '' && v !== '0',
  cpuquota: (v) => v !== '' && v !== '0',
  cgroupparent: (v) => v !== '',
  ulimits: (v) => v !== '' && v !== '[]' && v !== 'null',
  squash: (v) => queryTrue(v),
  isolation: (v) => v !== '' && v !== 'default',
  securityopt: (v) => v !== '' && v !== '[]' && v !== 'null',
  outputs: (v) => v !== '' && v !== '[]' && v !== 'null',
  session: (v) => v !== '',
};

function queryTrue(v: string): boolean {
  return !['', '0', 'false', 'no'].includes(v.toLowerCase());
}

function jsonObject(q: URLSearchParams, key: string): Record<string, string | null> {
  const raw = q.get(key);
  if (!raw) return {};
  let v: unknown;
  try { v = JSON.parse(raw); } catch { throw new InvalidParameterError(`invalid ${key} parameter: ${raw}`); }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`invalid ${key} parameter: ${raw}`);
  return v as Record<string, string | null>;
}

/** `cachefrom`: a JSON list of image names; absent, empty, `[]` and `null` are none. */
function cacheFromOf(q: URLSearchParams): string[] {
  const raw = q.get('cachefrom');
  if (!raw) return [];
  let v: unknown;
  try { v = JSON.parse(raw); } catch { throw new InvalidParameterError(`invalid cachefrom parameter: ${raw}`); }
  if (v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InvalidParameterError(`invalid cachefrom parameter: ${raw}`);
  return (v as string[]).filter(Boolean);
}

/** The build's options from the query, refusing what berth does not do (before any byte is read). */
export function buildOptionsOf(q: URLSearchParams, registryConfig?: string): BuildOptions {
  for (const [k, unapplied] of Object.entries(REFUSED)) {
    const v = q.get(k);
    if (v !== null && unapplied(v)) throw new InvalidParameterError(`berth's builder does not support the ${k} parameter yet (got ${JSON.stringify(v)})`);
  }
  const version = q.get('version');
  if (version === '2') throw new InvalidParameterError('berth serves the classic builder only (version=1): BuildKit sessions are not supported');
  const platform = q.get('platform');
  if (platform) {
    const p = parsePlatform(platform);
    if (p.os !== 'linux' || (p.architecture && p.architecture !== hostArch())) {
      throw new InvalidParameterError(`berth builds for linux/${hostArch()} only (platform=${platform})`);
    }
  }
  const shm = q.get('shmsize');
  const labels = jsonObject(q, 'labels');
  return {
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags: q.getAll('t').filter(Boolean),
    buildArgs: jsonObject(q, 'buildargs'),
    noCache: queryBool(q, 'nocache'),
    rm: queryBool(q, 'rm', true),
    forceRm: queryBool(q, 'forcerm'),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ''])),
    ...(q.get('target') ? { target: q.get('target')! } : {}),
    ...(q.get('networkmode') ? { networkMode: q.get('networkmode')! } : {}),
    quiet: queryBool(q, 'q'),
    extraHosts: q.getAll('extrahosts').flatMap((v) => v.split(/[,\s]+/)).filter(Boolean),
    ...(shm && shm !== '0' ? { shmSize: Number(shm) } : {}),
    pull: queryBool(q, 'pull'),
    cacheFrom: cacheFromOf(q),
    registryAuths: decodeRegistryConfig(registryConfig),
  };
}

export function registerBuildRoutes(r: Router, deps: BuildRouteDeps): void {
  r.post('/build', async (ctx) => {
    const opts = buildOptionsOf(ctx.query, ctx.req.headers['x-registry-config'] as string | undefined);
    deps.builds.validate(opts);
    const s = startJsonStream(ctx.res, '\r\n');
    try {
      const res = await deps.builds.build(ctx.req, opts, (text) => s.write({ stream: text }));
      if (opts.quiet) {
        s.write({ stream: `${res.image.id}\n` });
      } else {
        s.write({ aux: { ID: res.image.id } });
        for (const w of res.warnings) s.write({ stream: w });
        s.write({ stream: `Successfully built ${shortId(res.image.id.slice(7))}\n` });
        for (const t of opts.tags) s.write({ stream: `Successfully tagged ${familiarString(parseTagTarget(t))}\n` });
      }
    } catch (e) {
      const message = errorMessage(e);
      s.write(e instanceof BuildStepError ? { errorDetail: { code: e.code, message }, error: message } : { errorDetail: { message }, error: message });
      ctx.req.resume();
    }
    s.end();
  });

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
