// The daemon's event stream: every service publishes here; /events subscribers filter.
import { EventEmitter } from 'node:events';
import type { Filters } from '../../lib/filters';

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';

export interface BerthEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const HISTORY = 1000;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly history: BerthEvent[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const ev: BerthEvent = {
      Type: type,
      Action: action,
      Actor: { ID: actorId, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    this.record(ev);
  }

  private record(ev: BerthEvent): void {
    this.history.push(ev);
    if (this.history.length > HISTORY) this.history.shift();
    this.emitter.emit('event', ev);
  }

  /** Past events within [since, until] (Unix seconds, fractional allowed). */
  past(since?: number, until?: number): BerthEvent[] {
    return this.history.filter((e) => (since === undefined || e.timeNano / 1e9 >= since) && (until === undefined || e.timeNano / 1e9 <= until));
  }

  subscribe(fn: (ev: BerthEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  get listenerCount(): number {
    return this.emitter.listenerCount('event');
  }
}

export function eventMatches(ev: BerthEvent, f: Filters): boolean {
  const any = (key: string, test: (v: string) => boolean) => {
    const vals = f.get(key);
    return !vals || vals.length === 0 || vals.some(test);
  };
  const attrs = ev.Actor.Attributes;
  return any('type', (v) => v === ev.Type)
    && any('event', (v) => v === ev.Action || ev.Action.startsWith(v + ':'))
    && any('container', (v) => ev.Type === 'container' && (ev.Actor.ID.startsWith(v) || attrs.name === v))
    && any('image', (v) => (ev.Type === 'image' && (ev.Actor.ID.includes(v) || attrs.name === v)) || attrs.image === v)
    && any('network', (v) => ev.Type === 'network' && (ev.Actor.ID.startsWith(v) || attrs.name === v))
    && any('volume', (v) => ev.Type === 'volume' && (ev.Actor.ID === v))
    && (f.get('label') ?? []).every((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? l in attrs : attrs[l.slice(0, eq)] === l.slice(eq + 1);
    });
}
