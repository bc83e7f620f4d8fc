// Volume routes: create, list, inspect, remove, prune.
import type { VolumeService, CreateVolumeRequest } from '../../engine/volumes/VolumeService';
import { InvalidParameterError } from '../../lib/errors';
import { parseFilters } from '../../lib/filters';
import { versionBelow } from '../../lib/apiVersion';
import { readJson } from '../body';
import { sendEmpty, sendJson } from '../respond';
import { queryBool, type Router } from '../router';
import { volumeListView, volumeView } from '../views/volumes';

const CREATE_FIELDS = ['Name', 'Driver', 'DriverOpts', 'Labels', 'ClusterVolumeSpec'];

export function registerVolumeRoutes(r: Router, volumes: VolumeService): void {
  r.post('/volumes/create', async (ctx) => {
    const body = (await readJson<CreateVolumeRequest & Record<string, unknown>>(ctx.req)) ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid volume create request');
    for (const k of Object.keys(body)) if (!CREATE_FIELDS.includes(k)) throw new InvalidParameterError(`berth does not support volume create field ${k}`);
    if (body.ClusterVolumeSpec) throw new InvalidParameterError('berth does not support ClusterVolumeSpec (not a swarm manager)');
    if (body.Name !== undefined && typeof body.Name !== 'string') throw new InvalidParameterError('invalid volume name');
    const v = await volumes.create(body);
    sendJson(ctx.res, 201, volumeView(v, volumes.mountpoint(v.Name)));
  });
  r.get('/volumes', (ctx) => {
    const list = volumes.list(parseFilters(ctx.query.get('filters')));
    sendJson(ctx.res, 200, volumeListView(list.map((v) => volumeView(v, volumes.mountpoint(v.Name)))));
  });
  r.post('/volumes/prune', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    // Before 1.42 a prune took every unused volume, named ones too.
    if (versionBelow(ctx.apiVersion, '1.42') && !filters.has('all')) filters.set('all', ['true']);
    sendJson(ctx.res, 200, await volumes.prune(filters));
  });
  r.get('/volumes/:name', (ctx) => {
    const v = volumes.inspect(ctx.params.name);
    sendJson(ctx.res, 200, volumeView(v, volumes.mountpoint(v.Name)));
  });
  r.put('/volumes/:name', () => {
    throw new InvalidParameterError('can only update cluster volumes, but this is not a swarm manager');
  });
  r.delete('/volumes/:name', async (ctx) => {
    await volumes.remove(ctx.params.name, { force: queryBool(ctx.query, 'force') });
    sendEmpty(ctx.res, 204);
  });
}
