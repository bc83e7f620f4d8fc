// berth compose config: the resolved model, as docker compose v2 prints it.
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import * as YAML from 'yaml';
import { Cli, StatusError } from '../../cli';
import { projectLayout } from '../../../compose/load/layout';
import { withProject } from './index';

interface ConfigOptions {
  services?: boolean; volumes?: boolean; networks?: boolean; profiles?: boolean; images?: boolean;
  quiet?: boolean; format: 'yaml' | 'json'; interpolate: boolean; resolveImageDigests?: boolean; output?: string;
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
    .action(async (services: string[], o: ConfigOptions, cmd: Command) => {
      if (o.resolveImageDigests) throw new StatusError(1, 'berth compose config: --resolve-image-digests is not supported');
      const project = await withProject(cmd, cli, { services, interpolate: o.interpolate });
      if (services.length) {
        for (const name of Object.keys(project.services)) if (!services.includes(name)) delete project.services[name];
      }
      if (o.quiet) return;
      const lines = (list: string[]) => list.map((x) => x + '\n').join('');
      let text: string;
      if (o.services) text = lines(Object.keys(project.services).sort());
      else if (o.volumes) text = lines(Object.keys(project.volumes).sort());
      else if (o.networks) text = lines(Object.keys(project.networks).sort());
      else if (o.profiles) {
        const all = [...Object.values(project.services), ...Object.values(project.disabled_services)];
        text = lines([...new Set(all.flatMap((s) => s.profiles ?? []))].sort());
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
