// Docker's auth config: what X-Registry-Auth and the POST /auth body carry, keys as the clients
// send them (lowercase, absent ones omitted). Here so that the CLI (which writes it) and the
// registry client (which reads it) share one type without importing each other.
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Docker Hub's key in the config file and in X-Registry-Config (and its serveraddress). */
export const INDEX_SERVER = 'https://index.docker.io/v1/';

/** `https://host:port/v2/` or `host:port` -> `host:port` (docker's ConvertToHostname). */
export function convertToHostname(s: string): string {
  let h = s.replace(/^https?:\/\//, '');
  const i = h.indexOf('/');
  if (i >= 0) h = h.slice(0, i);
  return h;
}

/** The key a registry host is stored under: Docker Hub's index URL, or the host itself. */
export function registryKey(host: string): string {
  const h = convertToHostname(host);
  if (h === 'docker.io' || h === 'index.docker.io' || h === 'registry-1.docker.io') return INDEX_SERVER;
  return host === INDEX_SERVER ? INDEX_SERVER : h;
}

/**
 * The credentials for a registry host out of a map keyed as the config file is (what
 * `X-Registry-Config` carries): the exact key first, then keys written as URLs, by their host.
 */
export function authForHost(configs: Record<string, AuthConfig>, host: string): AuthConfig | undefined {
  const key = registryKey(host);
  if (configs[key]) return configs[key];
  if (key === INDEX_SERVER) return undefined;
  for (const [k, v] of Object.entries(configs)) if (convertToHostname(k) === key) return v;
  return undefined;
}
