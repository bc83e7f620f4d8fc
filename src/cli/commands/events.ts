// berth events
import { Command } from 'commander';
import type { EventMessage } from '../../client/types';
import { Cli, collect, parseFilters, sinceUntil } from '../cli';
import { Template } from '../format/template';

// Go's "2006-01-02T15:04:05.000000000Z07:00" in the local zone (compose's up --timestamps prints it too)
import { rfc3339NanoFixed } from '../../compose/progress/gotime';
export { rfc3339NanoFixed };

export function formatEvent(e: EventMessage & { timeNanoExact?: string }): string {
  let s = '';
  if (e.timeNanoExact || e.timeNano) s += rfc3339NanoFixed(BigInt(e.timeNanoExact ?? Math.round(e.timeNano))) + ' ';
  else if (e.time) s += rfc3339NanoFixed(BigInt(e.time) * 1000000000n) + ' ';
  s += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s;
}

export function register(parent: Command, cli: Cli): void {
  parent.command('events')
    .description('Get real time events from the server')
    .usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .action(async (o: { filter?: string[]; format?: string; since?: string; until?: string }) => {
      const { since, until } = sinceUntil(o);
      const fmt = o.format === 'json' ? '{{json .}}' : o.format;
      const tmpl = fmt ? new Template(fmt) : undefined;
      const stream = await cli.client.events({ since, until, filters: parseFilters(o.filter) });
      for await (const e of stream) {
        cli.println(tmpl ? tmpl.execute(e) : formatEvent(e));
      }
    });
}
