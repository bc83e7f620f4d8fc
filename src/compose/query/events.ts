// A project's container events as compose v2 reports them: one-off containers left out,
// the compose labels dropped from the attributes, nanosecond timestamps.
import type { Client } from '../../client/client';
import type { EventMessage } from '../../client/types';
import { LABEL } from '../model';

export interface ProjectEvent {
  /** Unix time in nanoseconds */
  timeNano: bigint;
  service: string;
  /** the container ID */
  container: string;
  /** the engine's action: create, start, die, ... */
  action: string;
  attributes: Record<string, string>;
}

export interface ProjectEventStream extends AsyncIterable<ProjectEvent> {
  close(): void;
}

/** Subscribe to the project's container events (the subscription is live when this resolves). */
export async function projectEvents(client: Client, project: string, o: { services?: string[]; since?: string } = {}): Promise<ProjectEventStream> {
  const stream = await client.events({ since: o.since, filters: { label: [`${LABEL.project}=${project.toLowerCase()}`], type: ['container'] } });
  const services = o.services ?? [];
  async function* iterate(): AsyncGenerator<ProjectEvent> {
    for await (const e of stream) {
      const ev = toProjectEvent(e);
      if (!ev) continue;
      if (services.length && !services.includes(ev.service)) continue;
      yield ev;
    }
  }
  return { [Symbol.asyncIterator]: iterate, close: () => stream.close() };
}

export function toProjectEvent(e: EventMessage & { timeNanoExact?: string }): ProjectEvent | undefined {
  if (e.Type !== 'container') return undefined;
  const attrs = e.Actor?.Attributes ?? {};
  if (attrs[LABEL.oneoff] === 'True') return undefined;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (!k.startsWith('com.docker.compose.')) attributes[k] = v;
  const timeNano = e.timeNanoExact ? BigInt(e.timeNanoExact) : e.timeNano ? BigInt(Math.round(e.timeNano)) : BigInt(e.time) * 1_000_000_000n;
  return { timeNano, service: attrs[LABEL.service] ?? '', container: e.Actor?.ID ?? '', action: e.Action, attributes };
}

/** "1733061845.123456789": the engine's since/until form of a nanosecond time. */
export function unixNanoString(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}
