// berth system df [-v]: what images, containers, volumes and the build cache take, as the
// docker CLI shows GET /system/df (reclaimable = what no running container holds).
import { Command } from 'commander';
import { Cli } from '../cli';
import { renderFormat, normalizeFormat } from '../format/formatter';
import { ContainerContext, IMAGE_HEADERS, CONTAINER_HEADERS, imageRows } from '../format/contexts';
import { humanSize } from '../format/units';
import type { ContainerSummary, ImageSummary } from '../../client/types';

interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: Array<{ Name: string; UsageData?: { Size: number; RefCount: number } | null }> | null;
  BuildCache?: Array<{ Size: number; InUse: boolean; Shared: boolean }> | null;
}

const SUMMARY_FORMAT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

const withPercent = (reclaimable: number, total: number) => (total > 0 ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize(reclaimable));
const isActive = (c: ContainerSummary) => /running|paused|restarting/.test(c.State);

function summaryRows(du: DiskUsage): Array<Record<string, () => string>> {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const total = du.LayersSize ?? 0;
  let used = 0;
  for (const i of images) if (i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1) used += i.Size - i.SharedSize;
  const cSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const cReclaim = containers.filter((c) => !isActive(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const vSize = volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const vReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const bSize = cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
  const bReclaim = cache.filter((b) => !b.Shared && !b.InUse).reduce((n, b) => n + b.Size, 0);
  const row = (t: string, n: number, a: number, s: string, r: string) => ({ Type: () => t, TotalCount: () => String(n), Active: () => String(a), Size: () => s, Reclaimable: () => r });
  return [
    row('Images', images.length, images.filter((i) => i.Containers > 0).length, humanSize(total), withPercent(total - used, total)),
    row('Containers', containers.length, containers.filter(isActive).length, humanSize(cSize), withPercent(cReclaim, cSize)),
    row('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, humanSize(vSize), withPercent(vReclaim, vSize)),
    row('Build Cache', cache.length, cache.filter((b) => b.InUse).length, humanSize(bSize), humanSize(bReclaim)),
  ];
}

export function registerDf(parent: Command, cli: Cli): void {
  parent.command('df')
    .description('Show docker disk usage')
    .usage('[OPTIONS]')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (o: { format?: string; verbose?: boolean }) => {
      const du = await cli.client.json<DiskUsage>('GET', '/system/df');
      if (!o.verbose) {
        cli.print(renderFormat(normalizeFormat(o.format, SUMMARY_FORMAT), summaryRows(du), SUMMARY_HEADERS));
        return;
      }
      const now = Date.now();
      cli.println('Images space usage:\n');
      cli.print(renderFormat('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
        imageRows(du.Images ?? [], { now }), { ...IMAGE_HEADERS, SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' }));
      cli.println('\nContainers space usage:\n');
      const rows = (du.Containers ?? []).map((c) => Object.assign(new ContainerContext(c, true, now), {
        LocalVolumes: () => String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
        // the writable layer only, as docker shows it here
        Size: () => new ContainerContext({ ...c, SizeRootFs: 0 }, true, now).Size(),
      }));
      cli.print(renderFormat('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', rows,
        { ...CONTAINER_HEADERS, LocalVolumes: 'LOCAL VOLUMES', RunningFor: 'CREATED' }));
      cli.println('\nLocal Volumes space usage:\n');
      cli.print(renderFormat('table {{.Name}}\t{{.Links}}\t{{.Size}}', (du.Volumes ?? []).map((v) => ({
        Name: () => v.Name, Links: () => String(v.UsageData?.RefCount ?? 'N/A'), Size: () => (v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A'),
      })), { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' }));
      const cache = du.BuildCache ?? [];
      cli.println(`\nBuild cache usage: ${humanSize(cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0))}\n`);
      cli.print(renderFormat('table {{.ID}}\t{{.Type}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', [],
        { ID: 'CACHE ID', Type: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' }));
    });
}
