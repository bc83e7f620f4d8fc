// berth system df [-v]: what images, containers, volumes and the build cache take, as docker's.
import { Command } from 'commander';
import type { ContainerSummary, ImageSummary } from '../../client/types';
import { Cli } from '../cli';
import { CONTAINER_HEADERS, ContainerContext, IMAGE_HEADERS, ImageContext, imageRows } from '../format/contexts';
import { normalizeFormat, renderFormat } from '../format/formatter';
import { humanSize, humanSizeWithPrecision } from '../format/units';

interface DfVolume { Name: string; UsageData?: { Size: number; RefCount: number } }
interface DiskUsage { LayersSize?: number; Images?: ImageSummary[]; Containers?: ContainerSummary[]; Volumes?: DfVolume[]; BuildCache?: unknown[] }

const SUMMARY_FORMAT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const ACTIVE_STATES = ['running', 'paused', 'restarting'];

/** "1.2kB (50%)", docker's reclaimable column (the share only when there is a total). */
function reclaimable(n: number, total: number): string {
  return total > 0 ? `${humanSize(n)} (${Math.floor((n * 100) / total)}%)` : humanSize(n);
}

interface SummaryRow { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string }

export function summaryRows(du: DiskUsage): SummaryRow[] {
  const images = du.Images ?? [];
  const layers = du.LayersSize ?? 0;
  const usedByImages = images.filter((i) => i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1).reduce((n, i) => n + i.Size - i.SharedSize, 0);
  const containers = du.Containers ?? [];
  const cSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const cFree = containers.filter((c) => !ACTIVE_STATES.includes(c.State)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volumes = (du.Volumes ?? []).filter((v) => (v.UsageData?.Size ?? -1) !== -1);
  const vSize = volumes.reduce((n, v) => n + v.UsageData!.Size, 0);
  const vFree = volumes.filter((v) => v.UsageData!.RefCount === 0).reduce((n, v) => n + v.UsageData!.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize(layers), Reclaimable: reclaimable(layers - usedByImages, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter((c) => ACTIVE_STATES.includes(c.State)).length), Size: humanSize(cSize), Reclaimable: reclaimable(cFree, cSize) },
    { Type: 'Local Volumes', TotalCount: String((du.Volumes ?? []).length), Active: String((du.Volumes ?? []).filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(vSize), Reclaimable: reclaimable(vFree, vSize) },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
}

/** df's image rows: shared and unique sizes with four digits, as docker's disk-usage view. */
class DfImageContext extends ImageContext {
  constructor(private readonly base: ImageContext, private readonly img: ImageSummary) { super(img, base.repo, base.tag, base.digest); }
  override ID(): string { return this.base.ID(); }
  override SharedSize(): string { return this.img.SharedSize === -1 ? 'N/A' : humanSize(this.img.SharedSize); }
  override UniqueSize(): string { return this.img.SharedSize === -1 ? 'N/A' : humanSize(this.img.Size - this.img.SharedSize); }
}

/** df's container rows: the writable layer's size alone. */
class DfContainerContext extends ContainerContext {
  constructor(private readonly summary: ContainerSummary) { super(summary); }
  override Size(): string { return humanSizeWithPrecision(this.summary.SizeRw ?? 0, 3); }
}

function verbose(du: DiskUsage): string {
  const images = du.Images ?? [];
  const rows = images.flatMap((img) => imageRows([img]).map((r) => new DfImageContext(r, img)));
  let out = 'Images space usage:\n\n';
  out += renderFormat('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', rows, IMAGE_HEADERS);
  out += '\nContainers space usage:\n\n';
  out += renderFormat('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
    (du.Containers ?? []).map((c) => new DfContainerContext(c)), CONTAINER_HEADERS);
  out += '\nLocal Volumes space usage:\n\n';
  out += renderFormat('table {{.Name}}\t{{.Links}}\t{{.Size}}', (du.Volumes ?? []).map((v) => ({
    Name: v.Name,
    Links: v.UsageData && v.UsageData.RefCount !== -1 ? String(v.UsageData.RefCount) : 'N/A',
    Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A',
  })), { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' });
  out += '\nBuild cache usage: 0B\n\n';
  out += renderFormat('table {{.ID}}\t{{.Type}}\t{{.Size}}\t{{.Created}}\t{{.LastUsed}}\t{{.Usage}}\t{{.Shared}}', [],
    { ID: 'CACHE ID', Type: 'CACHE TYPE', Size: 'SIZE', Created: 'CREATED', LastUsed: 'LAST USED', Usage: 'USAGE', Shared: 'SHARED' });
  return out;
}

export function registerDf(parent: Command, cli: Cli): void {
  parent.command('df')
    .description('Show docker disk usage')
    .usage('[OPTIONS]')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (o: { format?: string; verbose?: boolean }) => {
      const du = await cli.client.json<DiskUsage>('GET', '/system/df');
      if (o.verbose && !o.format) { cli.print(verbose(du)); return; }
      cli.print(renderFormat(normalizeFormat(o.format, SUMMARY_FORMAT), summaryRows(du), SUMMARY_HEADERS));
    });
}
