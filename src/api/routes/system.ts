// System routes: ping, version, info, events.
import { eventMatches, type EventBus } from '../../engine/events/EventBus';
import { checkFilterKeys, parseFilters } from '../../lib/filters';
import { InvalidParameterError } from '../../lib/errors';
import { parseDiskUsageTypes, type DiskUsage, type DiskUsageType } from '../../engine/system/df';
import { ping } from '../ping';
import { sendJson, startJsonStream } from '../respond';
import type { Router } from '../router';
import { eventView } from '../views/events';
import { diskUsageView } from '../views/system';

export interface SystemRouteDeps {
  events: EventBus;
  info: () => Promise<Record<string, unknown>>;
  version: () => Promise<Record<string, unknown>>;
  diskUsage: (types: Set<DiskUsageType>) => Promise<DiskUsage>;
}

function unixSeconds(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`invalid value for ${name}: ${v}`);
  return t / 1000;
}

export function registerSystemRoutes(r: Router, deps: SystemRouteDeps): void {
  r.get('/_ping', ping);
  r.head('/_ping', ping);
  r.get('/version', async (ctx) => sendJson(ctx.res, 200, await deps.version()));
  r.get('/info', async (ctx) => sendJson(ctx.res, 200, await deps.info()));
  r.get('/system/df', async (ctx) => {
    const du = await deps.diskUsage(parseDiskUsageTypes(ctx.query.getAll('type')));
    sendJson(ctx.res, 200, diskUsageView(ctx.apiVersion, du));
  });
  r.get('/events', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(filters, ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume']);
    const since = unixSeconds(ctx.query.get('since'), 'since');
    const until = unixSeconds(ctx.query.get('until'), 'until');
    const stream = startJsonStream(ctx.res, '\n');
    if (since !== undefined) {
      for (const ev of deps.events.past(since, until)) if (eventMatches(ev, filters)) stream.write(eventView(ctx.apiVersion, ev));
    }
    const now = Date.now() / 1000;
    if (until !== undefined && until <= now) return stream.end();
    await new Promise<void>((resolve) => {
      const unsubscribe = deps.events.subscribe((ev) => {
        if (eventMatches(ev, filters)) stream.write(eventView(ctx.apiVersion, ev));
      });
      const timer = until !== undefined ? setTimeout(finish, (until - now) * 1000) : undefined;
      ctx.res.on('close', finish);
      function finish() {
        if (timer) clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
    stream.end();
  });
}

