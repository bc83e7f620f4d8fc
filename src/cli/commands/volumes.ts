// berth volume create / ls / inspect / rm / prune, as docker's.
import { Command } from 'commander';
import { encodeFilters } from '../../client/client';
import { Cli, collect, errorText, parseFilters, requireArgs, StatusError } from '../cli';
import { normalizeFormat, renderFormat } from '../format/formatter';
import { humanSize } from '../format/units';
import { parseKeyValueMap, parseLabels } from '../opts';
import { inspectObjects } from './inspect';
import { confirm } from './prompt';

const DEFAULT_FORMAT = 'table {{.Driver}}\t{{.Name}}';
const HEADERS: Record<string, string> = { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', Labels: 'LABELS', CreatedAt: 'CREATED', Size: 'SIZE', Links: 'LINKS' };

interface VolumeJson { Name: string; Driver: string; Mountpoint: string; Scope: string; Labels: Record<string, string> | null; CreatedAt: string; Options: Record<string, string> | null }

/** What a --format template sees for one volume (docker's volume context). */
class VolumeContext {
  constructor(private readonly v: VolumeJson) {}
  get Name(): string { return this.v.Name; }
  get Driver(): string { return this.v.Driver; }
  get Mountpoint(): string { return this.v.Mountpoint; }
  get Scope(): string { return this.v.Scope; }
  get CreatedAt(): string { return this.v.CreatedAt; }
  get Labels(): string { return Object.entries(this.v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','); }
  Label(name: string): string { return this.v.Labels?.[name] ?? ''; }
}

export function register(program: Command, cli: Cli): void {
  const volume = program.command('volume').description('Manage volumes').usage('COMMAND');
  volume.action(() => { volume.outputHelp(); });

  volume.command('create')
    .description('Create a volume')
    .usage('[OPTIONS] [VOLUME]')
    .argument('[args...]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--name <string>', 'Specify volume name')
    .action(async (args: string[], o: { driver: string; label?: string[]; opt?: string[]; name?: string }, cmd: Command) => {
      requireArgs(cmd, args, 0, 1);
      if (args[0] && o.name && args[0] !== o.name) throw new StatusError(1, `conflicting options: either specify --name or provide positional arg, not both`);
      const body: Record<string, unknown> = { Driver: o.driver, DriverOpts: parseKeyValueMap('--opt', o.opt ?? []), Labels: parseLabels(o.label ?? []), Name: args[0] ?? o.name ?? '' };
      const v = await cli.client.json<VolumeJson>('POST', '/volumes/create', { body });
      cli.println(v.Name);
    });

  volume.command('ls')
    .alias('list')
    .description('List volumes')
    .usage('[OPTIONS]')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display volume names')
    .action(async (o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const filters = parseFilters(o.filter);
      const r = await cli.client.json<{ Volumes: VolumeJson[] | null }>('GET', '/volumes', {
        query: { filters: encodeFilters(filters) },
      });
      const list = (r.Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name));
      const format = o.quiet ? '{{.Name}}' : normalizeFormat(o.format, DEFAULT_FORMAT);
      cli.print(renderFormat(format, list.map((v) => new VolumeContext(v)), HEADERS));
    });

  volume.command('inspect')
    .description('Display detailed information on one or more volumes')
    .usage('[OPTIONS] VOLUME [VOLUME...]')
    .argument('[names...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (args: string[], o: { format?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      await inspectObjects(cli, args, ['volume'], o);
    });

  volume.command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .usage('[OPTIONS] VOLUME [VOLUME...]')
    .argument('[names...]')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(async (args: string[], o: { force?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      const errors: string[] = [];
      for (const n of args) {
        try {
          await cli.client.noContent('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: o.force ? '1' : undefined } });
          cli.println(n);
        } catch (e) {
          errors.push(errorText(e));
        }
      }
      if (errors.length) throw new StatusError(1, errors.join('\n'));
    });

  volume.command('prune')
    .description('Remove unused local volumes')
    .usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter?: string[]; force?: boolean }) => {
      const warning = o.all ? 'WARNING! This will remove all local volumes not used by at least one container.'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
      if (!o.force && !(await confirm(cli, warning))) return;
      const filters = parseFilters(o.filter);
      if (o.all) filters.all = ['true'];
      const r = await cli.client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', {
        query: { filters: encodeFilters(filters) },
      });
      if (r.VolumesDeleted && r.VolumesDeleted.length) cli.println(`Deleted Volumes:\n${r.VolumesDeleted.join('\n')}\n`);
      cli.println(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}`);
    });
}
