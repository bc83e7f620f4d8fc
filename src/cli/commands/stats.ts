// berth stats [--no-stream] [--format] [CONTAINER...]
import { Command } from 'commander';
import { ApiError } from '../../client/errors';
import type { JsonStream } from '../../client/client';
import type { StatsJSON } from '../../client/types';
import { Cli, errorText, StatusError } from '../cli';
import { computeStats, DEFAULT_STATS_FORMAT, STATS_HEADERS, StatsContext, StatsEntry } from '../format/contexts';
import { normalizeFormat, renderFormat } from '../format/formatter';

interface StatsOpts { all?: boolean; noStream?: boolean; stream?: boolean; format?: string; trunc?: boolean }

export function register(parent: Command, cli: Cli): void {
  parent.command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .usage('[OPTIONS] [CONTAINER...]')
    .argument('[containers...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', "Don't truncate output")
    .action(async (args: string[], o: StatsOpts) => {
      const format = normalizeFormat(o.format, DEFAULT_STATS_FORMAT);
      const trunc = o.trunc !== false;
      let names = args;
      if (!names.length) {
        const list = await cli.client.containerList({ all: !!o.all });
        names = list.map((c) => c.Id.slice(0, 12));
      }
      const render = (entries: StatsEntry[]) => renderFormat(format, entries.map((e) => new StatsContext(e, trunc)), STATS_HEADERS);
      if (o.stream === false) {
        const results = await Promise.all(names.map(async (n) => {
          try {
            return { entry: computeStats(n, await cli.client.containerStatsOnce(n)) };
          } catch (e) {
            return { error: e };
          }
        }));
        const errs = results.filter((r) => r.error).map((r) => errorText(r.error));
        if (errs.length && args.length) throw new StatusError(1, errs.join('\n'));
        cli.print(render(results.filter((r) => r.entry).map((r) => r.entry as StatsEntry)));
        return;
      }
      // streaming: one stats stream per container, redraw on every sample
      const entries = new Map<string, StatsEntry>();
      const streams: JsonStream<StatsJSON>[] = [];
      const isTTY = !!(cli.out as NodeJS.WriteStream).isTTY;
      let timer: NodeJS.Timeout | undefined;
      const redraw = () => {
        if (timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          const text = render(names.filter((n) => entries.has(n)).map((n) => entries.get(n) as StatsEntry));
          if (isTTY) cli.print('\x1b[2J\x1b[H' + text.split('\n').join('\x1b[K\n'));
          else cli.print(text);
        }, 100);
      };
      const follow = async (n: string) => {
        try {
          const s = await cli.client.containerStats(n);
          streams.push(s);
          for await (const sample of s) {
            entries.set(n, computeStats(n, sample));
            redraw();
          }
        } catch (e) {
          if (args.length && e instanceof ApiError) throw e;
        }
        entries.delete(n);
      };
      if (args.length === 0) {
        // follow starts of new containers
        cli.client.events({ filters: { type: ['container'] } }).then(async (ev) => {
          streams.push(ev as unknown as JsonStream<StatsJSON>);
          for await (const e of ev) {
            if (e.Action === 'start') {
              const id = e.Actor.ID.slice(0, 12);
              if (!names.includes(id)) { names.push(id); void follow(id); }
            }
          }
        }).catch(() => undefined);
      }
      redraw();
      const results = await Promise.allSettled(names.map(follow));
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
      for (const s of streams) s.close();
    });
}
