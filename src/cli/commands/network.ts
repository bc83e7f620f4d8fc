// berth network create/ls/inspect/rm/prune/connect/disconnect, and berth port.
import { Command } from 'commander';
import { Cli, collect, parseFilters, requireArgs, StatusError } from '../cli';
import { normalizeFormat, renderFormat } from '../format/formatter';
import { inspectObjects } from './inspect';

function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 && flag !== 'label') throw new StatusError(125, `invalid argument "${kv}" for "${flag}" flag: bad format (expected key=value)`);
    out[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  return out;
}

interface CreateOptions { driver?: string; subnet?: string[]; gateway?: string[]; ipRange?: string[]; internal?: boolean; attachable?: boolean; label?: string[]; opt?: string[]; ipv6?: boolean }

export function register(program: Command, cli: Cli): void {
  const net = program.command('network').description('Manage networks').usage('COMMAND');

  net.command('create')
    .description('Create a network')
    .usage('[OPTIONS] NETWORK')
    .argument('[args...]')
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--subnet <string>', 'Subnet in CIDR format that represents a network segment', collect)
    .option('--gateway <string>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
    .option('--ip-range <string>', 'Allocate container ip from a sub-range', collect)
    .option('--internal', 'Restrict external access to the network')
    .option('--attachable', 'Enable manual container attachment')
    .option('--ipv6', 'Enable or disable IPv6 networking')
    .option('--label <list>', 'Set metadata on a network', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .action(async (args: string[], o: CreateOptions, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      const subnets = o.subnet ?? [];
      if ((o.gateway?.length ?? 0) > subnets.length || (o.ipRange?.length ?? 0) > subnets.length) {
        throw new StatusError(125, 'every --gateway and --ip-range needs its own --subnet');
      }
      const config = subnets.map((s, i) => ({ Subnet: s, ...(o.gateway?.[i] ? { Gateway: o.gateway[i] } : {}), ...(o.ipRange?.[i] ? { IPRange: o.ipRange[i] } : {}) }));
      const r = await cli.client.networkCreate({
        Name: args[0], Driver: o.driver, Internal: !!o.internal, Attachable: !!o.attachable, EnableIPv6: !!o.ipv6,
        IPAM: { Driver: 'default', Config: config, Options: {} }, Options: keyValues(o.opt, '--opt'), Labels: keyValues(o.label, 'label'),
      });
      cli.println(r.Id);
    });

  net.command('ls').alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(async (o: { filter?: string[]; format?: string; trunc?: boolean; quiet?: boolean }) => {
      const list = (await cli.client.networkList(parseFilters(o.filter))).sort((a, b) => a.Name.localeCompare(b.Name));
      const trunc = o.trunc !== false;
      const rows = list.map((n) => ({
        ID: trunc ? n.Id.slice(0, 12) : n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: String(n.EnableIPv6),
        Internal: String(n.Internal), CreatedAt: n.Created, Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      }));
      const format = o.quiet ? '{{.ID}}' : normalizeFormat(o.format, 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}');
      cli.print(renderFormat(format, rows, { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS' }));
    });

  net.command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('[args...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (args: string[], o: { format?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      await inspectObjects(cli, args, ['network'], o);
    });

  net.command('rm').alias('remove')
    .description('Remove one or more networks')
    .argument('[args...]')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(async (args: string[], o: { force?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      const errors: string[] = [];
      for (const n of args) {
        try {
          await cli.client.networkRemove(n);
          cli.println(n);
        } catch (e) {
          if (o.force && (e as { status?: number }).status === 404) continue;
          errors.push(`Error response from daemon: ${(e as Error).message}`);
        }
      }
      if (errors.length) throw new StatusError(1, errors.join('\n'));
    });

  net.command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .action(async (o: { force?: boolean; filter?: string[] }) => {
      if (!o.force) throw new StatusError(1, 'berth network prune needs --force (no prompt)');
      const r = await cli.client.networkPrune(parseFilters(o.filter));
      if (r.NetworksDeleted?.length) cli.println(`Deleted Networks:\n${r.NetworksDeleted.join('\n')}`);
    });

  net.command('connect')
    .description('Connect a container to a network')
    .usage('[OPTIONS] NETWORK CONTAINER')
    .argument('[args...]')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .action(async (args: string[], o: { alias?: string[]; ip?: string }, cmd: Command) => {
      requireArgs(cmd, args, 2, 2);
      await cli.client.networkConnect(args[0], args[1], { ...(o.ip ? { IPAMConfig: { IPv4Address: o.ip } } : {}), ...(o.alias ? { Aliases: o.alias } : {}) });
    });

  net.command('disconnect')
    .description('Disconnect a container from a network')
    .usage('[OPTIONS] NETWORK CONTAINER')
    .argument('[args...]')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (args: string[], o: { force?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 2, 2);
      await cli.client.networkDisconnect(args[0], args[1], !!o.force);
    });
}

/** berth port CONTAINER [PRIVATE_PORT[/PROTO]] */
export function registerPort(parent: Command, cli: Cli): void {
  parent.command('port')
    .description('List port mappings or a specific mapping for the container')
    .usage('CONTAINER [PRIVATE_PORT[/PROTO]]')
    .argument('[args...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      requireArgs(cmd, args, 1, 2);
      const c = await cli.client.containerInspect(args[0]) as { Id: string; NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> } };
      const ports = c.NetworkSettings?.Ports ?? {};
      if (args[1]) {
        const key = args[1].includes('/') ? args[1] : `${args[1]}/tcp`;
        const b = ports[key];
        if (!b?.length) throw new StatusError(1, `Error: No public port '${key}' published for ${args[0]}`);
        for (const x of b) cli.println(`${x.HostIp}:${x.HostPort}`);
        return;
      }
      for (const [k, b] of Object.entries(ports)) for (const x of b ?? []) cli.println(`${k} -> ${x.HostIp}:${x.HostPort}`);
    });
}
