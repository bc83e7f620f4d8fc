// berth compose ps: the project's containers, compose v2's columns, filters and JSON fields.
import { Option, type Command } from 'commander';
import type { Project } from '../../../compose/model';
import { serviceContainers, ServiceContainer } from '../../../compose/query/summary';
import { Cli, collect, StatusError } from '../../cli';
import { contextJSON, ellipsis, goQuote, goTimeString, normalizeFormat, renderFormat, truncateId } from '../../format/formatter';
import { displayablePorts } from '../../format/ports';
import { humanSizeWithPrecision, timeAgo } from '../../format/units';
import { projectOrName } from './target';

export const COMPOSE_PS_FORMAT = 'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}';

export const COMPOSE_PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Name: 'NAME', Project: 'PROJECT', Service: 'SERVICE', Image: 'IMAGE', Command: 'COMMAND',
  CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE',
  Labels: 'LABELS', Label: 'LABEL', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Health: 'HEALTH', ExitCode: 'EXIT CODE',
};

/** The methods `{{json .}}` prints: every argument-less one (docker's formatter.MarshalJSON). */
const FIELDS = ['Command', 'CreatedAt', 'ExitCode', 'Health', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Name', 'Names',
  'Networks', 'Ports', 'Project', 'Publishers', 'RunningFor', 'Service', 'Size', 'State', 'Status'];

/** compose v2's formatter.ContainerContext */
export class ComposeContainerContext {
  constructor(private readonly c: ServiceContainer, private readonly trunc = true, private readonly now = Date.now()) {}

  ID(): string { return this.trunc ? truncateId(this.c.ID) : this.c.ID; }
  Name(): string { return this.c.Name; }
  Names(): string {
    let names = this.c.Names.map((n) => n.replace(/^\//, ''));
    if (this.trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }
  Service(): string { return this.c.Service; }
  Project(): string { return this.c.Project; }
  Image(): string { return this.c.Image; }
  Command(): string { return goQuote(this.trunc ? ellipsis(this.c.Command, 20) : this.c.Command); }
  CreatedAt(): string { return goTimeString(this.c.Created); }
  RunningFor(): string { return timeAgo(this.c.Created, this.now); }
  ExitCode(): number { return this.c.ExitCode; }
  State(): string { return this.c.State; }
  Status(): string { return this.c.Status; }
  Health(): string { return this.c.Health; }
  Publishers(): ServiceContainer['Publishers'] { return this.c.Publishers; }
  Ports(): string {
    return displayablePorts(this.c.Publishers.map((p) => ({ IP: p.URL, PrivatePort: p.TargetPort, PublicPort: p.PublishedPort, Type: p.Protocol })));
  }
  Labels(): string { return Object.keys(this.c.Labels).sort().map((k) => `${k}=${this.c.Labels[k]}`).join(','); }
  Label(name: string): string { return this.c.Labels[name] ?? ''; }
  Mounts(): string { return this.c.Mounts.map((m) => (this.trunc ? ellipsis(m, 15) : m)).join(','); }
  LocalVolumes(): string { return String(this.c.LocalVolumes); }
  Networks(): string { return this.c.Networks.join(','); }
  Size(): string {
    const srw = humanSizeWithPrecision(this.c.SizeRw, 3);
    return this.c.SizeRootFs > 0 ? `${srw} (virtual ${humanSizeWithPrecision(this.c.SizeRootFs, 3)})` : srw;
  }

  toJSON(): Record<string, unknown> { return contextJSON(this, FIELDS); }
}

export interface ComposePsOptions {
  all?: boolean; quiet?: boolean; services?: boolean; format?: string; status?: string[]; filter?: string; trunc?: boolean;
  /** --orphans (default true): containers of services the file no longer declares are listed too */
  orphans?: boolean;
}

/** pflag's bool value (`--orphans=false`): strconv.ParseBool's words, its error otherwise. */
export function parseBoolFlag(flag: string): (v: string) => boolean {
  return (v) => {
    if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
    if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
    throw new StatusError(1, `invalid argument "${v}" for "--${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
  };
}

/** `--filter status=X` adds to --status; compose knows no other filter (source: not implemented). */
export function statusesOf(o: ComposePsOptions): string[] {
  const statuses = [...(o.status ?? [])];
  if (o.filter) {
    const i = o.filter.indexOf('=');
    if (i < 0) throw new StatusError(1, 'arguments to --filter should be in form KEY=VAL');
    const key = o.filter.slice(0, i), val = o.filter.slice(i + 1);
    if (key === 'source') throw new StatusError(1, 'not implemented');
    if (key !== 'status') throw new StatusError(1, `unknown filter ${key}`);
    statuses.push(val);
  }
  return statuses;
}

export async function composePs(cli: Cli, name: string, project: Project | undefined, services: string[], o: ComposePsOptions): Promise<void> {
  const statuses = statusesOf(o);
  if (project) {
    for (const s of services) if (!project.services[s]) throw new StatusError(1, `no such service: ${s}`);
    // --orphans=false: only the services the file declares (compose lists them all otherwise)
    if (!services.length && o.orphans === false) services = Object.keys(project.services);
  }
  const all = !!o.all || statuses.length > 0;
  let list = await serviceContainers(cli.client, name, { all, oneOff: all ? 'include' : 'exclude', services });
  if (statuses.length) list = list.filter((c) => statuses.includes(c.State));
  list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  if (o.quiet) {
    cli.print(list.map((c) => c.ID + '\n').join(''));
    return;
  }
  if (o.services) {
    const names: string[] = [];
    for (const c of list) if (!names.includes(c.Service)) names.push(c.Service);
    cli.println(names.join('\n'));
    return;
  }
  const now = Date.now();
  const format = normalizeFormat(o.format, COMPOSE_PS_FORMAT);
  cli.print(renderFormat(format, list.map((c) => new ComposeContainerContext(c, o.trunc !== false, now)), COMPOSE_PS_HEADERS));
}

export function register(compose: Command, cli: Cli): void {
  compose.command('ps')
    .description('List containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('--filter <string>', 'Filter services by a property (supported filters: status)')
    .option('--format <string>', 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template', 'table')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option('--status <string>', 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]', collect)
    .addOption(new Option('--orphans [bool]', 'Include orphaned services (not declared by project) (default true)').argParser(parseBoolFlag('orphans')).preset(true))
    .action(async (services: string[], o: ComposePsOptions, cmd: Command) => {
      statusesOf(o); // a bad --filter fails before the file is read, as compose's PreRunE
      const t = await projectOrName(cmd, cli, services);
      await composePs(cli, t.name, t.project, services, o);
    });
}
