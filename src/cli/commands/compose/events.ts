// berth compose events: the project's container events, compose v2's text or --json lines.
import { projectEvents, ProjectEvent } from '../../../compose/query/events';
import type { Command } from 'commander';
import { Cli } from '../../cli';
import { localParts, rfc3339Nano } from '../../../compose/progress/gotime';
import { projectName } from './target';

const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');

/** Go's "2006-01-02 15:04:05.000000" in the local zone. */
function textTime(ns: bigint): string {
  const { date: d, frac } = localParts(ns);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac.slice(0, 6)}`;
}

export function eventText(e: ProjectEvent): string {
  const attrs = Object.keys(e.attributes).sort().map((k) => `${k}=${e.attributes[k]}`).join(', ');
  // compose's Event.String ends in a newline and is printed with Println: a blank line follows
  return `${textTime(e.timeNano)} container ${e.action} ${e.container} (${attrs})\n`;
}

export function eventJSON(e: ProjectEvent): string {
  const attributes: Record<string, string> = {};
  for (const k of Object.keys(e.attributes).sort()) attributes[k] = e.attributes[k];
  return JSON.stringify({ action: e.action, attributes, id: e.container, service: e.service, time: rfc3339Nano(e.timeNano), type: 'container' });
}

export async function composeEvents(cli: Cli, name: string, services: string[], o: { json?: boolean }): Promise<void> {
  const stream = await projectEvents(cli.client, name, { services });
  for await (const e of stream) cli.println(o.json ? eventJSON(e) : eventText(e));
}

export function register(compose: Command, cli: Cli): void {
  compose.command('events')
    .description('Receive real time events from containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--json', 'Output events as a stream of json objects')
    .action(async (services: string[], o: { json?: boolean }, cmd: Command) => {
      await composeEvents(cli, await projectName(cmd, cli), services, o);
    });
}
