// berth compose config: the resolved model, as docker compose v2 prints it.
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import * as YAML from 'yaml';
import { Cli, StatusError } from '../../cli';
import { projectLayout } from '../../../compose/load/layout';
import { withDependencies } from '../../../compose/load/normalize';
import { withProject } from './index';

interface ConfigOptions {
  services?: boolean; volumes?: boolean; networks?: boolean; profiles?: boolean; images?: boolean;
  quiet?: boolean; format: 'yaml' | 'json'; interpolate: boolean; resolveImageDigests?: boolean; output?: string;
  hash?: string; environment?: boolean; variables?: boolean; consistency?: boolean; normalize?: boolean; pathResolution?: boolean;
}

/** What berth's loader does not offer: refused by name. */
function refuseUnsupported(o: ConfigOptions): void {
  const no = (flag: string) => { throw new StatusError(1, `berth compose config: ${flag} is not supported`); };
  if (o.resolveImageDigests) no('--resolve-image-digests');
  if (o.variables) no('--variables');
  if (o.consistency === false) no('--no-consistency');
  if (o.normalize === false) no('--no-normalize');
  if (o.pathResolution === false) no('--no-path-resolution');
}

export function register(compose: Command, cli: Cli): void {
  compose.command('config')
    .description('Parse, resolve and render compose file in canonical format')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--services', 'Print the service names, one per line.')
    .option('--volumes', 'Print the volume names, one per line.')
    .option('--networks', 'Print the network names, one per line.')
    .option('--profiles', 'Print the profile names, one per line.')
    .option('--images', 'Print the image names, one per line.')
    .option('-q, --quiet', 'Only validate the configuration, don\'t print anything.')
    .addOption(new Option('--format <string>', 'Format the output. Values: [yaml | json]').choices(['yaml', 'json']).default('yaml'))
    .option('--no-interpolate', 'Don\'t interpolate environment variables.')
    .option('--resolve-image-digests', 'Pin image tags to digests.')
    .option('-o, --output <string>', 'Save to file (default to stdout)')
    .option('--hash <string>', 'Print the service config hash, one per line.')
    .option('--environment', 'Print environment used for interpolation.')
    .option('--variables', 'Print model variables and default values.')
    .option('--no-consistency', 'Don\'t check model consistency - warning: may produce invalid Compose output')
    .option('--no-normalize', 'Don\'t normalize compose model')
    .option('--no-path-resolution', 'Don\'t resolve file paths')
    .action(async (services: string[], o: ConfigOptions, cmd: Command) => {
      refuseUnsupported(o);
      if (o.hash !== undefined) { await printHashes(cli, cmd, o.hash); return; }
      // --profiles lists every profile, whichever are active
      const project = await withProject(cmd, cli, { services, interpolate: o.interpolate, ...(o.profiles ? { profiles: ['*'] } : {}) });
      if (services.length) {
        // the named services and what they depend on, as compose prints them
        const keep = new Set(withDependencies(project.services, services));
        for (const name of Object.keys(project.services)) if (!keep.has(name)) delete project.services[name];
      }
      if (o.quiet) return;
      if (o.environment) {
        // compose prints the variables interpolation saw (the process's, then .env's), KEY=VALUE
        cli.print(Object.keys(project.environment).sort().map((k) => `${k}=${project.environment[k]}\n`).join(''));
        return;
      }
      const lines = (list: string[]) => list.map((x) => x + '\n').join('');
      let text: string;
      if (o.services) text = lines(Object.keys(project.services).sort());
      else if (o.volumes) text = lines(Object.keys(project.volumes).sort());
      else if (o.networks) text = lines(Object.keys(project.networks).sort());
      else if (o.profiles) {
        text = lines([...new Set(Object.values(project.services).flatMap((s) => s.profiles ?? []))].sort());
      } else if (o.images) {
        text = lines(Object.keys(project.services).sort().map((n) => project.services[n].image ?? `${project.name}-${n}`));
      } else {
        const layout = projectLayout(project);
        text = o.format === 'json' ? JSON.stringify(layout, null, 2) + '\n' : YAML.stringify(layout, { lineWidth: 0, aliasDuplicateObjects: false });
      }
      if (o.output) fs.writeFileSync(o.output, text);
      else cli.print(text);
    });
}

/** `config --hash "*"` or `--hash a,b`: `service hash` lines, sorted, the hash up compares to recreate. */
async function printHashes(cli: Cli, cmd: Command, which: string): Promise<void> {
  const project = await withProject(cmd, cli);
  const names = which === '*' ? Object.keys(project.services) : which.split(',');
  for (const n of names) if (!project.services[n]) throw new StatusError(1, `no such service: ${n}`);
  // the hash (and node:crypto) only for --hash
  const { serviceConfigHash } = require('../../../compose/project/hash') as typeof import('../../../compose/project/hash');
  cli.print([...names].sort().map((n) => `${n} ${serviceConfigHash(project.services[n])}\n`).join(''));
}
