// The registry side of the daemon in one object: transport (insecure registries), auth,
// mirrors, shared blob downloads. The engine asks it to resolve a reference to the platform's
// manifest (mirrors first for Docker Hub names, falling back), to check a login, and to fetch
// blobs.
import { DEFAULT_TAG, type Reference } from '../lib/reference';
import type { ContentStore } from '../store/content/types';
import type { AuthConfig } from './auth';
import { RegistryClient } from './client';
import { fetchManifest, manifestKind, resolveManifest, schema1Refusal, type FetchedManifest, type ResolvedImage, type ResolveOptions } from './manifests';
import { BlobDownloads } from './pull';
import { DOCKER_HUB_HOST, Resolver, type Endpoint } from './resolver';

export interface DistributionOptions {
  insecureRegistries?: string[];
  registryMirrors?: string[];
  maxConcurrentDownloads?: number;
}

export class Distribution {
  readonly client: RegistryClient;
  readonly resolver: Resolver;
  readonly downloads: BlobDownloads;

  constructor(content: ContentStore, readonly opts: DistributionOptions = {}) {
    this.client = new RegistryClient({ insecureRegistries: opts.insecureRegistries });
    this.resolver = new Resolver(opts.registryMirrors);
    for (const m of this.resolver.mirrors) this.client.transport.pinScheme(m.host, m.scheme ?? 'https');
    this.downloads = new BlobDownloads(this.client, content, opts.maxConcurrentDownloads ?? 3);
  }

  /** Credentials for an endpoint: the user's for the reference's own registry, none for a mirror. */
  credsFor(ep: Endpoint, creds?: AuthConfig): AuthConfig | undefined {
    return ep.mirror ? undefined : creds;
  }

  /** The top-level manifest `ref` names (tag, else digest), from the first endpoint that has it. */
  async fetchTop(ref: Reference, creds?: AuthConfig, signal?: AbortSignal): Promise<{ top: FetchedManifest; endpoint: Endpoint }> {
    const reference = ref.digest ?? ref.tag ?? DEFAULT_TAG;
    const eps = this.resolver.endpoints(ref);
    let lastErr: unknown;
    for (const ep of eps) {
      try {
        // by digest when one is given (a tag@digest pull is verified against the digest)
        const top = await fetchManifest(this.client, ep, ref, reference, this.credsFor(ep, creds), signal);
        return { top, endpoint: ep };
      } catch (e) {
        lastErr = e;
        if (!ep.mirror) break;
      }
    }
    throw lastErr;
  }

  /** The platform's image manifest for `ref`. */
  async resolve(ref: Reference, opts: ResolveOptions = {}): Promise<ResolvedImage> {
    const { top, endpoint } = await this.fetchTop(ref, opts.creds, opts.signal);
    if (manifestKind(top) === 'schema1') throw schema1Refusal(ref);
    return resolveManifest(this.client, endpoint, ref, top, { ...opts, creds: this.credsFor(endpoint, opts.creds) });
  }

  /**
   * `docker login`: the registry named by `serveraddress` (a host, a URL, Docker Hub's
   * `https://index.docker.io/v1/`) accepts `creds`. UnauthorizedError in Docker's words otherwise.
   */
  async login(serveraddress: string, creds: AuthConfig): Promise<void> {
    let host = serveraddress.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (host === '' || host === 'index.docker.io' || host === 'docker.io' || host === 'registry-1.docker.io') host = DOCKER_HUB_HOST;
    await this.client.login(host, creds);
  }

  close(): void { this.client.close(); }
}
