// berth run / berth create: create (pulling on 404) → attach (101) and wait (headers), together → start.
import * as fs from 'node:fs';
import { Command } from 'commander';
import { ApiError } from '../../client/errors';
import type { ContainerCreateBody, CreateResponse } from '../../client/types';
import { Cli, errorText, PROG, StatusError, commandPath } from '../cli';
import { addContainerFlags, buildCreateBody, ContainerFlags } from '../containerflags';
import { exitCodeFromStartError, startStreaming } from '../attach';
import { familiarString, parseNormalizedTagged, parseNormalizedNamed, ReferenceError } from '../../lib/reference';

function consoleSize(): [number, number] | undefined {
  if (process.stdout.isTTY && process.stdout.rows && process.stdout.columns) return [process.stdout.rows, process.stdout.columns];
  return undefined;
}

/**
 * The pull, required only when a run pulls: it brings the Docker config file code and with it
 * node:crypto, child_process and fs/promises (~10 ms of every run's start otherwise).
 */
function pullImage(...args: Parameters<typeof import('./registry').pullImage>): ReturnType<typeof import('./registry').pullImage> {
  return (require('./registry') as typeof import('./registry')).pullImage(...args);
}

/** Create a container, pulling the image when the daemon answers 404 for it (and --pull allows). */
export async function createContainer(cli: Cli, body: ContainerCreateBody, o: ContainerFlags, image: string): Promise<CreateResponse> {
  const pull = o.pull ?? 'missing';
  if (!['missing', 'always', 'never'].includes(pull)) throw new StatusError(125, `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  try {
    parseNormalizedNamed(image);
  } catch (e) {
    if (e instanceof ReferenceError) throw new Error(e.message);
    throw e;
  }
  if (pull === 'always') await pullImage(cli, image, cli.err, { quiet: !!o.quiet, platform: o.platform });
  let created: CreateResponse;
  try {
    created = await cli.client.containerCreate(body, { name: o.name });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || pull !== 'missing' || !/no such image/i.test(e.message)) throw e;
    cli.eprintln(`Unable to find image '${familiarString(parseNormalizedTagged(image))}' locally`);
    await pullImage(cli, image, cli.err, { quiet: !!o.quiet, platform: o.platform });
    created = await cli.client.containerCreate(body, { name: o.name });
  }
  for (const w of created.Warnings ?? []) cli.eprintln(`WARNING: ${w}`);
  if (o.cidfile) fs.writeFileSync(o.cidfile, created.Id);
  return created;
}

function localhostDnsWarning(cli: Cli, o: ContainerFlags): void {
  for (const d of o.dns ?? []) {
    if (/^127\./.test(d) || d === '::1') cli.eprintln(`WARNING: Localhost DNS (${d}) may fail in containers.`);
  }
}

function sigProxyEnabled(v: boolean | string | undefined): boolean {
  if (v === undefined) return true;
  if (typeof v === 'boolean') return v;
  return !['false', '0', 'f', 'FALSE', 'False'].includes(v);
}

export async function runCommand(cli: Cli, cmd: Command, image: string, args: string[], o: ContainerFlags): Promise<number> {
  const usageTail = `\n\nRun '${commandPath(cmd)} --help' for more information`;
  const fail = (e: unknown, status = 125): StatusError => new StatusError(status, `${PROG}: ${errorText(e)}${usageTail}`);
  if (o.cidfile && fs.existsSync(o.cidfile)) throw fail(new Error(`container ID file found, make sure the other container isn't running or delete ${o.cidfile}`));
  let body: ContainerCreateBody;
  try {
    body = buildCreateBody(o, image, args, { run: true, consoleSize: consoleSize() });
  } catch (e) {
    if (e instanceof StatusError) throw e;
    throw fail(e);
  }
  localhostDnsWarning(cli, o);
  if (o.tty && o.interactive && !process.stdin.isTTY && !o.detach) {
    throw fail(new Error('the input device is not a TTY'), 1);
  }
  const client = cli.client;
  // While the daemon creates, the connections that start (and attach) will take: their connects
  // and the loop turns before their first writes leave the way between create and start. An
  // immediate runs after the loop turn that connects and writes the create itself.
  const preconnect = setImmediate(() => client.preconnect(o.detach ? 1 : 2));
  let created: CreateResponse;
  try {
    created = await createContainer(cli, body, o, image);
  } catch (e) {
    clearImmediate(preconnect);
    throw fail(e);
  }
  const id = created.Id;
  const condition = o.rm ? 'removed' : 'next-exit';

  if (o.detach) {
    const wait = await client.containerWait(id, condition).catch(() => undefined);
    try {
      await client.containerStart(id);
    } catch (e) {
      wait?.cancel();
      throw fail(e, e instanceof ApiError ? exitCodeFromStartError(e.message) : 125);
    }
    wait?.cancel();
    cli.println(id);
    return 0;
  }

  const attachStdin = body.AttachStdin;
  const tty = body.Tty;
  // Both must be in place before start (the attach's 101, the wait's headers), not one after the
  // other: they go out together, which saves the wait's round trip of docker's order.
  const attaching = client.containerAttach(id, { stream: true, stdin: attachStdin, stdout: body.AttachStdout, stderr: body.AttachStderr, detachKeys: o.detachKeys });
  const waiting = client.containerWait(id, condition);
  const [attached, waited] = await Promise.allSettled([attaching, waiting]);
  if (attached.status === 'rejected' || waited.status === 'rejected') {
    if (attached.status === 'fulfilled') attached.value.close();
    if (waited.status === 'fulfilled') waited.value.cancel();
    throw fail(attached.status === 'rejected' ? attached.reason : (waited as PromiseRejectedResult).reason);
  }
  const conn = attached.value;
  const wait = waited.value;
  const session = startStreaming(cli, conn, {
    id, tty, stdin: attachStdin, detachKeys: o.detachKeys, sigProxy: sigProxyEnabled(o.sigProxy), holdStdinOpen: tty,
  });
  session.enterRaw();
  try {
    // the daemon sees the attach's half-close before the start (the start's connection is ready
    // beforehand now, so its request would otherwise overtake the shutdown)
    await session.inputClosed;
    await client.containerStart(id);
  } catch (e) {
    session.restore();
    conn.close();
    if (o.rm) await Promise.race([wait.result.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    wait.cancel();
    throw fail(e, e instanceof ApiError ? exitCodeFromStartError(e.message) : 125);
  }
  await session.startResize();
  const { detached } = await session.done;
  if (detached) {
    session.restore();
    conn.close();
    wait.cancel();
    return 0;
  }
  if (tty) conn.closeWrite();
  let status: number;
  try {
    const r = await wait.result;
    if (r.Error?.Message) cli.eprintln(`${PROG}: ${r.Error.Message}`);
    status = r.StatusCode;
  } catch (e) {
    session.restore();
    throw fail(e);
  }
  session.restore();
  conn.close();
  return status;
}

/** `run`; main.ts adds it without `create` when it runs one of them (each sets up the hundred container flags). */
export function registerRun(target: Command, cli: Cli): void {
  const run = target.command('run')
    .description('Create and run a new container from an image')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .helpOption('--help', 'Print usage')
    .argument('[image]')
    .argument('[command...]')
    .passThroughOptions();
  addContainerFlags(run, true);
  run.action(async (image: string | undefined, command: string[], o: ContainerFlags, cmd: Command) => {
    if (!image) {
      const path = commandPath(cmd);
      throw new StatusError(1, `"${path}" requires at least 1 argument.\nSee '${path} --help'.\n\nUsage:  ${path} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image`);
    }
    const status = await runCommand(cli, cmd, image, command, o);
    if (status !== 0) throw new StatusError(status);
  });
}

export function registerCreate(target: Command, cli: Cli): void {
  const create = target.command('create')
    .description('Create a new container')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .helpOption('--help', 'Print usage')
    .argument('[image]')
    .argument('[command...]')
    .passThroughOptions();
  addContainerFlags(create, false);
  create.action(async (image: string | undefined, command: string[], o: ContainerFlags, cmd: Command) => {
    if (!image) {
      const path = commandPath(cmd);
      throw new StatusError(1, `"${path}" requires at least 1 argument.\nSee '${path} --help'.\n\nUsage:  ${path} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate a new container`);
    }
    const body = buildCreateBody(o, image, command, { run: false, consoleSize: consoleSize() });
    localhostDnsWarning(cli, o);
    const created = await createContainer(cli, body, o, image);
    cli.println(created.Id);
  });
}
