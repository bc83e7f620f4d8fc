// berth exec: inspect → exec create → start (hijacked; TTY: resize right after the 101) →
// stream → exec inspect for the exit code. `-d` starts detached (200, no stream).
import { Command } from 'commander';
import { Cli, collect, commandPath, StatusError } from '../cli';
import { startStreaming } from '../attach';
import { normalizeEnv, readKvFile } from '../opts';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  user?: string;
  workdir?: string;
  env?: string[];
  envFile?: string[];
  privileged?: boolean;
  detachKeys?: string;
}

interface ExecInspect { ExitCode: number | null; Running: boolean }

export function register(program: Command, cli: Cli): void {
  program.command('exec')
    .description('Execute a command in a running container')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .helpOption('--help', 'Print usage')
    .argument('[container]')
    .argument('[command...]')
    .passThroughOptions()
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <list>', 'Read in a file of environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .action(async (container: string | undefined, command: string[], o: ExecFlags, cmd: Command) => {
      if (!container || command.length === 0) {
        const path = commandPath(cmd);
        throw new StatusError(1, `"${path}" requires at least 2 arguments.\nSee '${path} --help'.\n\nUsage:  ${path} [OPTIONS] CONTAINER COMMAND [ARG...]\n\nExecute a command in a running container`);
      }
      const status = await execCommand(cli, container, command, o);
      if (status !== 0) throw new StatusError(status);
    });
}

export async function execCommand(cli: Cli, container: string, command: string[], o: ExecFlags): Promise<number> {
  const client = cli.client;
  const env = [...(o.envFile ?? []).flatMap((f) => readKvFile(f, true)), ...(o.env ?? []).map(normalizeEnv)];
  const tty = !!o.tty;
  const stdin = !!o.interactive;
  const detach = !!o.detach;
  if (tty && stdin && !detach && !process.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  await client.containerInspect(container); // a missing container stops here, as docker does
  const size = tty && process.stdout.isTTY && process.stdout.rows ? [process.stdout.rows, process.stdout.columns] as [number, number] : undefined;
  const body = {
    User: o.user ?? '', Privileged: !!o.privileged, Tty: tty, ...(size ? { ConsoleSize: size } : {}),
    AttachStdin: stdin && !detach, AttachStderr: !detach, AttachStdout: !detach, Detach: detach,
    DetachKeys: o.detachKeys ?? '', Env: env.length ? env : null, WorkingDir: o.workdir ?? '', Cmd: command,
  };
  const { Id: id } = await client.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, { body });
  const startBody = { Detach: detach, Tty: tty, ...(size ? { ConsoleSize: size } : {}) };
  if (detach) {
    await client.noContent('POST', `/exec/${id}/start`, { body: startBody });
    return 0;
  }
  const conn = await client.hijack(`/exec/${id}/start`, { body: startBody, contentType: 'application/json' });
  const session = startStreaming(cli, conn, { id: container, tty, stdin, detachKeys: o.detachKeys, sigProxy: false, holdStdinOpen: tty });
  session.enterRaw();
  let onResize: (() => void) | undefined;
  if (tty && process.stdout.isTTY) {
    const resize = () => {
      const h = process.stdout.rows, w = process.stdout.columns;
      if (h && w) client.noContent('POST', `/exec/${id}/resize`, { query: { h: String(h), w: String(w) } }).catch(() => undefined);
    };
    resize();
    onResize = resize;
    process.stdout.on('resize', resize);
  }
  try {
    const { detached } = await session.done;
    if (detached) {
      conn.closeWrite();
      conn.close();
      throw new StatusError(1, 'read escape sequence');
    }
  } finally {
    if (onResize) process.stdout.off('resize', onResize);
    session.restore();
  }
  if (tty) conn.closeWrite();
  conn.close();
  const r = await client.json<ExecInspect>('GET', `/exec/${id}/json`);
  return r.ExitCode ?? 0;
}
