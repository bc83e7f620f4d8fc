// Swarm, node, service, task, secret, config and plugin endpoints, answered as Docker answers
// on a node that is not in a swarm and has no plugins (moby daemon/cluster errNoManager and
// errNoSwarm, plugin store errNotFound). berth has no swarm mode: init and join say so.
import { NotFoundError, UnavailableError } from '../../lib/errors';
import { sendJson } from '../respond';
import type { Router } from '../router';

const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_IN_A_SWARM = 'This node is not part of a swarm';

const notManager = (): never => { throw new UnavailableError(NOT_A_MANAGER); };

export function registerSwarmRoutes(r: Router): void {
  r.get('/swarm', notManager);
  r.post('/swarm/update', notManager);
  r.get('/swarm/unlockkey', notManager);
  r.post('/swarm/unlock', notManager); // moby UnlockSwarm: errNoManager unless the node is locked
  r.post('/swarm/leave', () => { throw new UnavailableError(NOT_IN_A_SWARM); });
  for (const p of ['/swarm/init', '/swarm/join']) {
    r.post(p, () => { throw new UnavailableError('berth does not support swarm mode'); });
  }

  // Everything a manager answers: lists, inspects, creates, updates, removals, logs.
  for (const kind of ['nodes', 'services', 'tasks', 'secrets', 'configs']) {
    r.get(`/${kind}`, notManager);
    r.get(`/${kind}/:id`, notManager);
    r.delete(`/${kind}/:id`, notManager);
    r.post(`/${kind}/:id/update`, notManager);
    if (kind !== 'nodes') r.post(`/${kind}/create`, notManager);
    if (kind === 'services' || kind === 'tasks') r.get(`/${kind}/:id/logs`, notManager);
  }

  // No plugins are installed, and none can be.
  r.get('/plugins', (ctx) => sendJson(ctx.res, 200, []));
  const noPlugins = () => { throw new UnavailableError('berth does not support plugins'); };
  r.get('/plugins/privileges', noPlugins);
  r.post('/plugins/pull', noPlugins);
  r.post('/plugins/create', noPlugins);
  const notFound = (name: string): never => { throw new NotFoundError(`plugin "${name}" not found`); };
  r.get('/plugins/:name*/json', (ctx) => notFound(ctx.params.name));
  r.delete('/plugins/:name*', (ctx) => notFound(ctx.params.name));
  for (const action of ['enable', 'disable', 'upgrade', 'push', 'set']) {
    r.post(`/plugins/:name*/${action}`, (ctx) => notFound(ctx.params.name));
  }
}
