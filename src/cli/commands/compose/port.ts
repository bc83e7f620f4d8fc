// berth compose port: the public address of a service container's private port.
import { canonicalName, serviceContainer } from '../../../compose/query/containers';
import type { Command } from 'commander';
import { Cli, parseIntFlag, StatusError } from '../../cli';
import { projectName } from './target';

export function parsePrivatePort(s: string): number {
  if (!/^\d+$/.test(s)) throw new StatusError(1, `strconv.ParseUint: parsing "${s}": invalid syntax`);
  const n = Number(s);
  if (n > 65535) throw new StatusError(1, `strconv.ParseUint: parsing "${s}": value out of range`);
  return n;
}

export async function composePort(cli: Cli, name: string, service: string, privatePort: string, o: { protocol?: string; index?: number }): Promise<void> {
  const port = parsePrivatePort(privatePort);
  const protocol = (o.protocol ?? 'tcp').toLowerCase();
  const c = await serviceContainer(cli.client, name, service, { index: o.index, oneOff: 'include' });
  const p = (c.Ports ?? []).find((x) => x.PrivatePort === port && x.Type === protocol);
  if (!p) {
    const have = (c.Ports ?? []).map((x) => `${x.PublicPort ?? 0}/${x.Type}`).join(', ');
    throw new StatusError(1, `no port ${port}/${protocol} for container ${canonicalName(c)}: ${have}`);
  }
  cli.println(`${p.IP ?? ''}:${p.PublicPort ?? 0}`);
}

export function register(compose: Command, cli: Cli): void {
  compose.command('port')
    .description('Print the public port for a port binding')
    .usage('[OPTIONS] SERVICE PRIVATE_PORT')
    .argument('[args...]')
    .option('--index <int>', 'Index of the container if service has multiple replicas', parseIntFlag('--index'), 0)
    .option('--protocol <string>', 'tcp or udp', 'tcp')
    .action(async (args: string[], o: { protocol?: string; index?: number }, cmd: Command) => {
      if (args.length < 2) throw new StatusError(1, `requires at least 2 arg(s), only received ${args.length}`);
      parsePrivatePort(args[1]);
      await composePort(cli, await projectName(cmd, cli), args[0], args[1], o);
    });
}
