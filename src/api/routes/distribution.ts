// Registry-facing routes: POST /images/create?fromImage= (pull; the import branch stays in
// images.ts), GET /distribution/{name}/json, POST /auth. Credentials come as X-Registry-Auth
// (base64url JSON, `e30=` when there are none) or, for /auth, as the JSON body.
import type { IncomingMessage } from 'node:http';
import { readJson } from '../body';
import { sendJson, startJsonStream, streamError } from '../respond';
import type { RequestContext, Router } from '../router';
import { errorMessage, InvalidParameterError } from '../../lib/errors';
import { decodeRegistryAuth, type AuthConfig } from '../../distribution/auth';
import type { ImageService } from '../../engine/images/ImageService';
import { pullReference } from '../../engine/images/pull';

export function registryAuthOf(req: IncomingMessage): AuthConfig | undefined {
  const h = req.headers['x-registry-auth'];
  return decodeRegistryAuth(Array.isArray(h) ? h[0] : h);
}

/** POST /images/create?fromImage=&tag=&platform=: resolves first (plain errors), then streams progress. */
export async function pullRoute(ctx: RequestContext, images: ImageService): Promise<void> {
  const q = ctx.query;
  for (const k of ['fromSrc', 'repo', 'message', 'changes']) {
    if (q.get(k)) throw new InvalidParameterError(`berth does not support ${k} together with fromImage (got ${JSON.stringify(q.getAll(k))})`);
  }
  const fromImage = q.get('fromImage')!;
  const tag = q.get('tag') || undefined;
  // no tag anywhere is Docker's "all tags" (docker pull --all-tags); clients otherwise send one
  if (!tag && !/[:@][^/]*$/.test(fromImage)) {
    throw new InvalidParameterError('berth does not support pulling all tags of a repository (docker pull --all-tags) yet');
  }
  const ref = pullReference(fromImage, tag);
  const prepared = await images.preparePull(ref, { platform: q.get('platform') || undefined, creds: registryAuthOf(ctx.req) });
  const s = startJsonStream(ctx.res, '\r\n');
  try {
    await prepared.run((m) => s.write(m));
  } catch (e) {
    s.write(streamError(errorMessage(e)));
  }
  s.end();
}

export function registerDistributionRoutes(r: Router, images: ImageService): void {
  r.get('/distribution/:name*/json', async (ctx) => {
    sendJson(ctx.res, 200, await images.distributionInspect(ctx.params.name, registryAuthOf(ctx.req)));
  });

  r.post('/auth', async (ctx) => {
    const body = await readJson<AuthConfig>(ctx.req, { allowEmpty: false });
    if (!body || typeof body !== 'object') throw new InvalidParameterError('invalid auth configuration');
    await images.login(body);
    sendJson(ctx.res, 200, { IdentityToken: '', Status: 'Login Succeeded' });
  });
}
