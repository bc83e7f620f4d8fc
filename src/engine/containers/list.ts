// `GET /containers/json` and `POST /containers/prune`: filters as Docker applies them. The
// list answers records (and sizes when asked); api/views/containers.ts shapes them.
import { checkFilterKeys, matchLabels, type Filters } from '../../lib/filters';
import { InvalidParameterError, errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { type ContainerRecord, createdMs } from './Container';
import type { ContainerService } from './ContainerService';
import type { ContainerNetworkView } from './context';
import { containerSizes, type ContainerSizes } from './details';
import { healthOf } from '../health/HealthService';

const LIST_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export interface ListOptions {
  all: boolean;
  limit?: number;
  size: boolean;
  filters: Filters;
  /** Resolves an image reference to its ID, or undefined when unknown (for `ancestor`). */
  imageId: (ref: string) => Promise<string | undefined>;
}

/** One container of a listing: its record, and its sizes when the listing asked for them. */
export interface ListedContainer { record: ContainerRecord; sizes?: ContainerSizes; network?: ContainerNetworkView }

function any(values: string[] | undefined, test: (v: string) => boolean): boolean {
  return !values || values.length === 0 || values.some(test);
}

/** Newest first (each creation time parsed once per record, not per comparison or per list). */
function newestFirst(records: ContainerRecord[]): ContainerRecord[] {
  return records.map((r) => ({ r, t: createdMs(r) })).sort((a, b) => b.t - a.t).map((x) => x.r);
}

export async function listContainers(svc: ContainerService, opts: ListOptions): Promise<ListedContainer[]> {
  const f = opts.filters;
  checkFilterKeys(f, LIST_FILTERS);
  for (const s of f.get('status') ?? []) {
    if (!STATUSES.includes(s)) throw new InvalidParameterError(`invalid filter 'status=${s}'`);
  }
  for (const h of f.get('health') ?? []) {
    if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw new InvalidParameterError(`Unrecognised filter value for health: ${h}`);
  }
  for (const e of f.get('exited') ?? []) {
    if (!/^-?\d+$/.test(e)) throw new InvalidParameterError(`invalid filter 'exited=${e}'`);
  }
  const ancestors = new Set<string>();
  for (const a of f.get('ancestor') ?? []) {
    const id = await opts.imageId(a);
    if (id) ancestors.add(id);
  }
  let all = newestFirst(svc.store.all());
  const refTime = (key: string): number | undefined => {
    const ref = f.get(key)?.[0];
    return ref === undefined ? undefined : createdMs(svc.store.get(ref));
  };
  const before = refTime('before');
  const since = refTime('since');
  // `all` is implied by limit, before/since and by filters that only make sense for stopped ones.
  const showAll = opts.all || (opts.limit ?? 0) > 0 || before !== undefined || since !== undefined
    || f.has('exited') || (f.get('status')?.some((s) => s !== 'running') ?? false);
  // no filter given (what `docker ps` sends): only the running test, not ten per record
  if (f.size === 0) all = showAll ? all : all.filter((c) => c.State.Running);
  else all = all.filter((c) => {
    if (!showAll && !c.State.Running) return false;
    if (before !== undefined && createdMs(c) >= before) return false;
    if (since !== undefined && createdMs(c) <= since) return false;
    return any(f.get('status'), (s) => s === c.State.Status)
      && any(f.get('name'), (n) => new RegExp(n).test(c.Name.slice(1)))
      && any(f.get('id'), (i) => c.Id.startsWith(i))
      && matchLabels(c.Config.Labels, f.get('label'))
      && any(f.get('exited'), (e) => c.State.Status === 'exited' && c.State.ExitCode === Number(e))
      && (ancestors.size === 0 && !f.has('ancestor') ? true : ancestors.has(c.Image) || (f.get('ancestor') ?? []).includes(c.Config.Image))
      && any(f.get('network'), (n) => (c.HostConfig.NetworkMode === 'default' ? 'bridge' : c.HostConfig.NetworkMode) === n)
      && any(f.get('isolation'), (i) => i === 'default' || i === '')
      && any(f.get('health'), (h) => h === (healthOf(c)?.Status ?? 'none'))
      && any(f.get('volume'), (v) => (c.MountPoints ?? []).some((m) => m.Name === v || m.Destination === v || (m.Type === 'bind' && m.Source === v)));
  });
  if (opts.limit && opts.limit > 0) all = all.slice(0, opts.limit);
  const networks = svc.deps.networks;
  const listed = (c: ContainerRecord): ListedContainer => (networks ? { record: c, network: networks.view(c.Id) } : { record: c });
  // without sizes, no promise per record (a thousand of them were a tenth of a 1,000-record list)
  if (!opts.size) return all.map(listed);
  return Promise.all(all.map(async (c) => ({ ...listed(c), sizes: await containerSizes(svc, c) })));
}

const PRUNE_FILTERS = ['label', 'label!', 'until'];

/** What a prune removed: the containers' IDs and the bytes of their writable layers. */
export interface PruneResult { deleted: string[]; reclaimed: number }

export async function pruneContainers(svc: ContainerService, filters: Filters): Promise<PruneResult> {
  checkFilterKeys(filters, PRUNE_FILTERS);
  const until = filters.get('until')?.[0];
  const untilMs = until === undefined ? undefined : parseUntil(until);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const c of svc.store.all()) {
    if (c.State.Running || c.State.Status === 'removing') continue;
    if (!matchLabels(c.Config.Labels, filters.get('label'))) continue;
    if ((filters.get('label!') ?? []).some((l) => matchLabels(c.Config.Labels, [l]))) continue;
    if (untilMs !== undefined && createdMs(c) >= untilMs) continue;
    const size = await svc.rootfs.diffSize(c.Id).catch(() => 0);
    try {
      await svc.remove(c.Id, {});
      deleted.push(c.Id);
      reclaimed += size;
    } catch (e) {
      log.warn('prune: could not remove container', { id: c.Id, error: errorMessage(e) });
    }
  }
  return { deleted, reclaimed };
}

/** `until` takes a Unix timestamp, an RFC 3339 time or a Go duration (`10m`, `1h30m`) before now. */
export function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (d && v !== '') return Date.now() - ((Number(d[1] ?? 0) * 60 + Number(d[2] ?? 0)) * 60 + Number(d[3] ?? 0)) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`invalid filter 'until=${v}'`);
  return t;
}
