// A project's networks and volumes: made when missing, with compose's labels; external ones
// must exist; `down` removes what the project made (never external ones).
import { isNotFound } from '../../client/errors';
import { LABEL, type Network, type Project } from '../model';
import type { EngineContext } from './context';
import { logrusWarning } from './context';
import { ComposeError } from './errors';
import { networkLabels, projectFilter, volumeLabels } from './labels';
import { allSettledOrThrow } from './graph';
import { progressId } from './names';
import { done, working } from '../progress/progress';

/** The networks the given services use (all of the project's when none are given). */
export function networksUsed(project: Project, services: string[]): string[] {
  const keys = new Set<string>();
  for (const s of services) for (const k of Object.keys(project.services[s]?.networks ?? {})) keys.add(k);
  return Object.keys(project.networks).filter((k) => keys.has(k));
}

export function volumesUsed(project: Project, services: string[]): string[] {
  const keys = new Set<string>();
  for (const s of services) for (const v of project.services[s]?.volumes ?? []) if (v.type === 'volume' && v.source) keys.add(v.source);
  return Object.keys(project.volumes).filter((k) => keys.has(k));
}

function networkCreateBody(project: Project, key: string, n: Network): Record<string, unknown> {
  for (const k of Object.keys(n)) {
    if (!['name', 'driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv6', 'labels', 'external'].includes(k) && n[k] !== undefined) {
      throw new ComposeError(`network "${key}": "${k}" is not supported by berth compose`);
    }
  }
  const ipam = n.ipam ? {
    Driver: n.ipam.driver ?? 'default',
    Config: (n.ipam.config ?? []).map((c) => ({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway, AuxiliaryAddresses: c.aux_addresses })),
    Options: n.ipam.options,
  } : undefined;
  return {
    Name: n.name, CheckDuplicate: true, Driver: n.driver, Options: n.driver_opts, IPAM: ipam,
    Internal: n.internal ?? false, Attachable: n.attachable ?? false, EnableIPv6: n.enable_ipv6 ?? false,
    Labels: networkLabels(project, key),
  };
}

/** Makes (or finds) one network. Returns its id. */
export async function ensureNetwork(ctx: EngineContext, project: Project, key: string): Promise<string> {
  const n = project.networks[key];
  const found = (await ctx.client.networkList({ name: [n.name] })).find((x) => x.Name === n.name);
  if (n.external) {
    if (!found) throw new ComposeError(`network ${n.name} declared as external, but could not be found`);
    return found.Id;
  }
  if (found) {
    const labels = found.Labels ?? {};
    if (labels[LABEL.project] !== project.name) {
      ctx.warn(logrusWarning(`a network with name ${n.name} exists but was not created for project "${project.name}".\nSet \`external: true\` to use an existing network`));
    } else if (labels[LABEL.network] !== key) {
      throw new ComposeError(`network ${n.name} was found but has incorrect label ${LABEL.network} set to "${labels[LABEL.network] ?? ''}" (expected: "${key}")`);
    }
    // compose does not change a network in place: a changed driver or kind must be removed first
    if ((n.driver && n.driver !== found.Driver) || (n.internal ?? false) !== found.Internal) {
      throw new ComposeError(`network ${n.name} exists with a different configuration (driver "${found.Driver}", internal ${found.Internal}): remove it (berth compose down) to apply the file's`);
    }
    return found.Id;
  }
  const id = progressId.network(n.name);
  working(ctx.progress, id, 'Creating');
  try {
    const r = await ctx.client.networkCreate(networkCreateBody(project, key, n));
    done(ctx.progress, id, 'Created');
    return r.Id;
  } catch (e) {
    ctx.progress.event({ id, status: 'error', text: 'Error', statusText: (e as Error).message });
    throw e;
  }
}

export async function ensureVolume(ctx: EngineContext, project: Project, key: string): Promise<void> {
  const v = project.volumes[key];
  for (const k of Object.keys(v)) {
    if (!['name', 'driver', 'driver_opts', 'labels', 'external'].includes(k) && v[k] !== undefined) throw new ComposeError(`volume "${key}": "${k}" is not supported by berth compose`);
  }
  const existing = await ctx.client.volumeInspect(v.name).catch((e) => { if (isNotFound(e)) return undefined; throw e; });
  if (v.external) {
    if (!existing) throw new ComposeError(`external volume "${v.name}" not found`);
    return;
  }
  if (existing) {
    const labels = existing.Labels ?? {};
    if (labels[LABEL.project] !== project.name || labels[LABEL.volume] !== key) {
      ctx.warn(logrusWarning(`volume "${v.name}" already exists but was not created by Docker Compose. Use \`external: true\` to use an existing volume`));
    }
    return;
  }
  const id = `Volume "${v.name}"`;
  working(ctx.progress, id, 'Creating');
  await ctx.client.volumeCreate({ Name: v.name, Driver: v.driver, DriverOpts: v.driver_opts, Labels: volumeLabels(project, key) });
  done(ctx.progress, id, 'Created');
}

/** The networks and the volumes that `services` need (with `all`, compose's --all-resources: every one of the file), side by side. */
export async function ensureResources(ctx: EngineContext, project: Project, services: string[], all = false): Promise<void> {
  await allSettledOrThrow([
    ...(all ? Object.keys(project.networks) : networksUsed(project, services)).map((key) => ensureNetwork(ctx, project, key)),
    ...(all ? Object.keys(project.volumes) : volumesUsed(project, services)).map((key) => ensureVolume(ctx, project, key)),
  ]);
}

/** `down`: the project's networks (those in the file and those labelled for it), not external ones. */
export async function removeNetworks(ctx: EngineContext, project: Project): Promise<void> {
  const labelled = await ctx.client.networkList(projectFilter(project.name));
  const names = new Set(labelled.map((n) => n.Name));
  for (const n of Object.values(project.networks)) if (!n.external) names.add(n.name);
  await Promise.all([...names].map(async (name) => {
    // one the label list found needs no look-up of its own
    const found = labelled.find((x) => x.Name === name) ?? (await ctx.client.networkList({ name: [name] })).find((x) => x.Name === name);
    if (!found) return;
    const id = progressId.network(name);
    working(ctx.progress, id, 'Removing');
    try {
      await ctx.client.networkRemove(found.Id);
      done(ctx.progress, id, 'Removed');
    } catch (e) {
      if (isNotFound(e)) { done(ctx.progress, id, 'Removed'); return; }
      ctx.progress.event({ id, status: 'error', text: 'Error', statusText: (e as Error).message });
      throw e;
    }
  }));
}

/** `down -v`: the project's named volumes (in the file or labelled for it), not external ones. */
export async function removeVolumes(ctx: EngineContext, project: Project): Promise<void> {
  const labelled = await ctx.client.volumeList(projectFilter(project.name));
  const names = new Set(labelled.map((v) => v.Name));
  for (const v of Object.values(project.volumes)) if (!v.external) names.add(v.name);
  for (const v of Object.values(project.volumes)) if (v.external) names.delete(v.name);
  await Promise.all([...names].map(async (name) => {
    if (!labelled.some((v) => v.Name === name) && !(await ctx.client.volumeInspect(name).catch(() => undefined))) return;
    const id = progressId.volume(name);
    working(ctx.progress, id, 'Removing');
    try {
      await ctx.client.volumeRemove(name);
      done(ctx.progress, id, 'Removed');
    } catch (e) {
      if (isNotFound(e)) { ctx.progress.event({ id, status: 'done', text: 'Removed' }); return; }
      ctx.progress.event({ id, status: 'error', text: 'Error', statusText: (e as Error).message });
      throw e;
    }
  }));
}
