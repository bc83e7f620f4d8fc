// berth compose images: the image of each of the project's containers.
import { projectImages, ContainerImage } from '../../../compose/query/images';
import type { Command } from 'commander';
import { Cli } from '../../cli';
import { truncateId } from '../../format/formatter';
import { humanSizeWithPrecision } from '../../format/units';
import { projectName } from './target';
import { printComposeList } from './version';

export function imagesTable(images: ContainerImage[]): string[][] {
  return images.map((img) => [img.ContainerName, img.Repository || '<none>', img.Tag || '<none>', truncateId(img.ID), humanSizeWithPrecision(img.Size, 3)]);
}

export async function composeImages(cli: Cli, name: string, services: string[], o: { quiet?: boolean; format?: string }): Promise<void> {
  const images = await projectImages(cli.client, name, services);
  if (o.quiet) {
    const ids = [...new Set(images.map((i) => i.ID.replace(/^[^:]*:/, '')))];
    cli.print(ids.map((id) => id + '\n').join(''));
    return;
  }
  images.sort((a, b) => (a.ContainerName < b.ContainerName ? -1 : a.ContainerName > b.ContainerName ? 1 : 0));
  printComposeList(cli, o.format, images, ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], imagesTable(images));
}

export function register(compose: Command, cli: Cli): void {
  compose.command('images')
    .description('List images used by the created containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--format <string>', 'Format the output. Values: [table | json]', 'table')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (services: string[], o: { quiet?: boolean; format?: string }, cmd: Command) => {
      await composeImages(cli, await projectName(cmd, cli), services, o);
    });
}
