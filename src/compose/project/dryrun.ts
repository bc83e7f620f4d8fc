// compose's --dry-run: the engine runs as usual against a client whose reads reach berthd and
// whose writes only pretend (compose v2's DryRunClient): a container "made" is named by its name,
// one berthd does not know inspects as running and healthy, pulls and builds stream nothing, and
// an image "pulled" or "built" inspects as present. The progress lines say DRY-RUN MODE.
import type { Client, JsonStream } from '../../client/client';
import { isNotFound } from '../../client/errors';
import type { ContainerInspect, ImageInspect, JsonMessage } from '../../client/types';
import { ComposeError } from './errors';

const emptyStream = <T>(): JsonStream<T> => ({
  close: () => undefined,
  // eslint-disable-next-line require-yield
  async *[Symbol.asyncIterator]() { /* nothing to report */ },
});

/** `client` with every write turned into a pretence; reads pass through. */
export function dryRunClient(client: Client): Client {
  const made = new Set<string>();
  const images = new Set<string>();
  const fake: Partial<Record<keyof Client, unknown>> = {
    async containerCreate(_body: unknown, opts: { name?: string } = {}) {
      const id = opts.name ?? `dryRunId${made.size}`;
      made.add(id);
      return { Id: id, Warnings: [] };
    },
    async containerInspect(id: string): Promise<ContainerInspect> {
      try {
        return await client.containerInspect(id);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        // what this run "made": running (for --wait) and healthy (for service_healthy), as compose's
        return { Id: id, Name: `/${id}`, State: { Status: 'running', Running: true, Health: { Status: 'healthy' } }, Config: { Labels: {} }, Mounts: [] } as unknown as ContainerInspect;
      }
    },
    async imageInspect(ref: string): Promise<ImageInspect> {
      try {
        return await client.imageInspect(ref);
      } catch (e) {
        if (!isNotFound(e) || !images.has(ref)) throw e;
        return { Id: `sha256:dryrun-${ref}`, RepoTags: [ref] } as unknown as ImageInspect;
      }
    },
    async imagePull(repo: string, tag?: string) { images.add(tag ? `${repo}:${tag}` : repo); images.add(repo); return emptyStream<JsonMessage>(); },
    async imageBuild(_body: unknown, opts: { tags?: string[] } = {}) { for (const t of opts.tags ?? []) images.add(t); return emptyStream<JsonMessage>(); },
    async imagePush() { return emptyStream<JsonMessage>(); },
    async imageRemove() { return []; },
    async containerStart() { return true; },
    async containerStop() { return undefined; },
    async containerKill() { return undefined; },
    async containerRestart() { return undefined; },
    async containerRemove() { return undefined; },
    async containerRename() { return undefined; },
    async containerPause() { return undefined; },
    async containerUnpause() { return undefined; },
    async networkCreate(body: { Name?: string }) { return { Id: body.Name ?? 'dryRunId' }; },
    async networkConnect() { return undefined; },
    async networkDisconnect() { return undefined; },
    async networkRemove() { return undefined; },
    async volumeCreate(body: { Name?: string }) { return { Name: body.Name ?? 'dryRunId', Driver: 'local', Mountpoint: '', Labels: {}, Scope: 'local', Options: {} }; },
    async volumeRemove() { return undefined; },
    async containerAttach() { throw new ComposeError('interactive run is not supported in dry-run mode'); },
    // an attached up waits on its containers before attaching: the same answer
    async containerWait() { throw new ComposeError('interactive run is not supported in dry-run mode'); },
  };
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in fake) return fake[prop as keyof Client];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** compose's prefix of every progress line in dry-run mode. */
export const DRY_RUN_PREFIX = ' DRY-RUN MODE - ';
