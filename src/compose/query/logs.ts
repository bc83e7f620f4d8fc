// `compose logs`: every container of the project (or of the named services) streamed through one
// LogPrefixer. With follow, it also attaches to containers that start later (scaled up,
// restarted), says "exited with code N" when one dies, and ends when none is left running,
// as compose v2 does.
import type { Client } from '../../client/client';
import type { ContainerSummary } from '../../client/types';
import { FrameDecoder } from '../../client/stream';
import type { LogPrefixer } from '../progress/logprefix';
import { LABEL } from '../model';
import { byName, nameWithoutProject, projectContainers, serviceContainer } from './containers';
import { projectEvents, unixNanoString } from './events';

export interface ProjectLogsOptions {
  services?: string[];
  /** with one service: only its container with this number */
  index?: number;
  follow?: boolean;
  tail?: string;
  /** in the engine's form (Unix seconds) */
  since?: string;
  until?: string;
  timestamps?: boolean;
}

type Named = Pick<ContainerSummary, 'Id' | 'Names' | 'Labels'>;

export async function projectLogs(client: Client, project: string, consumer: LogPrefixer, o: ProjectLogsOptions = {}): Promise<void> {
  // subscribe before listing, so that a container starting in between is not missed
  const events = o.follow ? await projectEvents(client, project, { services: o.services }) : undefined;
  try {
    const containers = o.index && o.index > 0 && o.services?.length
      ? [await serviceContainer(client, project, o.services[0], { index: o.index, all: true, oneOff: 'exclude' })]
      : await projectContainers(client, project, { all: true, oneOff: 'exclude', services: o.services });
    containers.sort(byName);
    for (const c of containers) consumer.register(nameWithoutProject(c));
    const streams: Array<Promise<void>> = containers.map((c) => containerLogs(client, c, consumer, o));
    if (events) {
      const running = containers.filter((c) => c.State === 'running' || c.State === 'restarting');
      if (running.length) await watch(client, events, running, consumer, o, streams);
    }
    await Promise.all(streams);
  } finally {
    events?.close();
  }
}

/** Follow the project's events until every watched container has died for good. */
async function watch(client: Client, events: AsyncIterable<{ action: string; container: string; service: string; timeNano: bigint }>,
  running: Named[], consumer: LogPrefixer, o: ProjectLogsOptions, streams: Array<Promise<void>>): Promise<void> {
  const indexFilter = o.index && o.index > 0;
  // container ID -> times it died (a restart after a death needs a new log stream)
  const watched = new Map<string, number>(running.map((c) => [c.Id, 0]));
  const expected = new Set(running.map((c) => c.Id));
  for await (const ev of events) {
    if (ev.action !== 'start' && ev.action !== 'die' && ev.action !== 'stop') continue;
    let inspected;
    try {
      inspected = await client.containerInspect(ev.container);
    } catch {
      watched.delete(ev.container); // gone before we could look: stop watching it
      expected.delete(ev.container);
      if (expected.size === 0) return;
      continue;
    }
    const c: Named = { Id: inspected.Id, Names: [inspected.Name], Labels: inspected.Config.Labels ?? {} };
    if (o.services?.length && !o.services.includes(c.Labels?.[LABEL.service] ?? '')) continue;
    const name = nameWithoutProject(c);
    if (ev.action === 'die' || ev.action === 'stop') {
      if (!watched.has(c.Id)) continue;
      const willRestart = inspected.State.Restarting || inspected.State.Running;
      if (ev.action === 'die' || !inspected.State.Running) {
        consumer.status(name, `exited with code ${inspected.State.ExitCode}`);
      }
      if (ev.action === 'die') watched.set(c.Id, (watched.get(c.Id) ?? 0) + 1);
      if (!willRestart) {
        watched.delete(c.Id);
        expected.delete(c.Id);
      }
    } else if (!indexFilter) {
      const deaths = watched.get(c.Id);
      if (deaths === 0) continue; // its first stream is still running
      watched.set(c.Id, 0);
      expected.add(c.Id);
      consumer.register(name);
      streams.push(containerLogs(client, c, consumer, { ...o, since: unixNanoString(ev.timeNano) }));
    }
    if (expected.size === 0) return;
  }
}

/** One container's log through the consumer (stdout and stderr both as log lines, as compose). */
export async function containerLogs(client: Client, c: Named, consumer: LogPrefixer, o: ProjectLogsOptions): Promise<void> {
  const inspected = await client.containerInspect(c.Id);
  const res = await client.containerLogs(c.Id, {
    follow: o.follow, tail: o.tail ?? 'all', since: o.since, until: o.until, timestamps: o.timestamps, stdout: true, stderr: true,
  });
  const lines = consumer.lineWriter(nameWithoutProject(c));
  const tty = !!inspected.Config.Tty;
  const dec = new FrameDecoder();
  await new Promise<void>((resolve, reject) => {
    res.on('data', (chunk: Buffer) => {
      if (tty) lines.write(chunk);
      else for (const f of dec.push(chunk)) lines.write(f.payload);
    });
    res.on('end', resolve);
    res.on('close', resolve);
    res.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
  });
  lines.end();
}
