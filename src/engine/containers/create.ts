// Creating a container: validate, resolve the image, claim the name, make the writable layer.
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import { crashPoint, pausePoint } from '../../lib/crashpoint';
import { span } from '../../lib/trace';
import { BerthError, InvalidParameterError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { type ContainerRecord, initialState } from './Container';
import type { ContainerContext, ContainerNetworks } from './context';
import { buildConfig, buildHostConfig, commandOf, type CreateRequest } from './createConfig';
import { claimMountPoints, planMountPoints } from './mountpoints';
import { generateName } from './names';
import { validateCapabilities, validateSecurityOpt } from './spec';
import { validateDevices } from './devices';
import { ipamAddresses } from '../networks/NetworkService';
import { validateUsernsRemap } from '../usernsRemap';

export async function createContainer(ctx: Pick<ContainerContext, 'config' | 'images' | 'rootfs' | 'store' | 'swapLimitSupported' | 'publish' | 'volumes' | 'networks' | 'earlyStarts'>, name: string | undefined, req: CreateRequest): Promise<{ Id: string; Warnings: string[] }> {
  if (!req || typeof req !== 'object') throw new InvalidParameterError('invalid create request');
  if (!req.Image || typeof req.Image !== 'string') throw new InvalidParameterError('No image specified');
  const ref = req.Image;
  const image = await span('create.image', undefined, () => ctx.images.resolve(ref));
  const config = buildConfig(req, image.config.config ?? {}, req.Image);
  const hostConfig = buildHostConfig(req.HostConfig, {
    defaultRuntime: ctx.config.defaultRuntime,
    runtimes: Object.keys(ctx.config.runtimes),
    logDriver: ctx.config.logDriver,
    logOpts: ctx.config.logOpts,
    swapLimitSupported: ctx.swapLimitSupported,
  });
  const { path: cmdPath, args } = commandOf(config);
  const id = newId();
  if (!config.Hostname) config.Hostname = hostConfig.NetworkMode === 'host' ? os.hostname() : id.slice(0, 12);
  validateSecurityOpt(hostConfig.SecurityOpt);
  validateUsernsRemap(hostConfig, ctx.config.remap);
  const c: ContainerRecord = {
    Id: id, Name: '', Created: new Date().toISOString(), Path: cmdPath, Args: args, State: initialState(),
    Image: image.id, ImageChainId: image.topChainId, Config: config, HostConfig: hostConfig,
    RestartCount: 0, HasBeenManuallyStopped: false,
  };
  validateCapabilities(c);
  validateDevices(c);
  dropUserNetworkLinks(c);
  const endpoints = endpointsConfigOf(req.NetworkingConfig);
  if (Object.keys(endpoints).length) c.NetworkEndpoints = endpoints;
  validateNamespaces(c, ctx.networks);
  // Checked before anything is made; the volumes are made once the name is ours.
  const planned = planMountPoints({ hostConfig, config, container: (ref) => volumesFrom(ctx, ref) });
  // Without the volume service nothing would mount them: refused, never accepted and ignored.
  const tmpfs = hostConfig.Tmpfs as Record<string, string> | null | undefined;
  if ((planned.length > 0 || (tmpfs && Object.keys(tmpfs).length > 0)) && !ctx.volumes) throw new InvalidParameterError('this engine has no volume service: mounts are refused');
  const finalName = name ? name : generateName((n) => ctx.store.hasName(n));
  ctx.store.reserveName(finalName, id);
  c.Name = finalName.startsWith('/') ? finalName : '/' + finalName;
  try {
    // The /etc files are an attachment: written at each start (attachments/etcFiles.ts).
    if (planned.length > 0) c.MountPoints = await claimMountPoints(planned, id, ctx.volumes);
    // The writable layer and the record are written side by side, both settled before any
    // undo below. The record is found by look-ups only once both are made; a crash with the
    // record written and the layer not is repaired at the next start (restoreContainers makes
    // the layer of a never-started container again), one with the layer alone drops the layer.
    const made = await Promise.allSettled([
      span('create.layer', id, async () => {
        await pausePoint('container.create.before-layer');
        await ctx.rootfs.createMount(id, image.topChainId);
        crashPoint('container.create.after-layer');
      }),
      span('create.record', id, async () => {
        await fsp.mkdir(ctx.store.dir(id), { recursive: true, mode: 0o710 });
        await pausePoint('container.create.before-record');
        await ctx.store.save(c, { durable: true, unlisted: true });
        crashPoint('container.create.after-record');
      }),
    ]);
    for (const r of made) if (r.status === 'rejected') throw r.reason;
    ctx.store.admit(c);
  } catch (e) {
    ctx.store.releaseName(c.Name);
    ctx.volumes?.releaseContainer(id);
    // The anonymous volumes were made for this container alone.
    for (const mp of c.MountPoints ?? []) if (mp.Anonymous && mp.Name) await ctx.volumes?.remove(mp.Name).catch(() => undefined);
    await ctx.rootfs.removeMount(id).catch(() => undefined);
    await fsp.rm(ctx.store.dir(id), { recursive: true, force: true });
    throw e;
  }
  ctx.publish(c, 'create');
  // `docker run` starts it in a moment: its start's first steps meanwhile.
  ctx.earlyStarts?.begin(c);
  return { Id: id, Warnings: [] };
}

/** NetworkingConfig.EndpointsConfig by network name ("default" is the bridge). */
function endpointsConfigOf(nc: unknown): NonNullable<ContainerRecord['NetworkEndpoints']> {
  const eps = (nc as { EndpointsConfig?: Record<string, unknown> } | null | undefined)?.EndpointsConfig;
  if (!eps || typeof eps !== 'object') return {};
  const out: NonNullable<ContainerRecord['NetworkEndpoints']> = {};
  for (const [k, v] of Object.entries(eps)) {
    const e = (v ?? {}) as NonNullable<ContainerRecord['NetworkEndpoints']>[string];
    out[k === 'default' ? 'bridge' : k] = {
      ...(e.IPAMConfig?.IPv4Address || e.IPAMConfig?.IPv6Address ? { IPAMConfig: ipamAddresses(e.IPAMConfig) } : {}),
      ...(e.Aliases?.length ? { Aliases: e.Aliases } : {}),
      ...(e.MacAddress ? { MacAddress: e.MacAddress } : {}),
      ...(e.Links?.length ? { Links: e.Links } : {}),
    };
  }
  return out;
}

/**
 * Legacy links belong to the default bridge: on a user-defined network dockerd drops them
 * (inspect shows null, no /etc/hosts entries, the targets are not even looked up); the
 * network's DNS is what names other containers there. docker-compose 1.29's `run` sends them.
 */
function dropUserNetworkLinks(c: ContainerRecord): void {
  const mode = c.HostConfig.NetworkMode;
  if (['default', 'bridge', 'host', 'none'].includes(mode) || mode.startsWith('container:')) return;
  c.HostConfig.Links = null;
}

export function validateNamespaces(c: ContainerRecord, networks?: ContainerNetworks): void {
  const h = c.HostConfig;
  const mode = h.NetworkMode;
  if (networks && !['host', 'none'].includes(mode) && !mode.startsWith('container:')) {
    networks.validateRequest(c);
  } else if (!['default', 'bridge', 'none', 'host'].includes(mode) && !mode.startsWith('container:')) {
    // Until user-defined networks exist, a named network is not found.
    throw new BerthError('NotFound', `network ${mode} not found`);
  }
  if (!['private', 'host', 'shareable', 'none', ''].includes(h.IpcMode) && !h.IpcMode.startsWith('container:')) {
    throw new InvalidParameterError(`invalid IPC mode: ${h.IpcMode}`);
  }
  if (!['', 'host'].includes(h.PidMode) && !h.PidMode.startsWith('container:')) throw new InvalidParameterError(`invalid PID mode: ${h.PidMode}`);
  if (!['', 'host'].includes(h.UTSMode)) throw new InvalidParameterError(`invalid UTS mode: ${h.UTSMode}`);
}

/**
 * A --volumes-from container. Its absence is a bad request, not a 404: the CLI takes a 404
 * from create for a missing image and would try to pull.
 */
function volumesFrom(ctx: Pick<ContainerContext, 'store'>, ref: string): ContainerRecord {
  const c = ctx.store.find(ref);
  if (!c) throw new InvalidParameterError(`No such container: ${ref}`);
  return c;
}
