// `GET/HEAD /_ping`: answered from the process alone (no engine), so berthd can answer it as
// soon as it listens, while the engine is still opening (src/daemon/startup.ts).
import type { RequestContext } from './router';

export function ping(ctx: RequestContext): void {
  const res = ctx.res;
  res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Builder-Version', '1');
  res.setHeader('Swarm', 'inactive');
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': ctx.req.method === 'HEAD' ? '0' : '2' });
  res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
}
