// image history, rm/rmi, tag, prune, import, load, save
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { Cli, collect, errorText, parseFilters, requireArgs, StatusError } from '../cli';
import { normalizeFormat, renderFormat } from '../format/formatter';
import { DEFAULT_HISTORY_FORMAT, HISTORY_HEADERS, HistoryContext } from '../format/contexts';
import { displayJsonMessages } from '../format/jsonmessage';
import { humanSize } from '../format/units';
import { parseNormalizedNamed, ReferenceError, repoName } from '../../lib/reference';
import { confirm } from './prompt';

export function registerHistory(parent: Command, cli: Cli): void {
  parent.command('history')
    .description('Show the history of an image')
    .usage('[OPTIONS] IMAGE')
    .argument('[args...]')
    .option('--format <string>', 'Format output using a custom template')
    .option('-H, --human [bool]', 'Print sizes and dates in human readable format', true)
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(async (args: string[], o: { format?: string; human?: boolean | string; trunc?: boolean; quiet?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      const items = await cli.client.imageHistory(args[0]);
      const human = !(o.human === false || o.human === 'false');
      const format = o.quiet ? '{{.ID}}' : normalizeFormat(o.format, DEFAULT_HISTORY_FORMAT);
      const trunc = o.trunc !== false;
      const now = Date.now();
      cli.print(renderFormat(format, items.map((h) => new HistoryContext(h, trunc, human, now)), HISTORY_HEADERS));
    });
}

export function registerRmi(parent: Command, cli: Cli, name: string): void {
  const c = parent.command(name)
    .description('Remove one or more images')
    .usage('[OPTIONS] IMAGE [IMAGE...]')
    .argument('[images...]')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .action(async (args: string[], o: { force?: boolean; prune?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      const errors: string[] = [];
      for (const img of args) {
        try {
          const items = await cli.client.imageRemove(img, { force: o.force, noPrune: o.prune === false });
          for (const it of items ?? []) {
            if (it.Deleted) cli.println(`Deleted: ${it.Deleted}`);
            else if (it.Untagged) cli.println(`Untagged: ${it.Untagged}`);
          }
        } catch (e) {
          errors.push(errorText(e));
        }
      }
      if (errors.length) throw new StatusError(1, errors.join('\n'));
    });
  if (name === 'rm') c.alias('remove');
}

export function registerTag(parent: Command, cli: Cli): void {
  parent.command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .usage('SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]')
    .argument('[args...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      requireArgs(cmd, args, 2, 2);
      let r;
      try {
        r = parseNormalizedNamed(args[1]);
      } catch (e) {
        throw new StatusError(1, (e as ReferenceError).message);
      }
      if (r.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
      await cli.client.imageTag(args[0], repoName(r), r.tag ?? 'latest');
    });
}

export function registerImagePrune(parent: Command, cli: Cli): void {
  parent.command('prune')
    .description('Remove unused images')
    .usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter?: string[]; force?: boolean }) => {
      const warning = o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.'
        : 'WARNING! This will remove all dangling images.';
      if (!o.force && !(await confirm(cli, warning))) return;
      const filters = parseFilters(o.filter);
      filters.dangling = [o.all ? 'false' : 'true'];
      const r = await cli.client.imagePrune(filters);
      if (r.ImagesDeleted && r.ImagesDeleted.length) {
        let s = 'Deleted Images:\n';
        for (const d of r.ImagesDeleted) s += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
        cli.println(s);
      }
      cli.println(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}`);
    });
}

export function registerContainerPrune(parent: Command, cli: Cli): void {
  parent.command('prune')
    .description('Remove all stopped containers')
    .usage('[OPTIONS]')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { filter?: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(cli, 'WARNING! This will remove all stopped containers.'))) return;
      const r = await cli.client.containerPrune(parseFilters(o.filter));
      if (r.ContainersDeleted && r.ContainersDeleted.length) {
        cli.println('Deleted Containers:\n' + r.ContainersDeleted.join('\n') + '\n');
      }
      cli.println(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}`);
    });
}

export function registerImport(parent: Command, cli: Cli): void {
  parent.command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .usage('[OPTIONS] file|URL|- [REPOSITORY[:TAG]]')
    .argument('[args...]')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <string>', 'Set commit message for imported image')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .action(async (args: string[], o: { change?: string[]; message?: string; platform?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1, 2);
      const [src, repo] = args;
      if (repo) {
        try {
          parseNormalizedNamed(repo);
        } catch (e) {
          throw new StatusError(1, (e as Error).message);
        }
      }
      let body: Readable;
      let fromSrc = '-';
      if (src === '-') body = process.stdin;
      else if (/^https?:\/\//.test(src)) {
        fromSrc = src;
        body = Readable.from([]);
      } else {
        try {
          fs.accessSync(src, fs.constants.R_OK);
        } catch {
          throw new StatusError(1, `open ${src}: no such file or directory`);
        }
        body = fs.createReadStream(src);
      }
      const stream = await cli.client.imageImport(body, { repo, changes: o.change, message: o.message, platform: o.platform, fromSrc });
      await displayJsonMessages(stream, cli.out, !!(cli.out as NodeJS.WriteStream).isTTY);
    });
}

export function registerLoad(parent: Command, cli: Cli): void {
  parent.command('load')
    .description('Load an image from a tar archive or STDIN')
    .usage('[OPTIONS]')
    .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
    .option('--platform <list>', 'Load only the given platform(s)', collect)
    .option('-q, --quiet', 'Suppress the load output')
    .action(async (o: { input?: string; quiet?: boolean }) => {
      let body: Readable;
      if (o.input) {
        try {
          fs.accessSync(o.input, fs.constants.R_OK);
        } catch {
          throw new StatusError(1, `open ${o.input}: no such file or directory`);
        }
        body = fs.createReadStream(o.input);
      } else {
        if (process.stdin.isTTY) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
        body = process.stdin;
      }
      const isTTY = !!(cli.out as NodeJS.WriteStream).isTTY;
      const stream = await cli.client.imageLoad(body, { quiet: !!o.quiet || !isTTY });
      await displayJsonMessages(stream, cli.out, isTTY);
    });
}

export function registerSave(parent: Command, cli: Cli): void {
  parent.command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .usage('[OPTIONS] IMAGE [IMAGE...]')
    .argument('[images...]')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .option('--platform <list>', 'Save only the given platform(s)', collect)
    .action(async (args: string[], o: { output?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1);
      if (!o.output && (cli.out as NodeJS.WriteStream).isTTY) {
        throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      if (o.output) {
        const dir = path.dirname(path.resolve(o.output));
        if (!fs.existsSync(dir)) throw new StatusError(1, `failed to save image: invalid output path: directory "${dir}" does not exist`);
      }
      const res = await cli.client.imageSave(args);
      if (o.output) {
        const tmp = `${o.output}.berth-tmp-${process.pid}`;
        try {
          await pipeline(res, fs.createWriteStream(tmp));
          fs.renameSync(tmp, o.output);
        } catch (e) {
          fs.rmSync(tmp, { force: true });
          throw e;
        }
      } else {
        await pipeline(res, cli.out as NodeJS.WritableStream);
      }
    });
}

export function registerExport(parent: Command, cli: Cli): void {
  parent.command('export')
    .description("Export a container's filesystem as a tar archive")
    .usage('[OPTIONS] CONTAINER')
    .argument('[args...]')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .action(async (args: string[], o: { output?: string }, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      if (!o.output && (cli.out as NodeJS.WriteStream).isTTY) {
        throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const res = await cli.client.containerExport(args[0]);
      await pipeline(res, o.output ? fs.createWriteStream(o.output) : (cli.out as NodeJS.WritableStream));
    });
}
