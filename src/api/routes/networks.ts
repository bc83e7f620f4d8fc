// Network routes: list, inspect, create, remove, prune, connect, disconnect.
import { InvalidParameterError } from '../../lib/errors';
import { checkFilterKeys, matchLabels, matchNotLabels, parseFilters } from '../../lib/filters';
import type { EndpointRequest, NetworkCreateRequest, NetworkService } from '../../engine/networks/NetworkService';
import { ipamAddresses, PREDEFINED } from '../../engine/networks/NetworkService';
import type { NetworkRecord } from '../../store/networks/types';
import { readJson } from '../body';
import { checkNetworkConnectBody } from '../goTypes';
import { sendJson } from '../respond';
import type { Router } from '../router';
import { networkView } from '../views/networks';

function bool(v: string, key: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidParameterError(`invalid filter '${key}=${v}'`);
}

function untilSeconds(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  const m = /^(\d+)(s|m|h)$/.exec(v);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  throw new InvalidParameterError(`invalid filter 'until=${v}'`);
}

export function registerNetworkRoutes(r: Router, svc: NetworkService): void {
  r.get('/networks', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(f, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    const any = (k: string, test: (v: string) => boolean) => { const vs = f.get(k); return !vs || vs.length === 0 || vs.some(test); };
    for (const t of f.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);
    const list = svc.list().filter((n) => any('name', (v) => n.Name.includes(v)) && any('id', (v) => n.Id.startsWith(v))
      && any('driver', (v) => n.Driver === v) && any('scope', (v) => n.Scope === v) && matchLabels(n.Labels, f.get('label'))
      && any('type', (v) => (v === 'builtin') === PREDEFINED.includes(n.Name))
      && any('dangling', (v) => bool(v, 'dangling') === svc.isDangling(n)));
    sendJson(ctx.res, 200, list.map((n) => networkView(n)));
  });

  r.get('/networks/:id', async (ctx) => {
    const n = svc.get(ctx.params.id);
    for (const k of ['scope', 'verbose']) if (ctx.query.get(k) && !['', 'false', '0', 'local'].includes(ctx.query.get(k)!)) {
      if (k === 'verbose') throw new InvalidParameterError('berth does not support verbose network inspect (swarm)');
    }
    sendJson(ctx.res, 200, networkView(n, svc.endpointsOn(n.Id)));
  });

  r.post('/networks/create', async (ctx) => {
    const body = await readJson<NetworkCreateRequest>(ctx.req, { allowEmpty: false });
    sendJson(ctx.res, 201, await svc.create(body ?? {}));
  });

  r.delete('/networks/:id', async (ctx) => {
    await svc.remove(ctx.params.id);
    ctx.res.writeHead(204).end();
  });

  r.post('/networks/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(f, ['label', 'label!', 'until']);
    const until = f.get('until')?.map(untilSeconds);
    const keep = (n: NetworkRecord) => matchLabels(n.Labels, f.get('label')) && matchNotLabels(n.Labels, f.get('label!'))
      && (!until || until.every((t) => Date.parse(n.Created) < t));
    sendJson(ctx.res, 200, { NetworksDeleted: await svc.prune(keep) });
  });

  r.post('/networks/:id/connect', async (ctx) => {
    const body = await readJson<{ Container?: string; EndpointConfig?: EndpointRequest & Record<string, unknown> }>(ctx.req, { allowEmpty: false });
    checkNetworkConnectBody(body);
    if (!body?.Container) throw new InvalidParameterError('no container specified');
    const e = body.EndpointConfig ?? {};
    for (const k of ['DriverOpts', 'DNSNames', 'GwPriority', 'IPv6Gateway', 'GlobalIPv6Address']) {
      const v = (e as Record<string, unknown>)[k];
      if (v !== undefined && v !== null && v !== '' && v !== 0 && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && Object.keys(v as object).length === 0)) {
        throw new InvalidParameterError(`berth does not support EndpointConfig.${k} yet (got ${JSON.stringify(v)})`);
      }
    }
    const ipam = (e.IPAMConfig ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(ipam)) if (k !== 'IPv4Address' && k !== 'IPv6Address' && ipam[k]) throw new InvalidParameterError(`berth does not support EndpointConfig.IPAMConfig.${k} yet`);
    await svc.connect(ctx.params.id, body.Container, { IPAMConfig: e.IPAMConfig ? ipamAddresses(e.IPAMConfig) : null, Aliases: e.Aliases ?? null, MacAddress: e.MacAddress || undefined, Links: e.Links?.length ? e.Links : null });
    ctx.res.writeHead(200).end();
  });

  r.post('/networks/:id/disconnect', async (ctx) => {
    const body = await readJson<{ Container?: string; Force?: boolean }>(ctx.req, { allowEmpty: false });
    checkNetworkConnectBody(body);
    if (!body?.Container) throw new InvalidParameterError('no container specified');
    await svc.disconnect(ctx.params.id, body.Container, !!body.Force);
    ctx.res.writeHead(200).end();
  });
}
