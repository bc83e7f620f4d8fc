// berth compose exec: `berth exec` in a service's container (the lowest-numbered one, or --index),
// with a TTY by default when stdout is a terminal (-T turns it off), stdin attached, as compose v2.
import { Command, Option } from 'commander';
import type { Project } from '../../../compose/model';
import { serviceContainer } from '../../../compose/query/containers';
import { Cli, collect, parseIntFlag, StatusError } from '../../cli';
import { execCommand } from '../exec';
import { projectName } from './target';

export interface ComposeExecOptions {
  detach?: boolean; env?: string[]; index?: number; privileged?: boolean; user?: string; workdir?: string;
  /** false with -T / --no-TTY */
  TTY?: boolean;
}

/** `-e NAME` takes NAME's value from the project's environment (process env over .env), as compose. */
export function resolveEnv(list: string[], env: Record<string, string | undefined>): string[] {
  return list.map((v) => {
    if (v.includes('=')) return v;
    const val = env[v];
    return val !== undefined ? `${v}=${val}` : v;
  });
}

/** Compose's default: a TTY when stdout is a terminal, unless -T. */
export function wantTty(flag: boolean | undefined, stdout: { isTTY?: boolean }): boolean {
  return flag === false ? false : !!stdout.isTTY;
}

export async function composeExec(cli: Cli, name: string, project: Project | undefined, service: string, command: string[], o: ComposeExecOptions): Promise<number> {
  if (!service || command.length === 0) throw new StatusError(1, 'requires at least 2 arg(s), only received ' + (service ? 1 : 0));
  const target = await serviceContainer(cli.client, name, service, { index: o.index, oneOff: 'include' });
  return execCommand(cli, target.Id, command, {
    interactive: true, tty: wantTty(o.TTY, cli.out as NodeJS.WriteStream), detach: o.detach, user: o.user, workdir: o.workdir,
    env: resolveEnv(o.env ?? [], project?.environment ?? process.env), privileged: o.privileged,
  });
}

export function register(compose: Command, cli: Cli): void {
  compose.command('exec')
    .description('Execute a command in a running container')
    .usage('[OPTIONS] SERVICE COMMAND [ARGS...]')
    .argument('[service]')
    .argument('[command...]')
    .passThroughOptions()
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('-e, --env <stringArray>', 'Set environment variables', collect)
    .option('--index <int>', 'Index of the container if service has multiple replicas', parseIntFlag('--index'), 0)
    .option('--privileged', 'Give extended privileges to the process')
    .option('-u, --user <string>', 'Run the command as this user')
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.')
    .option('-w, --workdir <string>', 'Path to workdir directory for this command')
    // compose's hidden flags: stdin is always attached, a TTY is the default
    .addOption(new Option('-i, --interactive', 'Keep STDIN open even if not attached').hideHelp())
    .addOption(new Option('-t, --tty', 'Allocate a pseudo-TTY').hideHelp())
    .action(async (service: string | undefined, command: string[], o: ComposeExecOptions, cmd: Command) => {
      if (!service || command.length === 0) throw new StatusError(1, `requires at least 2 arg(s), only received ${service ? 1 : 0}`);
      const name = await projectName(cmd, cli);
      const status = await composeExec(cli, name, undefined, service, command, o);
      if (status !== 0) throw new StatusError(status);
    });
}
