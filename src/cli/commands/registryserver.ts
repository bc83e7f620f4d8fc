// berth registry serve | gc: berth's own registry server (src/registry/), beside the daemon.
import * as path from 'node:path';
import { Command } from 'commander';
import type { Cli } from '../cli';
import { StatusError } from '../cli';
import { RegistryServer } from '../../registry/server';
import { AccessFile, type Authorizer, BasicAuthorizer, Htpasswd, TokenService } from '../../registry/auth';
import { collectGarbage } from '../../registry/gc';
import { Upstream } from '../../registry/proxy';

interface ServeOptions {
  addr: string;
  root: string;
  htpasswd?: string;
  tokenAccess?: string;
  tokenRealm?: string;
  tokenService: string;
  tlsCert?: string;
  tlsKey?: string;
  plainHttp?: boolean;
  maxInflight?: string;
  proxyUpstream?: string;
  proxyUsername?: string;
  proxyPassword?: string;
}

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new StatusError(125, `invalid --addr ${addr}: want HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function register(program: Command, cli: Cli): void {
  const registry = program.command('registry').description('Run berth\'s own image registry').usage('COMMAND');
  registry.action(() => { registry.outputHelp(); });

  registry.command('serve')
    .description('Serve the OCI distribution API from a storage root')
    .requiredOption('--addr <host:port>', 'Address to listen on (port 0: any free port)')
    .requiredOption('--root <dir>', 'Storage root')
    .option('--htpasswd <file>', 'Basic auth with the bcrypt entries of this htpasswd file')
    .option('--token-access <file>', 'Bearer tokens from this registry\'s own /token, granting what this access file says (needs --htpasswd)')
    .option('--token-realm <url>', 'Token realm to announce (default: this registry\'s /token)')
    .option('--token-service <name>', 'Token service name', 'berth-registry')
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS key (PEM)')
    .option('--plain-http', 'Allow plain HTTP on a non-loopback address')
    .option('--max-inflight <n>', 'Requests served at once; more get 429 TOOMANYREQUESTS')
    .option('--proxy-upstream <url>', 'Be a pull-through cache of this registry')
    .option('--proxy-username <name>', 'User for the upstream')
    .option('--proxy-password <password>', 'Password for the upstream (env BERTH_PROXY_PASSWORD)')
    .action(async (o: ServeOptions) => {
      const { host, port } = parseAddr(o.addr);
      if (!!o.tlsCert !== !!o.tlsKey) throw new StatusError(125, '--tls-cert and --tls-key go together');
      if (!o.tlsCert && !o.plainHttp && !isLoopback(host)) {
        throw new StatusError(125, `plain HTTP on ${host} needs --plain-http (or --tls-cert and --tls-key)`);
      }
      if (o.tokenAccess && !o.htpasswd) throw new StatusError(125, '--token-access needs --htpasswd for the users');
      if (o.proxyUpstream && !/^https?:\/\//.test(o.proxyUpstream)) throw new StatusError(125, `invalid --proxy-upstream ${o.proxyUpstream}: want http(s)://HOST[:PORT]`);
      const root = path.resolve(o.root);
      const scheme = o.tlsCert ? 'https' : 'http';
      let authorizer: Authorizer | undefined;
      let token: TokenService | undefined;
      try {
        if (o.htpasswd) {
          const htpasswd = new Htpasswd(o.htpasswd);
          if (o.tokenAccess) {
            token = new TokenService({ htpasswd, access: new AccessFile(o.tokenAccess), secretFile: path.join(root, 'token.key'), service: o.tokenService, ...(o.tokenRealm ? { realm: o.tokenRealm } : {}) }, scheme);
            authorizer = token;
          } else {
            authorizer = new BasicAuthorizer(htpasswd);
          }
        }
      } catch (e) {
        throw new StatusError(125, (e as Error).message);
      }
      const server = new RegistryServer({
        root, ...(o.tlsCert ? { tlsCert: o.tlsCert, tlsKey: o.tlsKey } : {}),
        ...(authorizer ? { authorizer } : {}),
        ...(o.maxInflight ? { maxInflight: Number(o.maxInflight) } : {}),
        ...(o.proxyUpstream ? { upstream: new Upstream({ url: o.proxyUpstream, ...(o.proxyUsername ? { username: o.proxyUsername, password: o.proxyPassword ?? process.env.BERTH_PROXY_PASSWORD ?? '' } : {}) }) } : {}),
        ...(token ? { extraRoute: async (req, res, url) => {
          if (url.pathname !== '/token') return false;
          await token!.serveToken(req, res, url);
          return true;
        } } : {}),
      });
      const a = await server.listen(host, port);
      cli.err.write(`berth registry listening on ${scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port} root ${root}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { void server.close().then(resolve); };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });

  registry.command('gc')
    .description('Remove blobs that no manifest references')
    .requiredOption('--root <dir>', 'Storage root')
    .option('--dry-run', 'Only print what would be removed')
    .option('--grace <seconds>', 'Keep blobs committed or linked this recently', '600')
    .action(async (o: { root: string; dryRun?: boolean; grace: string }) => {
      const r = await collectGarbage(path.resolve(o.root), { dryRun: !!o.dryRun, graceMs: Number(o.grace) * 1000, log: (l) => cli.out.write(`${l}\n`) });
      cli.out.write(`${r.removed.length} blobs ${o.dryRun ? 'would be removed' : 'removed'}, ${r.freedBytes} bytes; ${r.keptRecent.length} recent kept; ${r.marked} referenced\n`);
    });
}
