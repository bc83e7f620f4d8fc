// berth build: Docker's flags; the context streamed as a tar honouring .dockerignore; the
// daemon's step lines shown as they come (step headers bold on a terminal).
import { Command } from 'commander';
import { Cli, collect, requireArgs, StatusError } from '../cli';
import { StreamError } from '../../client/errors';
import { configDir, DockerConfig, encodeAuthHeader } from '../dockerconfig';

interface BuildFlags {
  tag?: string[]; file?: string; buildArg?: string[]; target?: string; cache?: boolean; pull?: boolean;
  quiet?: boolean; label?: string[]; network?: string; cacheFrom?: string[];
}

function keyValues(list: string[] | undefined, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) {
      // `--build-arg NAME` takes the value from the environment (skipped when unset, as docker).
      if (fromEnv && process.env[kv] !== undefined) out[kv] = process.env[kv]!;
      else if (!fromEnv) out[kv] = '';
      continue;
    }
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** X-Registry-Config: every stored registry's credentials, for the daemon's FROM pulls (as docker build). */
function registryConfigFor(cli: Cli): string {
  try {
    return encodeAuthHeader(new DockerConfig(configDir(cli.global.config)).all());
  } catch (e) {
    cli.eprintln(`WARNING: ${(e as Error).message}`);
    return encodeAuthHeader({});
  }
}

export function register(parent: Command, cli: Cli): void {
  parent.command('build')
    .description('Build an image from a Dockerfile')
    .usage('[OPTIONS] PATH')
    .argument('[args...]')
    .option('-t, --tag <name>', 'Name and optionally a tag in the "name:tag" format', collect)
    .option('-f, --file <string>', 'Name of the Dockerfile (default: "PATH/Dockerfile")')
    .option('--build-arg <stringArray>', 'Set build-time variables', collect)
    .option('--target <string>', 'Set the target build stage to build')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--label <stringArray>', 'Set metadata for an image', collect)
    .option('--network <string>', 'Set the networking mode for the RUN instructions during build')
    .option('--cache-from <strings>', 'Images to consider as cache sources', collect)
    .action(async (args: string[], o: BuildFlags, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      let packed;
      try {
        // Loaded here: the tar writer and the ignore matcher stay out of every other command's start.
        const { packContext } = await import('../buildcontext');
        packed = await packContext(args[0], o.file);
      } catch (e) {
        throw new StatusError(1, (e as Error).message);
      }
      const stream = await cli.client.imageBuild(packed.stream, {
        tags: o.tag, dockerfile: packed.dockerfile, buildArgs: keyValues(o.buildArg, true), labels: keyValues(o.label, false),
        target: o.target, noCache: o.cache === false, pull: !!o.pull, quiet: !!o.quiet, networkMode: o.network,
        cacheFrom: o.cacheFrom, registryConfig: registryConfigFor(cli),
      });
      const tty = !!(cli.out as NodeJS.WriteStream).isTTY;
      try {
        for await (const m of stream) {
          if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
          if (m.aux || typeof m.stream !== 'string') continue;
          if (o.quiet) { cli.print(m.stream); continue; }
          cli.print(tty && m.stream.startsWith('Step ') ? `\x1b[1m${m.stream}\x1b[0m` : m.stream);
        }
      } catch (e) {
        if (e instanceof StreamError) throw new StatusError(e.code && e.code > 0 ? e.code : 1, e.message);
        throw e;
      }
    });
}
