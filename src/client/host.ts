// Choosing the daemon address: -H/--host, then DOCKER_HOST, then BERTH_HOST, then the default socket.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export interface TlsConfig {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
}

export type Endpoint =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; tls?: TlsConfig; url: string };

export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag && flag.length > 0) return flag;
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  if (env.BERTH_HOST) return env.BERTH_HOST;
  return DEFAULT_HOST;
}

/** Parse a host string (unix:///path, /path, tcp://h:p, http://h:p, https://h:p, h:p). */
export function parseHost(host: string, env: NodeJS.ProcessEnv = process.env, forceTls = false): Endpoint {
  let h = host.trim();
  if (h.startsWith('/')) h = 'unix://' + h;
  if (h.startsWith('unix://')) {
    const p = h.slice('unix://'.length);
    if (!p) throw new Error(`invalid host: ${host}`);
    return { kind: 'unix', socketPath: p, url: h };
  }
  let scheme = 'tcp';
  const m = /^([a-z]+):\/\/(.*)$/.exec(h);
  let rest = h;
  if (m) { scheme = m[1]; rest = m[2]; }
  if (!['tcp', 'http', 'https'].includes(scheme)) throw new Error(`invalid host: ${host}: unsupported protocol ${scheme}`);
  rest = rest.replace(/\/.*$/, '');
  let hostname = rest;
  let port = 0;
  const pm = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(rest);
  if (pm) { hostname = pm[1] || '127.0.0.1'; port = pm[2] ? Number(pm[2]) : 0; }
  const tlsWanted = forceTls || scheme === 'https' || !!env.DOCKER_TLS_VERIFY || !!env.DOCKER_CERT_PATH;
  if (!port) port = tlsWanted ? 2376 : 2375;
  let tls: TlsConfig | undefined;
  if (tlsWanted) tls = loadTls(env);
  return { kind: 'tcp', host: hostname, port, tls, url: `tcp://${hostname}:${port}` };
}

function loadTls(env: NodeJS.ProcessEnv): TlsConfig {
  // node:os only here: a unix socket's client does not load it (~0.5 ms of every command)
  const dir = env.DOCKER_CERT_PATH || path.join((require('node:os') as typeof import('node:os')).homedir(), '.docker');
  const read = (f: string): Buffer | undefined => {
    try { return fs.readFileSync(path.join(dir, f)); } catch { return undefined; }
  };
  const verify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0' && env.DOCKER_TLS_VERIFY !== 'false';
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), verify };
}
