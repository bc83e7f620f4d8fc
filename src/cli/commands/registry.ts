// berth pull / push / login / logout: the client side of registries, as the docker CLI does it.
// Credentials live in the Docker config file (../dockerconfig.ts); the daemon keeps none and
// receives them per request in X-Registry-Auth.
import { Command } from 'commander';
import { Cli, requireArgs, StatusError } from '../cli';
import { displayJsonMessages } from '../format/jsonmessage';
import { AuthConfig, configDir, DockerConfig, encodeAuthHeader, INDEX_SERVER, registryKey } from '../dockerconfig';
import { DEFAULT_DOMAIN, normalizedString, parseNormalizedNamed, Reference, ReferenceError, repoName } from '../../lib/reference';
import type { JsonMessage } from '../../client/types';

/** The config file this invocation uses (--config, $DOCKER_CONFIG, ~/.docker). */
export function dockerConfig(cli: Cli): DockerConfig {
  return new DockerConfig(configDir(cli.global.config));
}

/** X-Registry-Auth for an image reference: the stored credentials of its registry, `e30=` without. */
export function registryAuthFor(cli: Cli, r: Reference): string {
  let a: AuthConfig = {};
  try {
    a = dockerConfig(cli).get(r.domain === DEFAULT_DOMAIN ? INDEX_SERVER : r.domain);
  } catch (e) {
    cli.eprintln(`WARNING: ${(e as Error).message}`);
  }
  return encodeAuthHeader(a);
}

function parseRef(s: string): Reference {
  try {
    return parseNormalizedNamed(s);
  } catch (e) {
    if (e instanceof ReferenceError) throw new StatusError(1, e.message);
    throw e;
  }
}

const isTTY = (s: NodeJS.WritableStream) => !!(s as NodeJS.WriteStream).isTTY;
const discard = { write: () => true } as unknown as NodeJS.WritableStream;

/**
 * POST /images/create?fromImage=<repo>&tag=<tag or digest> with the registry's credentials; the
 * progress goes to `out` (nowhere when quiet). `allTags`: no tag, the daemon pulls every tag.
 */
export async function pullImage(cli: Cli, image: string, out: NodeJS.WritableStream, opts: { quiet?: boolean; platform?: string; allTags?: boolean } = {}): Promise<void> {
  const r = parseRef(image);
  const tag = opts.allTags ? undefined : r.digest ? r.digest : (r.tag ?? 'latest');
  const stream = await cli.client.imagePull(repoName(r), tag, { platform: opts.platform, registryAuth: registryAuthFor(cli, r) });
  await displayJsonMessages(stream, opts.quiet ? discard : out, isTTY(out));
}

export function registerPull(parent: Command, cli: Cli): void {
  parent.command('pull')
    .description('Download an image from a registry')
    .usage('[OPTIONS] NAME[:TAG|@DIGEST]')
    .argument('[args...]')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--disable-content-trust [bool]', 'Skip image verification', true)
    .option('--platform <string>', 'Set platform if server is multi-platform capable', process.env.DOCKER_DEFAULT_PLATFORM)
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (args: string[], o: { allTags?: boolean; platform?: string; quiet?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      const r = parseRef(args[0]);
      if (o.allTags && (r.tag !== undefined || r.digest !== undefined)) throw new StatusError(1, 'tag can\'t be used with --all-tags/-a');
      if (!o.allTags && r.tag === undefined && r.digest === undefined) {
        r.tag = 'latest';
        if (!o.quiet) cli.println('Using default tag: latest');
      }
      await pullImage(cli, normalizedString(r), cli.out, { quiet: o.quiet, platform: o.platform, allTags: o.allTags });
      cli.println(o.allTags ? repoName(r) : normalizedString(r));
    });
}

export function registerPush(parent: Command, cli: Cli): void {
  parent.command('push')
    .description('Upload an image to a registry')
    .usage('[OPTIONS] NAME[:TAG]')
    .argument('[args...]')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('--disable-content-trust [bool]', 'Skip image signing', true)
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (args: string[], o: { allTags?: boolean; quiet?: boolean }, cmd: Command) => {
      requireArgs(cmd, args, 1, 1);
      const r = parseRef(args[0]);
      if (r.digest !== undefined) throw new StatusError(1, 'invalid reference format: push by digest is not supported');
      if (o.allTags && r.tag !== undefined) throw new StatusError(1, 'tag can\'t be used with --all-tags/-a');
      if (!o.allTags && r.tag === undefined) {
        r.tag = 'latest';
        if (!o.quiet) cli.println('Using default tag: latest');
      }
      const stream = await cli.client.imagePush(familiarRepoOf(r), o.allTags ? undefined : r.tag, { registryAuth: registryAuthFor(cli, r) });
      await displayJsonMessages(stream, o.quiet ? discard : cli.out, isTTY(cli.out), (_m: JsonMessage) => undefined);
      if (o.quiet) cli.println(normalizedString(r));
    });
}

/** The familiar repository name (`busybox`, `127.0.0.1:5000/a`), as the docker client puts it in the push path. */
function familiarRepoOf(r: Reference): string {
  if (r.domain === DEFAULT_DOMAIN) return r.path.startsWith('library/') && !r.path.slice(8).includes('/') ? r.path.slice(8) : r.path;
  return repoName(r);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A line from the terminal; `hidden` turns echo off (the password). */
function prompt(cli: Cli, question: string, hidden: boolean): Promise<string> {
  cli.print(question);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const raw = hidden && stdin.isTTY;
    if (raw) stdin.setRawMode(true);
    let buf = '';
    const onData = (c: Buffer) => {
      for (const ch of c.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.off('data', onData);
          if (raw) { stdin.setRawMode(false); cli.println(); }
          stdin.pause();
          resolve(buf);
          return;
        }
        if (ch === '\x03') { if (raw) stdin.setRawMode(false); process.exit(130); }
        if (ch === '\x7f') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

const UNENCRYPTED_WARNING = (file: string) => `WARNING! Your credentials are stored unencrypted in '${file}'.
Configure a credential helper to remove this warning. See
https://docs.docker.com/go/credential-store/
`;

export function registerLogin(parent: Command, cli: Cli): void {
  parent.command('login')
    .description('Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.')
    .usage('[OPTIONS] [SERVER]')
    .argument('[args...]')
    .option('-p, --password <string>', 'Password or Personal Access Token (PAT)')
    .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
    .option('-u, --username <string>', 'Username')
    .action(async (args: string[], o: { password?: string; passwordStdin?: boolean; username?: string }, cmd: Command) => {
      requireArgs(cmd, args, 0, 1);
      const server = args[0] ? args[0] : INDEX_SERVER;
      if (o.password !== undefined && o.passwordStdin) throw new StatusError(1, '--password and --password-stdin are mutually exclusive');
      let password = o.password;
      if (o.passwordStdin) {
        if (!o.username) throw new StatusError(1, 'Must provide --username with --password-stdin');
        password = (await readStdin()).replace(/\n$/, '').replace(/\r$/, '');
      } else if (password !== undefined) {
        cli.eprintln('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
      }
      const config = dockerConfig(cli);
      let username = o.username?.trim();
      if (!username && !password) {
        // Stored credentials are tried first, as docker does.
        const stored = config.get(server);
        if (stored.username || stored.identitytoken) {
          cli.println('Authenticating with existing credentials...' + (stored.username ? ` [Username: ${stored.username}]` : ''));
          try {
            const r = await cli.client.registryLogin({ ...stored, serveraddress: server } as Record<string, string>);
            if (r.IdentityToken) await config.store(server, { ...stored, identitytoken: r.IdentityToken });
            cli.println('');
            cli.println(r.Status || 'Login Succeeded');
            return;
          } catch (e) {
            cli.eprintln(`Login did not succeed, error: ${(e as Error).message}`);
          }
        }
      }
      if (!username || password === undefined) {
        if (!process.stdin.isTTY) throw new StatusError(1, 'Error: Cannot perform an interactive login from a non TTY device');
        if (!username) username = (await prompt(cli, 'Username: ', false)).trim();
        if (!username) throw new StatusError(1, 'Error: Non-null Username Required');
        if (password === undefined) password = await prompt(cli, 'Password: ', true);
        if (!password) throw new StatusError(1, 'Error: Password Required');
      }
      const auth: AuthConfig = { username, password, serveraddress: server };
      const r = await cli.client.registryLogin(auth as Record<string, string>);
      const toStore: AuthConfig = { username, password, serveraddress: server };
      if (r.IdentityToken) { toStore.identitytoken = r.IdentityToken; delete toStore.password; }
      const plain = await config.store(server, toStore);
      if (plain) cli.eprintln(UNENCRYPTED_WARNING(config.file));
      cli.println(r.Status || 'Login Succeeded');
    });
}

export function registerLogout(parent: Command, cli: Cli): void {
  parent.command('logout')
    .description('Log out from a registry.\nIf no server is specified, the default is defined by the daemon.')
    .usage('[SERVER]')
    .argument('[args...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      requireArgs(cmd, args, 0, 1);
      const server = args[0] ? args[0] : INDEX_SERVER;
      const config = dockerConfig(cli);
      const had = await config.erase(registryKey(server));
      if (!had) {
        cli.println(`Not logged in to ${server}`);
        return;
      }
      cli.println(`Removing login credentials for ${server}`);
    });
}
