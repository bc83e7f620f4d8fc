// The docker CLI's config file (~/.docker/config.json, or $DOCKER_CONFIG/config.json, or
// --config DIR): registry credentials under `auths` (base64 "user:password"), or kept by a
// credential helper (`credsStore` for all registries, `credHelpers` per registry) that is the
// `docker-credential-<name>` program on PATH, spoken to as docker does (get/store/erase with
// JSON on stdin). Every other key of the file is kept as it was.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../lib/atomic';
import { convertToHostname, INDEX_SERVER, registryKey, type AuthConfig } from '../lib/authConfig';

export type { AuthConfig };
export { convertToHostname, INDEX_SERVER, registryKey };

interface FileAuth { auth?: string; email?: string; identitytoken?: string; registrytoken?: string; username?: string; password?: string }

interface ConfigFile {
  auths?: Record<string, FileAuth>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function configDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

export class CredentialHelperError extends Error {}

export class DockerConfig {
  readonly file: string;
  private data: ConfigFile;

  constructor(readonly dir: string, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.file = path.join(dir, 'config.json');
    this.data = {};
    let raw: string | undefined;
    try {
      raw = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (raw !== undefined && raw.trim()) {
      try {
        this.data = JSON.parse(raw) as ConfigFile;
      } catch (e) {
        throw new Error(`loading config file: ${this.file}: ${(e as Error).message}`);
      }
    }
  }

  /** The helper that keeps `key`'s credentials, if any. */
  helperFor(key: string): string | undefined {
    const h = this.data.credHelpers?.[key] ?? this.data.credHelpers?.[convertToHostname(key)];
    return h || this.data.credsStore || undefined;
  }

  /** Credentials for a registry host (`127.0.0.1:5000`, `docker.io`), `{}` when there are none. */
  get(host: string): AuthConfig {
    const key = registryKey(host);
    const helper = this.helperFor(key);
    if (helper) return this.fromHelper(helper, key);
    const auths = this.data.auths ?? {};
    let entry = auths[key];
    let foundKey = key;
    if (!entry) {
      // Keys written as URLs (`https://host/v1/`) match their host, as docker reads them.
      for (const [k, v] of Object.entries(auths)) {
        if (convertToHostname(k) === convertToHostname(key)) { entry = v; foundKey = k; break; }
      }
    }
    if (!entry) return {};
    const out: AuthConfig = {};
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new Error(`invalid auth configuration file: ${this.file}`);
      out.username = decoded.slice(0, i);
      out.password = decoded.slice(i + 1);
    } else {
      if (entry.username) out.username = entry.username;
      if (entry.password) out.password = entry.password;
    }
    if (!out.password) delete out.password;
    out.serveraddress = foundKey;
    if (entry.identitytoken) out.identitytoken = entry.identitytoken;
    if (entry.registrytoken) out.registrytoken = entry.registrytoken;
    return out;
  }

  /**
   * Every registry's credentials, by the key they are stored under (what docker build sends
   * as X-Registry-Config); a registry whose helper fails is left out.
   */
  all(): Record<string, AuthConfig> {
    const out: Record<string, AuthConfig> = {};
    for (const key of new Set([...Object.keys(this.data.auths ?? {}), ...Object.keys(this.data.credHelpers ?? {})])) {
      try {
        const a = this.get(key);
        if (Object.keys(a).some((k) => k !== 'serveraddress')) out[key] = a;
      } catch { /* as docker: skipped */ }
    }
    return out;
  }

  /** Stores credentials; returns true when they went to the file (unencrypted), false to a helper. */
  async store(serverAddress: string, a: AuthConfig): Promise<boolean> {
    const key = registryKey(serverAddress);
    const helper = this.helperFor(key);
    if (helper) {
      const secret = a.identitytoken || a.password || '';
      const username = a.identitytoken ? '<token>' : a.username ?? '';
      this.runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: secret }));
      // docker keeps an empty entry in the file so that `auths` lists the registry
      (this.data.auths ??= {})[key] = {};
      await this.save();
      return false;
    }
    const entry: FileAuth = { auth: Buffer.from(`${a.username ?? ''}:${a.identitytoken ? '' : a.password ?? ''}`).toString('base64') };
    if (a.identitytoken) entry.identitytoken = a.identitytoken;
    (this.data.auths ??= {})[key] = entry;
    await this.save();
    return true;
  }

  /** Removes credentials; false when there were none. */
  async erase(serverAddress: string): Promise<boolean> {
    const key = registryKey(serverAddress);
    const auths = this.data.auths ?? {};
    const keys = Object.keys(auths).filter((k) => k === key || convertToHostname(k) === convertToHostname(key));
    const helper = this.helperFor(key);
    let had = keys.length > 0;
    if (helper) {
      try {
        this.runHelper(helper, 'erase', key);
        had = true;
      } catch { /* not stored there */ }
    }
    if (!had) return false;
    for (const k of keys) delete auths[k];
    await this.save();
    return true;
  }

  private fromHelper(helper: string, key: string): AuthConfig {
    let out: string;
    try {
      out = this.runHelper(helper, 'get', key);
    } catch (e) {
      if (/credentials not found/i.test((e as Error).message)) return {};
      throw e;
    }
    const c = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!c.Username && !c.Secret) return {};
    if (c.Username === '<token>') return { identitytoken: c.Secret, serveraddress: key };
    return { username: c.Username, password: c.Secret, serveraddress: key };
  }

  private runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): string {
    const program = `docker-credential-${helper}`;
    const r = spawnSync(program, [action], { input, env: this.env, encoding: 'utf8' });
    if (r.error) {
      const why = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `exec: "${program}": executable file not found in $PATH` : r.error.message;
      throw new CredentialHelperError(`error ${action === 'get' ? 'getting' : action === 'store' ? 'storing' : 'erasing'} credentials - err: ${why}, out: \`\``);
    }
    if (r.status !== 0) {
      const text = (r.stdout || r.stderr || '').trim();
      throw new CredentialHelperError(text || `${program} ${action} exited with ${r.status}`);
    }
    return r.stdout;
  }

  private async save(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, JSON.stringify(this.data, null, '\t'), 0o600);
  }
}

/** X-Registry-Auth (or, given a map by registry, X-Registry-Config): URL-safe base64 of the JSON (`e30=` for `{}`). */
export function encodeAuthHeader(a: AuthConfig | Record<string, AuthConfig>): string {
  return Buffer.from(JSON.stringify(a)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
