// berth update: change a container's resource limits and restart policy (Docker's `update`).
import { Command } from 'commander';
import { Cli, forEachArg, parseIntFlag, requireArgs, StatusError } from '../cli';
import { memBytes, memSwapBytes, nanoCpus, parseRestart } from '../opts';

interface UpdateFlags {
  memory?: string; memorySwap?: string; memoryReservation?: string; cpus?: string; cpuShares?: number;
  cpuQuota?: number; cpuPeriod?: number; cpusetCpus?: string; cpusetMems?: string; pidsLimit?: number;
  blkioWeight?: number; restart?: string;
}

export function register(parent: Command, cli: Cli): Command {
  return parent.command('update')
    .description('Update configuration of one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('[containers...]')
    .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', parseIntFlag('--blkio-weight'))
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period', parseIntFlag('--cpu-period'))
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota', parseIntFlag('--cpu-quota'))
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)', parseIntFlag('-c, --cpu-shares'))
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)', parseIntFlag('--pids-limit'))
    .option('--restart <string>', 'Restart policy to apply when a container exits')
    .action(async (args: string[], o: UpdateFlags, cmd: Command) => {
      requireArgs(cmd, args, 1);
      process.env.BERTH_CMD_PATH = 'berth update';
      const body: Record<string, unknown> = {
        BlkioWeight: o.blkioWeight ?? 0,
        CpuPeriod: o.cpuPeriod ?? 0,
        CpuQuota: o.cpuQuota ?? 0,
        CpuShares: o.cpuShares ?? 0,
        NanoCpus: o.cpus !== undefined ? nanoCpus(o.cpus) : 0,
        CpusetCpus: o.cpusetCpus ?? '',
        CpusetMems: o.cpusetMems ?? '',
        Memory: o.memory !== undefined ? memBytes('-m, --memory', o.memory) : 0,
        MemoryReservation: o.memoryReservation !== undefined ? memBytes('--memory-reservation', o.memoryReservation) : 0,
        MemorySwap: o.memorySwap !== undefined ? memSwapBytes('--memory-swap', o.memorySwap) : 0,
      };
      if (o.pidsLimit !== undefined) body.PidsLimit = o.pidsLimit;
      if (o.restart !== undefined) body.RestartPolicy = parseRestart(o.restart);
      const given = Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined);
      if (given.length === 0) throw new StatusError(1, 'you must provide one or more flags when using this command');
      await forEachArg(cli, args, async (a) => {
        const r = await cli.client.json<{ Warnings?: string[] | null }>('POST', `/containers/${encodeURIComponent(a)}/update`, { body });
        for (const w of r?.Warnings ?? []) process.stderr.write(w + '\n');
      });
    });
}
