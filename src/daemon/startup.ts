// The route table berthd listens with while its engine opens (records loaded, running containers
// re-adopted, attachments reconciled). `/_ping` answers at once: the listener is up and the
// process is alive, which is all a ping says. Every other request waits until the engine is
// ready and is then routed as usual, so none sees a record half reconciled or a container half
// re-adopted (dockerd holds its listeners' connections unserved until its restore is done: a
// request there waits the same way). A failed open answers the waiting requests with its error.
import { ping } from '../api/ping';
import type { Router } from '../api/router';
import { findRoute, sendNotFound, type RouteTable } from '../api/server';

export class StartupRoutes implements RouteTable {
  private router?: Router;
  private readonly engineReady: Promise<Router>;
  private settle!: { resolve: (r: Router) => void; reject: (e: unknown) => void };

  constructor() {
    this.engineReady = new Promise<Router>((resolve, reject) => { this.settle = { resolve, reject }; });
    this.engineReady.catch(() => undefined); // the error reaches each waiting request, and main()
  }

  /** The engine is open: from now on every request goes straight to its router. */
  ready(router: Router): void {
    this.router = router;
    this.settle.resolve(router);
  }

  failed(error: unknown): void {
    this.settle.reject(error);
  }

  match(method: string, path: string): ReturnType<Router['match']> {
    if (this.router) return this.router.match(method, path);
    if ((method === 'GET' || method === 'HEAD') && path === '/_ping') return { handler: ping, params: {} };
    return {
      params: {},
      handler: async (ctx) => {
        const found = findRoute(await this.engineReady, ctx.req.method, path);
        if (!found) return sendNotFound(ctx.res);
        ctx.params = found.params;
        await found.handler(ctx);
      },
    };
  }
}
