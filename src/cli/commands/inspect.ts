// berth inspect / container inspect / image inspect
import { Command } from 'commander';
import { ApiError } from '../../client/errors';
import { Cli, errorText, requireArgs, StatusError } from '../cli';
import { indentJson } from '../format/json';
import { Template } from '../format/template';

type Kind = 'container' | 'image' | 'network' | 'volume';

interface InspectOptions { format?: string; type?: string; size?: boolean }

async function fetchRaw(cli: Cli, kind: Kind, ref: string, size: boolean): Promise<string> {
  switch (kind) {
    case 'container': return cli.client.containerInspectRaw(ref, { size });
    case 'image': return cli.client.imageInspectRaw(ref);
    case 'network': return cli.client.text('GET', `/networks/${encodeURIComponent(ref)}`);
    case 'volume': return cli.client.text('GET', `/volumes/${encodeURIComponent(ref)}`);
  }
}

/** Print the found objects (indented JSON array or one template execution each), then the errors. */
export async function inspectObjects(cli: Cli, refs: string[], kinds: Kind[] | 'any', o: InspectOptions): Promise<void> {
  const raws: string[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    if (kinds === 'any') {
      let found: string | undefined;
      for (const k of ['container', 'image', 'network', 'volume'] as Kind[]) {
        try {
          found = await fetchRaw(cli, k, ref, !!o.size && k === 'container');
          break;
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 404) {
            if (e instanceof ApiError && (e.status === 400 || e.status === 405)) continue;
            throw e;
          }
        }
      }
      if (found === undefined) errors.push(`Error: No such object: ${ref}`);
      else raws.push(found);
    } else {
      try {
        raws.push(await fetchRaw(cli, kinds[0], ref, !!o.size));
      } catch (e) {
        if (e instanceof ApiError) {
          errors.push(errorText(e));
        } else throw e;
      }
    }
  }
  if (o.format) {
    const fmt = o.format === 'json' ? '{{json .}}' : o.format;
    let tmpl: Template;
    try {
      tmpl = new Template(fmt);
    } catch (e) {
      throw new StatusError(1, `template parsing error: ${(e as Error).message}`);
    }
    for (const raw of raws) {
      try {
        cli.println(tmpl.execute(JSON.parse(raw)));
      } catch (e) {
        throw new StatusError(1, `template parsing error: ${(e as Error).message}`);
      }
    }
  } else if (raws.length) {
    cli.println(indentJson('[' + raws.map((r) => r.trim()).join(',') + ']'));
  } else {
    cli.println('[]');
  }
  if (errors.length) throw new StatusError(1, errors.join('\n'));
}

export function register(parent: Command, cli: Cli): void {
  parent.command('inspect')
    .description('Return low-level information on Docker objects')
    .usage('[OPTIONS] NAME|ID [NAME|ID...]')
    .argument('[names...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .option('--type <string>', 'Only inspect objects of the given type')
    .action(async (args: string[], o: InspectOptions, cmd: Command) => {
      requireArgs(cmd, args, 1);
      let kinds: Kind[] | 'any' = 'any';
      if (o.type) {
        if (!['container', 'image', 'network', 'volume'].includes(o.type)) throw new StatusError(1, `"${o.type}" is not a valid value for --type`);
        kinds = [o.type as Kind];
      }
      await inspectObjects(cli, args, kinds, o);
    });
}

export function registerTyped(parent: Command, cli: Cli, kind: 'container' | 'image'): void {
  const c = parent.command('inspect')
    .description(kind === 'container' ? 'Display detailed information on one or more containers' : 'Display detailed information on one or more images')
    .usage(kind === 'container' ? '[OPTIONS] CONTAINER [CONTAINER...]' : '[OPTIONS] IMAGE [IMAGE...]')
    .argument('[names...]')
    .option('-f, --format <string>', 'Format output using a custom template');
  if (kind === 'container') c.option('-s, --size', 'Display total file sizes');
  c.action(async (args: string[], o: InspectOptions, cmd: Command) => {
    requireArgs(cmd, args, 1);
    await inspectObjects(cli, args, [kind], o);
  });
}
