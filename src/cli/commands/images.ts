// berth images / image ls
import { Command } from 'commander';
import { Cli, collect, parseFilters, requireArgs } from '../cli';
import { renderFormat, normalizeFormat } from '../format/formatter';
import { DEFAULT_IMAGES_DIGEST_FORMAT, DEFAULT_IMAGES_FORMAT, IMAGE_HEADERS, imageRows } from '../format/contexts';

interface ImagesOptions { all?: boolean; quiet?: boolean; filter?: string[]; format?: string; trunc?: boolean; digests?: boolean }

export function register(parent: Command, cli: Cli, name = 'images'): Command {
  return parent.command(name)
    .description('List images')
    .usage('[OPTIONS] [REPOSITORY[:TAG]]')
    .argument('[args...]')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('--digests', 'Show digests')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(async (args: string[], o: ImagesOptions, cmd: Command) => {
      requireArgs(cmd, args, 0, 1);
      const filters = parseFilters(o.filter);
      if (args[0]) (filters.reference ??= []).push(args[0]);
      const images = await cli.client.imageList({ all: !!o.all, filters });
      const trunc = o.trunc !== false;
      let format: string;
      if (o.quiet) format = '{{.ID}}';
      else format = normalizeFormat(o.format, o.digests ? DEFAULT_IMAGES_DIGEST_FORMAT : DEFAULT_IMAGES_FORMAT);
      const digests = !!o.digests || format.includes('.Digest');
      cli.print(renderFormat(format, imageRows(images, { digests, trunc }), IMAGE_HEADERS));
    });
}
