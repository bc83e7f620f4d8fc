// `docker update`: resource limits and the restart policy, persisted in HostConfig and applied
// live (`runc update`) to a running container. Docker's rules: verifyContainerSettings (as for
// create, in update mode) then Container.UpdateContainer (merge; conflicts are 409s).
import { BerthError, ConflictError, InvalidParameterError, SystemError, errorMessage } from '../../lib/errors';
import { runtimeOf } from '../config';
import type { HostConfig } from './Container';
import type { ContainerContext } from './context';
import { validateCpuLimits } from './createConfig';
import { resourcesOf } from './spec';
import { UNSUPPORTED_UPDATE_FIELDS, rejectUnsupported } from './unsupported';

/** Docker's UpdateConfig: the Resources fields plus RestartPolicy. */
export interface UpdateRequest {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  [k: string]: unknown;
}

const MIN_MEMORY = 6 * 1024 * 1024;

function num(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidParameterError(`invalid ${name}: ${JSON.stringify(v)}`);
  return v;
}

/** verifyContainerSettings(update=true): the request on its own. */
export function validateUpdate(u: UpdateRequest): void {
  rejectUnsupported(UNSUPPORTED_UPDATE_FIELDS, u);
  const memory = num(u.Memory, 'Memory');
  const swap = num(u.MemorySwap, 'MemorySwap');
  const reservation = num(u.MemoryReservation, 'MemoryReservation');
  if (memory !== 0 && memory < MIN_MEMORY) throw new InvalidParameterError('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw new InvalidParameterError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory > 0 && reservation > 0 && reservation > memory) throw new InvalidParameterError('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (reservation !== 0 && reservation < MIN_MEMORY) throw new InvalidParameterError('Minimum memory reservation allowed is 6MB');
  const nano = num(u.NanoCpus, 'NanoCpus');
  const quota = num(u.CpuQuota, 'CpuQuota');
  const period = num(u.CpuPeriod, 'CpuPeriod');
  validateCpuLimits(nano, quota, period);
  if (num(u.CpuShares, 'CpuShares') < 0) throw new InvalidParameterError('invalid CPU shares');
  const blkio = num(u.BlkioWeight, 'BlkioWeight');
  if (blkio !== 0 && (blkio < 10 || blkio > 1000)) throw new InvalidParameterError('Range of blkio weight is from 10 to 1000');
  if (u.CpusetCpus !== undefined && u.CpusetCpus !== null && !/^[0-9,-]*$/.test(String(u.CpusetCpus))) {
    throw new InvalidParameterError(`Invalid value ${u.CpusetCpus} for cpuset cpus`);
  }
  const rp = u.RestartPolicy;
  if (rp && rp.Name) {
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(rp.Name)) throw new InvalidParameterError(`invalid restart policy: unknown policy '${rp.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
    const max = num(rp.MaximumRetryCount, 'MaximumRetryCount');
    if (max < 0) throw new InvalidParameterError('invalid restart policy: maximum retry count cannot be negative');
    if (max > 0 && rp.Name !== 'on-failure') throw new InvalidParameterError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
}

/** Container.UpdateContainer: merges the request into a copy of the HostConfig. */
export function mergeUpdate(h: HostConfig, u: UpdateRequest): HostConfig {
  const out: HostConfig = { ...h };
  const nano = num(u.NanoCpus, 'NanoCpus');
  const period = num(u.CpuPeriod, 'CpuPeriod');
  const quota = num(u.CpuQuota, 'CpuQuota');
  if (nano > 0 && h.CpuPeriod > 0) throw new ConflictError('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (nano > 0 && h.CpuQuota > 0) throw new ConflictError('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (period > 0 && h.NanoCpus > 0) throw new ConflictError('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (quota > 0 && h.NanoCpus > 0) throw new ConflictError('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const set = <K extends keyof HostConfig>(k: K, v: HostConfig[K] | undefined, unset: unknown) => { if (v !== undefined && v !== unset) out[k] = v; };
  set('BlkioWeight', num(u.BlkioWeight, 'BlkioWeight'), 0);
  set('CpuShares', num(u.CpuShares, 'CpuShares'), 0);
  set('NanoCpus', nano, 0);
  set('CpuPeriod', period, 0);
  set('CpuQuota', quota, 0);
  set('CpusetCpus', u.CpusetCpus ?? '', '');
  set('CpusetMems', u.CpusetMems ?? '', '');
  const memory = num(u.Memory, 'Memory');
  const swap = num(u.MemorySwap, 'MemorySwap');
  if (memory !== 0) {
    if (memory > h.MemorySwap && swap === 0) {
      throw new ConflictError('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    out.Memory = memory;
  }
  set('MemorySwap', swap, 0);
  set('MemoryReservation', num(u.MemoryReservation, 'MemoryReservation'), 0);
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) {
    const p = num(u.PidsLimit, 'PidsLimit');
    out.PidsLimit = p > 0 ? p : null; // 0 and -1: unlimited
  }
  const rp = u.RestartPolicy;
  if (rp && rp.Name) {
    if (h.AutoRemove && rp.Name !== 'no') throw new ConflictError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    out.RestartPolicy = { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
  }
  return out;
}

export async function updateContainer(ctx: Pick<ContainerContext, 'config' | 'store' | 'runtime' | 'locks' | 'swapLimitSupported' | 'publish'>, ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }> {
  if (!req || typeof req !== 'object') throw new InvalidParameterError('invalid update request');
  validateUpdate(req);
  const c = ctx.store.get(ref);
  const fail = (e: unknown): never => {
    const msg = `Cannot update container ${c.Id}: ${errorMessage(e)}`;
    if (e instanceof BerthError) throw new BerthError(e.kind, msg, { cause: e });
    throw new SystemError(msg, { cause: e });
  };
  await ctx.locks.run(c.Id, async () => {
    if (c.State.Status === 'removing' || c.State.Dead) fail(new ConflictError('container is marked for removal and cannot be "update"'));
    const before = c.HostConfig;
    let next: HostConfig;
    try {
      next = mergeUpdate(before, req);
    } catch (e) {
      return fail(e);
    }
    c.HostConfig = next;
    try {
      // Live limits first: a value the kernel refuses leaves the record as it was.
      if (c.State.Running && !c.State.Restarting) {
        const pids = req.PidsLimit !== undefined && req.PidsLimit !== null && req.PidsLimit <= 0 ? -1 : undefined;
        const r = resourcesOf(c, ctx.swapLimitSupported);
        if (pids !== undefined) r.pidsLimit = pids;
        await ctx.runtime.update(c.Id, r, runtimeOf(ctx.config, c.HostConfig.Runtime));
      }
      await ctx.store.save(c);
    } catch (e) {
      c.HostConfig = before;
      return fail(e instanceof BerthError ? e : new SystemError(errorMessage(e)));
    }
  });
  ctx.publish(c, 'update');
  return { Warnings: [] };
}
